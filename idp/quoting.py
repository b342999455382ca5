"""Quoting a value someone else sent, for a log line or an error detail.

Sources, services and browsers control what they send; some of it must be named for an
administrator to act (the ``acr`` a source stated, the algorithm it used, the status it
answered). It goes into our logs only through :func:`quoted`: bounded, every character
outside printable ASCII escaped (no control characters, no right-to-left overrides), and
quoted, so a log line stays one readable line whatever the peer sends. Never for values
about the citizen: those never reach a log.
"""

from __future__ import annotations

#: How much of a foreign value a log line carries.
MAX_QUOTED = 80


def quoted(value: object, limit: int = MAX_QUOTED) -> str:
    """``'value'`` (or the type's name for a non-string), at most ``limit`` characters of it."""
    if not isinstance(value, str):
        return f"<{type(value).__name__}>"
    text = ascii(value[:limit])
    return text if len(value) <= limit else f"{text}…"
