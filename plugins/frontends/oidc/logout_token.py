"""Logout tokens (OpenID Connect Back-Channel Logout 1.0 §2.4), signed like our ID tokens.

A logout token tells one relying party that the citizen's session with it ended. It
names that session the way the relying party knows it — its own ``sid`` (the one in
its ID tokens) and its pairwise ``sub`` — carries the back-channel ``events`` member
and never a ``nonce`` (so it cannot be mistaken for an ID token), and is typed
``logout+jwt`` (§2.4, recommended) for the same reason. It lives two minutes: it is
delivered at once or never, and a relying party must refuse it later.
"""

from __future__ import annotations

import json
import secrets
import time

from cryptojwt.jwk.rsa import RSAKey
from cryptojwt.jws.jws import JWS

from .id_token import ALG

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TYPE = "logout+jwt"
LIFETIME = 120


def logout_token(key: RSAKey, *, issuer: str, client_id: str, sub: str | None,
                 sid: str | None, now: float | None = None) -> str:
    """The signed token for one client; at least one of ``sub`` and ``sid`` is required."""
    if not sub and not sid:
        raise ValueError("a logout token names a subject, a session or both")
    stamp = int(time.time() if now is None else now)
    claims: dict[str, object] = {
        "iss": issuer, "aud": client_id, "iat": stamp, "exp": stamp + LIFETIME,
        "jti": secrets.token_urlsafe(24), "events": {EVENT: {}},
    }
    if sub:
        claims["sub"] = sub
    if sid:
        claims["sid"] = sid
    return JWS(json.dumps(claims), alg=ALG, typ=TYPE).sign_compact([key])
