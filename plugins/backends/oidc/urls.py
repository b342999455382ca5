"""Which URLs of a source we agree to call: https only, plain http for loopback in dev/demo.

Every endpoint a provider publishes goes through :func:`checked_url`, so a
metadata document cannot send us (and the citizen's tokens) to a cleartext URL.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from .errors import InvalidSourceResponse


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(url: object, allow_loopback_http: bool, what: str) -> str:
    """Return ``url`` if we may call it, else raise :class:`InvalidSourceResponse`."""
    if not isinstance(url, str) or not url or len(url) > 2048:
        raise InvalidSourceResponse(f"{what}: missing or not a URL")
    parts = urlsplit(url)
    if parts.fragment or parts.username or parts.password or not parts.hostname:
        raise InvalidSourceResponse(f"{what}: URL with fragment, credentials or no host")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_loopback_http and is_loopback(parts.hostname):
        return url
    raise InvalidSourceResponse(f"{what}: only https URLs are allowed ({parts.scheme}://"
                                f"{parts.hostname})")
