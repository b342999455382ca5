"""Was this form posted by a page of ours? The second lock on every state-changing POST.

The CSRF token proves the poster saw our form; this check proves the browser says the post
comes from our own origin, so a token leaked to another site (a log, a screenshot, a
shared computer's history) is still useless there.

Browsers state it two ways, and we read both:

* ``Sec-Fetch-Site`` (every current browser): only ``same-origin`` passes. ``same-site``
  does not: a sibling host under the same domain is another party.
* ``Origin``: when present and not ``null``, it must be exactly our origin. Our pages send
  ``Referrer-Policy: no-referrer``, under which Chromium posts ``Origin: null`` even to its
  own origin; ``null`` therefore passes only when ``Sec-Fetch-Site`` vouches for the post
  (a sandboxed frame or a ``data:`` page also says ``null``, and has no such voucher).

A client that sends neither header is no browser that could be driven by another site: it
passes here and still needs the CSRF token.
"""

from __future__ import annotations

from typing import Any

from .form_targets import origin


def posted_from(context: Any, base_url: str) -> bool:
    """Whether the request's ``Sec-Fetch-Site`` / ``Origin`` say it comes from ``base_url``'s
    origin (see the module docstring for the rules)."""
    headers = getattr(context, "http_headers", None) or {}
    site = headers.get("HTTP_SEC_FETCH_SITE")
    stated = headers.get("HTTP_ORIGIN")
    if site is not None and site != "same-origin":
        return False
    if stated is None:
        return True
    if stated == "null":
        return site == "same-origin"
    return stated == origin(base_url)
