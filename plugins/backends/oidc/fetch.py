"""Back-channel HTTP to a source: timeouts, no redirects, bounded bodies, JSON objects only.

A source is a partner, not a trusted peer: a slow, huge or redirecting answer
must end the login cleanly (``source_indisponible`` / ``reponse_source_invalide``),
never hang a worker or fill its memory.

TLS is verified against the source's own certificate authorities when its partner file
names them (``tls_ca_file``: administrations behind a private CA), against the system's
otherwise (the CA bundle requests ships, as before): per pool, never process-wide
(``REQUESTS_CA_BUNDLE`` would make every source trust every private CA). :class:`Trust` is a
required argument of :func:`call_json`, so no call to a source can forget it. A failed
handshake says "TLS", which CA store was used, and the fix.

Calls go through urllib3 directly (requests' session layer cost a third of a login's HTTP
time: ``bench/profile.py``). Connections are kept alive: one :class:`urllib3.PoolManager`
per :class:`Trust` and proxy (so a connection opened under one source's CA is never reused
under another's), per process (forgotten in a forked child: a gunicorn worker never shares
a socket with the master or its siblings), with a bounded pool (:data:`POOL_HOSTS` hosts,
:data:`POOL_PER_HOST` connections each), no redirects followed, no retries (but one, for a
GET whose kept-alive connection the source had just closed: :func:`_send`), and no cookies
at all (urllib3 keeps none: a session cookie of one citizen's token call never rides along
another's). Discovery, JWKS, token and userinfo calls to the same source then share one TLS
connection instead of a handshake each. Proxies come from the environment (``HTTPS_PROXY``,
``NO_PROXY``…), read once per host.
"""

from __future__ import annotations

import functools
import json
import os
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import requests.certs
import requests.utils
import urllib3

from idp import correlation
from idp.metrics.definitions import SOURCE_CALL_SECONDS, SOURCE_ERRORS
from idp.metrics.labels import OTHER, Labels

from .errors import InvalidSourceResponse, SourceUnavailable

#: Kinds of back-channel calls (``what``), as metrics label them.
CALLS = ("discovery", "jwks", "token", "userinfo", "logout")

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
    def ca_bundle(self) -> str:
        """The CA file TLS is verified against: this source's only, or the system store
        (the bundle requests ships)."""
        return self.ca_file or requests.certs.where()

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

_pools: dict[tuple[Trust, str | None], urllib3.PoolManager] = {}
_pools_lock = threading.Lock()


def pool_for(trust: Trust, proxy: str | None = None) -> urllib3.PoolManager:
    """This process's keep-alive pools for the sources verified against ``trust``, reached
    directly or through ``proxy``."""
    pool = _pools.get((trust, proxy))
    if pool is not None:
        return pool
    with _pools_lock:
        pool = _pools.get((trust, proxy))
        if pool is None:
            settings: dict[str, Any] = {
                "num_pools": POOL_HOSTS, "maxsize": POOL_PER_HOST, "block": False,
                "retries": False, "timeout": urllib3.Timeout(connect=TIMEOUT[0],
                                                             read=TIMEOUT[1]),
                "cert_reqs": "CERT_REQUIRED", "ca_certs": trust.ca_bundle}
            pool = urllib3.ProxyManager(proxy, **settings) if proxy \
                else urllib3.PoolManager(**settings)
            _pools[(trust, proxy)] = pool
    return pool


@functools.lru_cache(maxsize=64)
def _proxies(scheme: str, netloc: str) -> dict[str, str]:
    """The proxy the environment (``HTTPS_PROXY``, ``NO_PROXY``...) names for this host."""
    return requests.utils.get_environ_proxies(f"{scheme}://{netloc}/")


def _forget_pools() -> None:
    # In a forked child: the parent's sockets are not ours to use (nor to close).
    global _pools_lock
    _pools.clear()
    _pools_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pools)


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


def _read(resp: urllib3.BaseHTTPResponse, max_bytes: int) -> bytes:
    """At most ``max_bytes + 1`` bytes of the body; the connection goes back to the pool,
    kept alive when the body was read to its end, closed (and replaced) otherwise."""
    complete = False
    try:
        answer = resp.read(max_bytes + 1, decode_content=True)
        complete = len(answer) <= max_bytes
        return answer
    finally:
        if not complete:
            resp.close()
        resp.release_conn()


def _send(pool: urllib3.PoolManager, method: str, url: str, *, body: str | None,
          headers: Mapping[str, str]) -> urllib3.BaseHTTPResponse:
    """Send the request; a GET whose connection the source closed before answering is sent
    once more, on a new connection.

    A kept-alive connection can be closed by the source (its idle timeout) just as a request
    goes out on it: urllib3 only notices a close that already arrived. RFC 9110 9.2.2 allows
    an idempotent request to be retried then; a POST (the token request spends a one-time
    code) never is, and neither is a timeout (a silent source must fail fast, not twice).
    """
    try:
        return pool.request(method, url, body=body, headers=headers, redirect=False,
                            preload_content=False)
    except urllib3.exceptions.ProtocolError:
        if method != "GET":
            raise
    return pool.request(method, url, body=body, headers=headers, redirect=False,
                        preload_content=False)


def call_json(method: str, url: str, *, what: str, trust: Trust,
              max_bytes: int = MAX_JSON_BYTES, data: Mapping[str, str] | None = None,
              headers: Mapping[str, str] | None = None) -> JsonReply:
    """Call ``url`` (``data``: a form, URL-encoded) and parse a JSON object; 4xx answers are
    returned, 5xx and network errors raise :class:`SourceUnavailable`, anything unreadable
    :class:`InvalidSourceResponse`."""
    parts = urlsplit(url)
    host = parts.netloc
    sent = dict(headers or {})
    body = None
    if data is not None:
        body = urlencode(data)
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
    pool = pool_for(trust, _proxies(parts.scheme, host).get(parts.scheme))
    # Labels: the source SATOSA routed this request to (a registry id) and the call's kind.
    labels = (correlation.source() or OTHER, Labels.one_of(what, CALLS))
    started = time.perf_counter()
    try:
        resp = _send(pool, method, url, body=body, headers=sent)
        status = resp.status
        media_type = _media_type(resp.headers.get("Content-Type", ""))
        answer = _read(resp, max_bytes)
    except urllib3.exceptions.SSLError as exc:
        SOURCE_ERRORS.labels(*labels).inc()
        raise SourceUnavailable(f"{what}: TLS with {host} failed "
                                f"({_certificate_problem(exc)}), {trust.described()}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        SOURCE_ERRORS.labels(*labels).inc()
        raise SourceUnavailable(f"{what}: {host} unreachable ({type(exc).__name__})") from exc
    finally:
        SOURCE_CALL_SECONDS.labels(*labels).observe(time.perf_counter() - started)
    if status >= 500:
        SOURCE_ERRORS.labels(*labels).inc()
        raise SourceUnavailable(f"{what}: {host} answered HTTP {status}")
    if 300 <= status < 400:
        raise InvalidSourceResponse(f"{what}: {host} answered a redirect (HTTP {status})")
    if len(answer) > max_bytes:
        raise InvalidSourceResponse(f"{what}: answer larger than {max_bytes} bytes")
    try:
        parsed = json.loads(answer)
    except (ValueError, RecursionError) as exc:
        raise InvalidSourceResponse(f"{what}: answer is not JSON (HTTP {status})") from exc
    if not isinstance(parsed, dict):
        raise InvalidSourceResponse(f"{what}: answer is not a JSON object")
    return JsonReply(status, media_type, parsed)
