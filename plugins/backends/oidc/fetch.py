"""Back-channel HTTP to a source: timeouts, no redirects, bounded bodies, JSON objects only.

A source is a partner, not a trusted peer: a slow, huge or redirecting answer
must end the login cleanly (``source_indisponible`` / ``reponse_source_invalide``),
never hang a worker or fill its memory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3

from .errors import InvalidSourceResponse, SourceUnavailable

#: (connect, read) seconds.
TIMEOUT = (5, 10)
#: Largest JSON document accepted from a source (metadata, JWKS, tokens, userinfo).
MAX_JSON_BYTES = 256 * 1024


@dataclass(frozen=True)
class JsonReply:
    status: int
    media_type: str
    data: dict[str, Any]


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def call_json(method: str, url: str, *, what: str, max_bytes: int = MAX_JSON_BYTES,
              **kwargs: Any) -> JsonReply:
    """Call ``url`` and parse a JSON object; 4xx answers are returned, 5xx and network errors
    raise :class:`SourceUnavailable`, anything unreadable :class:`InvalidSourceResponse`."""
    host = urlsplit(url).netloc
    try:
        with requests.request(method, url, timeout=TIMEOUT, allow_redirects=False, stream=True,
                              **kwargs) as resp:
            status = resp.status_code
            media_type = _media_type(resp.headers.get("Content-Type", ""))
            body = resp.raw.read(max_bytes + 1, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise SourceUnavailable(f"{what}: {host} unreachable ({type(exc).__name__})") from exc
    if status >= 500:
        raise SourceUnavailable(f"{what}: {host} answered HTTP {status}")
    if 300 <= status < 400:
        raise InvalidSourceResponse(f"{what}: {host} answered a redirect (HTTP {status})")
    if len(body) > max_bytes:
        raise InvalidSourceResponse(f"{what}: answer larger than {max_bytes} bytes")
    try:
        data = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise InvalidSourceResponse(f"{what}: answer is not JSON (HTTP {status})") from exc
    if not isinstance(data, dict):
        raise InvalidSourceResponse(f"{what}: answer is not a JSON object")
    return JsonReply(status, media_type, data)
