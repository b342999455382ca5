"""ID tokens (OIDC Core §2), signed RS256 with the proxy's key; the kid is its RFC 7638 thumbprint.

The algorithm is pinned: the signer never takes one from a request, and the
JWKS publishes the public half only. Which key signs, and which ones the JWKS lists, is the
keyring's (:mod:`.signing_keys`): the active key signs, every published one is listed.

``sid`` (OIDC Front-/Back-Channel Logout) is the *service's* session id of the
citizen's SSO session (:func:`idp.sso.session.service_sid`), never the session's own.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from cryptojwt.jwk.rsa import RSAKey
from cryptojwt.jws.jws import JWS
from cryptojwt.jws.utils import left_hash

from .signing_keys import ALG, SigningKeys, signing_key_from_pem

__all__ = ["ALG", "IdTokenSigner", "SigningKeys", "at_hash", "load_signing_key"]


def load_signing_key(path: Path) -> RSAKey:
    """The RSA key from a PEM file, as a JWK with use=sig, alg=RS256 and a thumbprint kid."""
    return signing_key_from_pem(path.read_bytes(), str(path))


def at_hash(access_token: str) -> str:
    """OIDC Core §3.1.3.6: left half of SHA-256 of the token, base64url."""
    return left_hash(access_token.encode("ascii"), "HS256")


class IdTokenSigner:
    def __init__(self, key: RSAKey | SigningKeys, issuer: str, lifetime: int) -> None:
        self.keys = key if isinstance(key, SigningKeys) else SigningKeys(fixed=key)
        self.issuer = issuer
        self.lifetime = lifetime

    @property
    def key(self) -> RSAKey:
        """The active key: it signs, and its ``kid`` is in every token's header."""
        return self.keys.active()

    @property
    def kid(self) -> str:
        return self.key.kid

    def public_jwks(self) -> dict[str, Any]:
        """The key set relying parties verify with: every published key (the active one, the
        next one during a rollover, the previous one until retired), public members only."""
        return {"keys": [k.serialize(private=False) for k in self.keys.published()]}

    def sign(self, *, client_id: str, sub: str, nonce: str | None, auth_time: int,
             access_token: str, acr: str | None, extra: dict[str, Any],
             sid: str | None = None) -> str:
        now = int(time.time())
        claims: dict[str, Any] = dict(extra)
        claims.update({
            "iss": self.issuer, "sub": sub, "aud": [client_id], "azp": client_id,
            "iat": now, "exp": now + self.lifetime, "auth_time": auth_time,
            "at_hash": at_hash(access_token),
        })
        if nonce is not None:
            # OIDC Core §2: only when the request had one (it may rely on PKCE alone).
            claims["nonce"] = nonce
        if acr:
            claims["acr"] = acr
        if sid:
            claims["sid"] = sid
        jws = JWS(json.dumps(claims, ensure_ascii=False), alg=ALG)
        return jws.sign_compact([self.key])
