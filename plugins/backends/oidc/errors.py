"""The two ways a source can fail a login, before they become a :class:`FlowError`.

Messages are technical and never carry personal data (no tokens, no claims):
they end up in ``FlowError.detail``, which is logged.
"""

from __future__ import annotations


class SourceUnavailable(Exception):
    """The source could not be reached or answered with a server error (HTTP 5xx)."""


class InvalidSourceResponse(Exception):
    """The source answered, but the answer cannot be trusted or understood."""
