"""Errors that end a login on a page of ours, never on a partner's URL.

A plugin raises :class:`FlowError` with a *code*; the application renders the
French (or English) explanation for that code, with the HTTP status, and logs
the code and the non-personal ``detail`` only. Nothing about the citizen may go
in ``detail``.
"""

from __future__ import annotations


class FlowError(Exception):
    """A login cannot continue; the usager sees the page for ``code``."""

    def __init__(self, code: str, status: int = 400, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.status = status
        self.detail = detail
