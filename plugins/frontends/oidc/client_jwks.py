"""A ``private_key_jwt`` client's public keys: inline in its partner file, or at its jwks_uri.

These keys are the only ones a client assertion is ever verified with. A key is
chosen by the assertion's algorithm (its key type must match) and ``kid``; keys
a JWT header points to are never looked at (see :mod:`.client_assertion`).

Only public signature keys are loaded: members of a private key, symmetric
keys, curves other than P-256 and RSA keys under 2048 bits are skipped, so a
partner cannot, by mistake, publish something we would accept an HMAC with.

A fetched key set is cached per process for :data:`JWKS_TTL`. An unknown
``kid`` (the partner rotated its key) triggers one refetch, at most every
:data:`REFETCH_INTERVAL` seconds: anyone can send an assertion naming a random
``kid``, and must not be able to make us hammer the partner's server. A failed
fetch is not retried before that interval either, and never falls back on
stale keys: a partner that withdraws a key expects it to stop working.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import requests
import urllib3
from cryptojwt.exception import JWKESTException
from cryptojwt.jwk import JWK
from cryptojwt.jwk.jwk import key_from_jwk_dict

from idp.partners.registry import is_loopback

logger = logging.getLogger("ncconnect.oidc")

#: Accepted assertion algorithms and the key type each needs.
KEY_TYPE = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
MIN_RSA_BITS = 2048
#: JWK members only a private (or symmetric) key has.
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
#: A partner's key set is a handful of keys; more is a mistake or an attack.
MAX_KEYS = 20

#: How long a fetched key set is used before being fetched again (seconds).
JWKS_TTL = 3600
#: Least time between two fetches caused by an unknown kid or by a failure (seconds).
REFETCH_INTERVAL = 30
#: (connect, read) timeouts of one fetch, and the bound on the whole download (seconds).
TIMEOUT = (3, 5)
FETCH_DEADLINE = 10
#: Largest key set document accepted.
MAX_JWKS_BYTES = 64 * 1024


class KeysUnavailable(Exception):
    """The client's key set could not be obtained; the client cannot be authenticated."""


def _loadable(item: Any) -> bool:
    if not isinstance(item, dict) or item.get("kty") not in ("RSA", "EC"):
        return False
    if PRIVATE_MEMBERS & item.keys():
        return False
    if item.get("use", "sig") != "sig" or item.get("alg", "RS256") not in KEY_TYPE:
        return False
    kid = item.get("kid")
    return (kid is None or isinstance(kid, str)) and (
        item["kty"] != "EC" or item.get("crv") == "P-256")


def public_keys(jwks: Any, where: str) -> list[JWK]:
    """The usable public signature keys of a JWK Set; anything else is skipped (and logged)."""
    items = jwks.get("keys") if isinstance(jwks, dict) else None
    if not isinstance(items, list):
        raise KeysUnavailable(f"{where}: not a JWK Set (no 'keys' list)")
    out: list[JWK] = []
    for item in items[:MAX_KEYS]:
        kid = str(item.get("kid")) if isinstance(item, dict) else None
        if not _loadable(item):
            logger.warning("client jwks: skipping an unusable key",
                           extra={"where": where, "kid": kid})
            continue
        try:
            key = key_from_jwk_dict(dict(item), private=False)
        except (JWKESTException, ValueError, KeyError, TypeError):
            logger.warning("client jwks: skipping a malformed key",
                           extra={"where": where, "kid": kid})
            continue
        if key.kty == "RSA" and key.public_key().key_size < MIN_RSA_BITS:
            logger.warning("client jwks: skipping a short RSA key",
                           extra={"where": where, "kid": kid})
            continue
        out.append(key)
    return out


def select_key(keys: list[JWK], alg: str, kid: str | None) -> JWK | None:
    """The one key that may verify ``alg`` with this ``kid``; ``None`` if none or ambiguous.

    Without a ``kid``, only a key set with a single key of the right type is
    unambiguous; with one, exactly one key of the right type must carry it.
    """
    usable = [k for k in keys if k.kty == KEY_TYPE[alg] and (not k.alg or k.alg == alg)]
    if kid is not None:
        usable = [k for k in usable if k.kid == kid]
    return usable[0] if len(usable) == 1 else None


def check_jwks_uri(url: str, allow_loopback_http: bool) -> None:
    """https only; plain http only towards loopback, and only in demo mode.

    The partner registry checked this already; the frontend checks again so that
    no configuration path can make it fetch keys in cleartext over the network.
    """
    parts = urlsplit(url)
    if parts.fragment or parts.username or parts.password:
        raise ValueError(f"jwks_uri {url!r}: no fragment or credentials in the URL")
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and allow_loopback_http and is_loopback(url):
        return
    raise ValueError(f"jwks_uri {url!r} must use https (loopback http only in demo mode)")


class ClientKeys:
    """The keys of one client; :meth:`key_for` is all an assertion verifier needs."""

    def key_for(self, alg: str, kid: str | None) -> JWK | None:
        raise NotImplementedError


