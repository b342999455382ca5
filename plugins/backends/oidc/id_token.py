"""ID token verification (OpenID Connect Core §3.1.3.7), every check mandatory.

Why by hand: general JWT libraries decide the algorithm from the token header
and may fetch keys it points to. Here the header only *names* things we check:
its ``alg`` must be the one pinned for this source, its ``kid`` selects a key
among the provider's published keys, and nothing else in it is used.
"""

from __future__ import annotations

import base64
import hmac
import json
from dataclasses import dataclass
from typing import Any

from cryptojwt.exception import JWKESTException
from cryptojwt.jws.jws import JWS
from cryptojwt.jws.utils import left_hash

from idp.quoting import quoted

from .errors import InvalidSourceResponse
from .jwks import KeySet

#: Largest ID token we parse.
MAX_ID_TOKEN_BYTES = 16 * 1024
#: Clock skew tolerated for ``iat`` (seconds).
LEEWAY = 60
#: ``at_hash`` is the left half of the signing algorithm's SHA-2 (256 bits for all we pin).
_HASH_FOR_AT_HASH = {"RS256": "HS256", "PS256": "HS256", "ES256": "HS256"}


@dataclass(frozen=True)
class Expected:
    issuer: str
    client_id: str
    alg: str
    nonce: str
    jwks_uri: str
    now: float
    access_token: str | None = None


def _fail(reason: str) -> InvalidSourceResponse:
    return InvalidSourceResponse(f"id_token: {reason}")


def _b64json(part: str, what: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise _fail(f"{what} is not base64url JSON") from exc


def read_header(token: str) -> dict[str, Any]:
    """The protected header of a compact JWS; JWE (5 parts) and unsigned tokens are refused."""
    if not isinstance(token, str) or not token or len(token) > MAX_ID_TOKEN_BYTES:
        raise _fail("missing or too large")
    parts = token.split(".")
    if len(parts) != 3:
        raise _fail(f"not a compact JWS ({len(parts)} parts; JWE is not accepted)")
    if not parts[2]:
        raise _fail("unsigned")
    header = _b64json(parts[0], "header")
    if not isinstance(header, dict):
        raise _fail("header is not an object")
    return header


def _check_header(header: dict[str, Any], alg: str) -> str | None:
    got = header.get("alg")
    if got != alg:
        # Covers alg=none, HS* signed with the client secret, and any algorithm swap.
        raise _fail(f"alg {quoted(got)} refused, {alg} required")
    if "enc" in header:
        raise _fail("encrypted tokens are not accepted")
    if header.get("crit"):
        raise _fail("critical header extensions are not supported")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _fail("kid is not a string")
    return kid


def _check_signature(token: str, keys: KeySet, exp: Expected, kid: str | None) -> dict:
    key = keys.key_for(exp.jwks_uri, kid)
    try:
        payload = JWS(alg=exp.alg).verify_compact(token, keys=[key], sigalg=exp.alg)
    except (JWKESTException, ValueError, TypeError, KeyError) as exc:
        raise _fail(f"signature invalid ({type(exc).__name__})") from exc
    if isinstance(payload, (str, bytes)):
        try:
            payload = json.loads(payload)
        except (ValueError, RecursionError) as exc:
            raise _fail("payload is not JSON") from exc
    if not isinstance(payload, dict):
        raise _fail("payload is not an object")
    return payload


def _number(claims: dict[str, Any], name: str) -> float:
    value = claims.get(name)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(f"{name} missing or not a number")
    return float(value)


def check_claims(claims: dict[str, Any], exp: Expected) -> None:
    """The claim checks of OIDC Core §3.1.3.7 (plus ``nonce`` and ``at_hash``)."""
    if claims.get("iss") != exp.issuer:
        raise _fail("iss differs from the provider's issuer")
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud
    if not isinstance(audiences, list) or exp.client_id not in audiences:
        raise _fail("aud does not contain our client_id")
    if len(audiences) > 1 or "azp" in claims:
        if claims.get("azp") != exp.client_id:
            raise _fail("azp missing or not our client_id")
    if _number(claims, "exp") <= exp.now:
        raise _fail("expired")
    if _number(claims, "iat") > exp.now + LEEWAY:
        raise _fail("issued in the future")
    nonce = claims.get("nonce")
    if not isinstance(nonce, str) or not hmac.compare_digest(nonce.encode(), exp.nonce.encode()):
        raise _fail("nonce missing or not the one we sent")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub or len(sub) > 255:
        raise _fail("sub missing or invalid")
    at_hash = claims.get("at_hash")
    if at_hash is not None and exp.access_token is not None:
        want = left_hash(exp.access_token.encode("utf-8"), _HASH_FOR_AT_HASH[exp.alg])
        if not isinstance(at_hash, str) or not hmac.compare_digest(at_hash, want):
            raise _fail("at_hash does not match the access token")


def verify_id_token(token: str, keys: KeySet, exp: Expected) -> dict[str, Any]:
    """Verified claims of ``token``; raises :class:`InvalidSourceResponse` on any failure."""
    kid = _check_header(read_header(token), exp.alg)
    claims = _check_signature(token, keys, exp, kid)
    check_claims(claims, exp)
    return claims
