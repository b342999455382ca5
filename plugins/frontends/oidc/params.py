"""Bounded, type-checked reading of request parameters.

The application hands plugins dicts of strings, but a plugin must not trust
that: every value is checked for type and length before it is looked at, so a
hostile request ends as a protocol error and never as an exception.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from satosa.context import Context

from .errors import OAuthError

#: A form with more fields than this is not an OAuth request.
MAX_FIELDS = 50


class BadParameter(ValueError):
    """A parameter is present but not a string, or longer than its bound."""

    def __init__(self, name: str) -> None:
        super().__init__(f"parameter {name} is malformed or too long")
        self.name = name


def text(params: Mapping[str, Any], name: str, max_len: int) -> str | None:
    """The parameter as a string, ``None`` when absent or empty (RFC 6749 §3.1)."""
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > max_len:
        raise BadParameter(name)
    return value


def form_params(context: Context) -> dict[str, str]:
    """The form body of a POST, refusing repeated parameters (RFC 6749 §3.2).

    The application keeps the first of repeated keys; the raw body is read again
    here so that ``code=a&code=b`` is refused instead of silently half-read.
    """
    params = context.request if isinstance(context.request, dict) else {}
    raw = context.get_decoration("ncc.raw_body")
    if params and isinstance(raw, bytes | bytearray):
        try:
            pairs = parse_qsl(bytes(raw).decode("utf-8", errors="replace"),
                              keep_blank_values=True, max_num_fields=MAX_FIELDS,
                              errors="replace")
        except ValueError as exc:
            raise OAuthError("invalid_request", "too many parameters") from exc
        names = [k for k, _ in pairs]
        if len(names) != len(set(names)):
            raise OAuthError("invalid_request", "repeated parameter")
    return {k: v for k, v in params.items() if isinstance(k, str)}
