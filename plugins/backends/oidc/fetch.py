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

Connections are kept alive: one :class:`requests.Session` per :class:`Trust` (so a
connection opened under one source's CA is never reused under another's), per process
(forgotten in a forked child: a gunicorn worker never shares a socket with the master or
its siblings), with a bounded pool (:data:`POOL_HOSTS` hosts, :data:`POOL_PER_HOST`
connections each), no retries, and no cookie kept between calls (a session cookie of one
citizen's token call must never ride along another's). Discovery, JWKS, token and userinfo
calls to the same source then share one TLS connection instead of a handshake each.
"""

from __future__ import annotations

import functools
import http.cookiejar
import json
import os
import ssl
import threading
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
#: Keep-alive pool bounds of one :class:`Trust`'s session: hosts, and connections per host
#: (a sync gunicorn worker uses one at a time; threads beyond it open, then drop, extras).
POOL_HOSTS = 8
POOL_PER_HOST = 4

_sessions: dict[Trust, requests.Session] = {}
_sessions_lock = threading.Lock()


class _NoCookies(http.cookiejar.DefaultCookiePolicy):
    """Refuses every cookie: calls to a source never carry state from an earlier call."""

    def set_ok(self, cookie, request) -> bool:  # noqa: ARG002 - the policy's signature
        return False

    def return_ok(self, cookie, request) -> bool:  # noqa: ARG002
        return False


def session_for(trust: Trust) -> requests.Session:
    """This process's keep-alive session for the sources verified against ``trust``."""
    session = _sessions.get(trust)
    if session is not None:
        return session
    with _sessions_lock:
        session = _sessions.get(trust)
        if session is None:
            session = requests.Session()
            # Nothing from the environment per call: no REQUESTS_CA_BUNDLE (the CA is the
            # source's own, or the system's), no ~/.netrc credentials; proxies are read from
            # the environment once per host (:func:`_proxies`), not on every call.
            session.trust_env = False
            session.verify = trust.verify
            session.cookies.set_policy(_NoCookies())
            adapter = requests.adapters.HTTPAdapter(
                pool_connections=POOL_HOSTS, pool_maxsize=POOL_PER_HOST, max_retries=0,
                pool_block=False)
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            _sessions[trust] = session
    return session


@functools.lru_cache(maxsize=64)
def _proxies(scheme: str, netloc: str) -> dict[str, str]:
    """The proxy the environment (``HTTPS_PROXY``, ``NO_PROXY``...) names for this host."""
    return requests.utils.get_environ_proxies(f"{scheme}://{netloc}/")


def _forget_sessions() -> None:
    # In a forked child: the parent's sockets are not ours to use (nor to close).
    global _sessions_lock
    _sessions.clear()
    _sessions_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_sessions)


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
    parts = urlsplit(url)
    host = parts.netloc
    try:
        with session_for(trust).request(method, url, timeout=TIMEOUT, allow_redirects=False,
                                        stream=True, verify=trust.verify,
                                        proxies=_proxies(parts.scheme, host), **kwargs) as resp:
            status = resp.status_code
            media_type = _media_type(resp.headers.get("Content-Type", ""))
            body = resp.raw.read(max_bytes + 1, decode_content=True)
            if len(body) <= max_bytes:
                # Read to its end: the connection goes back to the pool (``close`` on
                # leaving the block would drop it); an oversized answer's is closed.
                resp.raw.release_conn()
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