class InlineKeys(ClientKeys):
    """Keys written in the partner file: loaded once, at start-up."""

    def __init__(self, jwks: Any, client_id: str) -> None:
        try:
            self.keys = public_keys(jwks, f"client {client_id} jwks")
        except KeysUnavailable as exc:
            raise ValueError(str(exc)) from exc
        if not self.keys:
            raise ValueError(f"oidc client {client_id}: jwks holds no usable public signature "
                             "key (RSA >= 2048 bits or EC P-256)")

    def key_for(self, alg: str, kid: str | None) -> JWK | None:
        return select_key(self.keys, alg, kid)


def fetch_jwks(url: str) -> dict[str, Any]:
    """GET the key set: no redirects, bounded in size and in time, a JSON object or nothing."""
    host = urlsplit(url).netloc
    deadline = time.monotonic() + FETCH_DEADLINE
    body = bytearray()
    try:
        with requests.get(url, timeout=TIMEOUT, allow_redirects=False, stream=True,
                          headers={"Accept": "application/jwk-set+json, application/json",
                                   # The size bound counts decoded bytes: ask for none to decode.
                                   "Accept-Encoding": "identity"}) as resp:
            if resp.status_code != 200:
                raise KeysUnavailable(f"jwks_uri {host}: HTTP {resp.status_code}")
            for chunk in resp.iter_content(chunk_size=8192):
                body += chunk
                if len(body) > MAX_JWKS_BYTES:
                    raise KeysUnavailable(f"jwks_uri {host}: larger than {MAX_JWKS_BYTES} bytes")
                if time.monotonic() > deadline:
                    raise KeysUnavailable(f"jwks_uri {host}: download too slow")
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise KeysUnavailable(f"jwks_uri {host}: unreachable ({type(exc).__name__})") from exc
    try:
        data = json.loads(bytes(body))
    except (ValueError, RecursionError) as exc:
        raise KeysUnavailable(f"jwks_uri {host}: not JSON") from exc
    if not isinstance(data, dict):
        raise KeysUnavailable(f"jwks_uri {host}: not a JSON object")
    return data


class RemoteKeys(ClientKeys):
    """Keys published at the client's jwks_uri: fetched on first use, cached per process.

    Fetches are serialised: threads that need the keys while one fetch is under
    way wait for it and use its result instead of fetching again.
    """

    def __init__(self, url: str, ttl: int = JWKS_TTL, refetch_interval: float = REFETCH_INTERVAL,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.url = url
        self.ttl = ttl
        self.refetch_interval = refetch_interval
        self.clock = clock
        self._state = threading.Lock()
        self._fetching = threading.Lock()
        self._keys: list[JWK] = []
        self._fetched_at: float | None = None
        self._attempted_at: float | None = None

    def _cached(self) -> list[JWK] | None:
        """The cached keys while fresh, ``None`` once older than the TTL (or never fetched)."""
        with self._state:
            if self._fetched_at is None or self.clock() - self._fetched_at >= self.ttl:
                return None
            return list(self._keys)

    def _refresh(self, unknown_kid: bool) -> list[JWK]:
        """Fetch again, unless the keys are fresh (and no kid is missing) or we fetched lately."""
        with self._fetching:
            cached = self._cached()
            if cached is not None and not unknown_kid:
                return cached  # another thread fetched while we waited
            now = self.clock()
            if self._attempted_at is not None and now - self._attempted_at < self.refetch_interval:
                if cached is not None:
                    return cached
                raise KeysUnavailable("jwks_uri: last fetch failed, not retried yet")
            self._attempted_at = now
            try:
                keys = public_keys(fetch_jwks(self.url), "jwks_uri")
            except KeysUnavailable as exc:
                logger.warning("client jwks: fetch failed", extra={"reason": str(exc)})
                raise
            with self._state:
                self._keys, self._fetched_at = keys, self.clock()
            return keys

    def key_for(self, alg: str, kid: str | None) -> JWK | None:
        keys = self._cached()
        if keys is None:
            keys = self._refresh(unknown_kid=False)
        key = select_key(keys, alg, kid)
        if key is None and kid is not None:
            key = select_key(self._refresh(unknown_kid=True), alg, kid)
        return key


def client_keys(client_id: str, jwks: Any, jwks_uri: Any,
                allow_loopback_http: bool) -> ClientKeys:
    """The key source a partner entry names: exactly one of inline ``jwks`` or ``jwks_uri``."""
    if (jwks is None) == (jwks_uri is None):
        raise ValueError(f"oidc client {client_id}: private_key_jwt needs exactly one of "
                         "jwks or jwks_uri")
    if jwks is not None:
        return InlineKeys(jwks, client_id)
    if not isinstance(jwks_uri, str):
        raise ValueError(f"oidc client {client_id}: jwks_uri must be a URL")
    try:
        check_jwks_uri(jwks_uri, allow_loopback_http)
    except ValueError as exc:
        raise ValueError(f"oidc client {client_id}: {exc}") from exc
    return RemoteKeys(jwks_uri)
