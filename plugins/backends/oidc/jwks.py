"""The provider's signing keys: its published JWKS, cached, refetched once for an unknown kid.

The key that verifies an ID token is chosen here, by ``kid``, among the public
keys of the provider's ``jwks_uri`` only. Keys a token header points to
(``jwk``, ``jku``, ``x5u``, ``x5c``) are never looked at, symmetric keys are
never loaded, and RSA keys shorter than 2048 bits are ignored.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from cryptojwt.exception import JWKESTException
from cryptojwt.jwk import JWK
from cryptojwt.jwk.jwk import key_from_jwk_dict

from .errors import InvalidSourceResponse
from .fetch import SYSTEM_STORE, Trust, call_json

logger = logging.getLogger("ncconnect.backend.oidc")

#: How long a fetched key set is used before being fetched again.
JWKS_TTL = 3600
#: Key type each accepted signing algorithm needs.
KEY_TYPE = {"RS256": "RSA", "PS256": "RSA", "ES256": "EC"}
MIN_RSA_BITS = 2048


def _usable(jwk: dict[str, Any], alg: str) -> bool:
    if jwk.get("kty") != KEY_TYPE[alg]:
        return False
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", alg) != alg:
        return False
    return alg != "ES256" or jwk.get("crv") == "P-256"


def load_keys(jwks: dict[str, Any], alg: str) -> list[JWK]:
    """Public keys of ``jwks`` that can verify ``alg`` signatures; malformed keys are skipped."""
    keys = jwks.get("keys")
    if not isinstance(keys, list):
        raise InvalidSourceResponse("jwks: no 'keys' list")
    out: list[JWK] = []
    for item in keys[:100]:
        if not isinstance(item, dict) or not _usable(item, alg):
            continue
        try:
            key = key_from_jwk_dict(item, private=False)
        except (JWKESTException, ValueError, KeyError, TypeError):
            logger.warning("jwks: skipping a malformed key", extra={"kid": str(item.get("kid"))})
            continue
        if KEY_TYPE[alg] == "RSA" and key.public_key().key_size < MIN_RSA_BITS:
            logger.warning("jwks: skipping a short RSA key", extra={"kid": str(item.get("kid"))})
            continue
        out.append(key)
    return out


class KeySet:
    """Per-process cache of one provider's signing keys for one algorithm."""

    def __init__(self, alg: str, ttl: int = JWKS_TTL,
                 clock: Callable[[], float] = time.monotonic,
                 trust: Trust = SYSTEM_STORE) -> None:
        if alg not in KEY_TYPE:
            raise ValueError(f"id_token_signing_alg {alg!r} is not supported")
        self.alg = alg
        self.trust = trust
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._keys: list[JWK] = []
        self._uri = ""
        self._fetched_at = 0.0

    def _fetch(self, jwks_uri: str) -> list[JWK]:
        reply = call_json("GET", jwks_uri, what="jwks", trust=self.trust)
        if reply.status != 200:
            raise InvalidSourceResponse(f"jwks: HTTP {reply.status}")
        keys = load_keys(reply.data, self.alg)
        with self._lock:
            self._keys, self._uri, self._fetched_at = keys, jwks_uri, self.clock()
        return keys

    def _current(self, jwks_uri: str) -> tuple[list[JWK], bool]:
        """Cached keys (fetching them if stale) and whether they were just fetched."""
        with self._lock:
            fresh = self._uri == jwks_uri and self.clock() - self._fetched_at < self.ttl
            keys = list(self._keys)
        if fresh:
            return keys, False
        return self._fetch(jwks_uri), True

    @staticmethod
    def _select(keys: list[JWK], kid: str | None) -> JWK | None:
        if kid is None:
            # Without a kid we only accept an unambiguous key set.
            return keys[0] if len(keys) == 1 else None
        matches = [k for k in keys if k.kid == kid]
        return matches[0] if len(matches) == 1 else None

    def key_for(self, jwks_uri: str, kid: str | None) -> JWK:
        """The provider key with this ``kid``; one refetch if the kid is unknown (rotation)."""
        keys, just_fetched = self._current(jwks_uri)
        key = self._select(keys, kid)
        if key is None and not just_fetched:
            key = self._select(self._fetch(jwks_uri), kid)
        if key is None:
            raise InvalidSourceResponse("id_token: no provider key matches the token's kid")
        return key
