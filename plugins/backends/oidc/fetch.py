"""Back-channel HTTP to a source: timeouts, no redirects, bounded bodies, JSON objects only.

A source is a partner, not a trusted peer: a slow, huge or redirecting answer
must end the login cleanly (``source_indisponible`` / ``reponse_source_invalide``),
never hang a worker or fill its memory.

TLS is verified against the source's own certificate authorities when its partner file
names them (``tls_ca_file``: administrations behind a private CA), against the system's
otherwise: per call (requests' ``verify``), never process-wide (``REQUESTS_CA_BUNDLE``
would make every source trust every private CA). :class:`Trust` is a required argument
of :func:`call_json`, so no call to a source can forget it. A failed handshake says
"TLS", which CA store was used, and the fix.
"""

from __future__ import annotations

import json
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
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


@dataclass(frozen=True)
class Trust:
    """The certificate authorities one source's TLS is verified against."""

    #: Absolute path of a PEM bundle (the partner file's ``tls_ca_file``); ``None``: the
    #: system's store.
    ca_file: str | None = None

    @classmethod
    def of(cls, config: Mapping[str, Any], name: str) -> Trust:
        """From a backend configuration; a CA file that is not there stops the start-up."""
        ca_file = config.get("tls_ca_file")
        if ca_file is None:
            return SYSTEM_STORE
        if not isinstance(ca_file, str) or not Path(ca_file).is_absolute():
            raise ValueError(f"backend {name}: tls_ca_file must be an absolute path")
        if not Path(ca_file).is_file():
            raise ValueError(f"backend {name}: tls_ca_file {ca_file} not found")
        return cls(ca_file)

    @property
    def verify(self) -> str | bool:
        """requests' ``verify``: this file only, or the system store."""
        return self.ca_file or True

    def described(self) -> str:
        if self.ca_file:
            return f"checked against tls_ca_file {self.ca_file}: is it the CA of this source?"
        return ("checked against the system store: if the source uses a private CA, set "
                "tls_ca_file in its partner file")


SYSTEM_STORE = Trust()
#: How many wrapped exceptions are looked through for the certificate error.
_MAX_CAUSES = 16


def _media_type(header: str) -> str:
    return header.split(";", 1)[0].strip().lower()


def _certificate_problem(exc: BaseException) -> str:
    """OpenSSL's reason (``unable to get local issuer certificate``, a hostname mismatch…),
    found among the exceptions requests and urllib3 wrap it in."""
    pending: list[BaseException] = [exc]
    for _ in range(_MAX_CAUSES):
        if not pending:
            break
        item = pending.pop(0)
        if isinstance(item, ssl.SSLCertVerificationError):
            return str(item.verify_message or "certificate not trusted")[:120]
        pending += [c for c in (*item.args, item.__cause__, item.__context__,
                                getattr(item, "reason", None)) if isinstance(c, BaseException)]
    return "handshake failed"


def call_json(method: str, url: str, *, what: str, trust: Trust,
              max_bytes: int = MAX_JSON_BYTES, **kwargs: Any) -> JsonReply:
    """Call ``url`` and parse a JSON object; 4xx answers are returned, 5xx and network errors
    raise :class:`SourceUnavailable`, anything unreadable :class:`InvalidSourceResponse`."""
    host = urlsplit(url).netloc
    try:
        with requests.request(method, url, timeout=TIMEOUT, allow_redirects=False, stream=True,
                              verify=trust.verify, **kwargs) as resp:
            status = resp.status_code
            media_type = _media_type(resp.headers.get("Content-Type", ""))
            body = resp.raw.read(max_bytes + 1, decode_content=True)
    except requests.exceptions.SSLError as exc:
        raise SourceUnavailable(f"{what}: TLS with {host} failed "
                                f"({_certificate_problem(exc)}), {trust.described()}") from exc
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
