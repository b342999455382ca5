"""Headers every response of the proxy carries: framing, caching, content policy."""

from __future__ import annotations

from .autopost import FORM_ACTION_HEADER

_CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
    "form-action {form_action}; frame-ancestors 'none'; base-uri 'none'"
)


def secure_headers(headers: list[tuple[str, str]], https: bool) -> list[tuple[str, str]]:
    form_action = "'self'"
    out: list[tuple[str, str]] = []
    names = set()
    for name, value in headers:
        if name == FORM_ACTION_HEADER:
            form_action = f"'self' {value}"
            continue
        out.append((name, value))
        names.add(name.lower())
    out.append(("Content-Security-Policy", _CSP.format(form_action=form_action)))
    out.append(("X-Frame-Options", "DENY"))
    out.append(("X-Content-Type-Options", "nosniff"))
    out.append(("Referrer-Policy", "no-referrer"))
    if "cache-control" not in names:
        out.append(("Cache-Control", "no-store"))
        out.append(("Pragma", "no-cache"))
    if https:
        out.append(("Strict-Transport-Security", "max-age=31536000"))
    return out
