"""``private_key_jwt``: a client proves itself with a JWT signed by its own key
(RFC 7523 §2.2 and §3, OIDC Core §9).

Why by hand rather than a general JWT library: such libraries pick the
algorithm from the token header and may use keys the header carries or points
to. Here the header only *names* things we check: ``alg`` must be one of
:data:`~.client_jwks.KEY_TYPE` and match the key's type, ``kid`` selects one of
the keys the partner registered; a header with ``jwk``, ``jku``, ``x5u`` or
``x5c`` is refused outright (ignoring them would also be safe, refusing them
tells a misconfigured partner at once), as are ``crit`` extensions.

The audience is the token endpoint URL, as OIDC Core §9 asks; the issuer
identifier is accepted too, because RFC 7523 §3 names "the authorization
server" as the audience and RFC 8414 identifies it by its issuer (FAPI 2 and
several client libraries send that). No other value is accepted.

Every assertion is one-time across all workers: its ``jti`` is ``add``-ed to the
shared store for as long as the assertion could still be accepted. Its
lifetime is bounded (``exp`` at most :data:`MAX_LIFETIME` ahead), which bounds
that replay cache too. The ``jti`` is recorded only once the signature and the
claims are good, so forged assertions cannot fill the cache or burn a ``jti``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cryptojwt.exception import JWKESTException
from cryptojwt.jws.jws import SIGNER_ALGS

from idp.stores import Store

from .client_jwks import KEY_TYPE, KeysUnavailable
from .clients import Client
from .errors import OAuthError, invalid_client

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
#: Largest assertion parsed at all (a few keys' worth of claims and an RSA-4096 signature).
MAX_ASSERTION_BYTES = 8 * 1024
#: Longest an assertion may live: ``exp`` at most this far ahead of our clock (seconds).
MAX_LIFETIME = 300
#: Clock difference tolerated with the client's clock, for ``exp``, ``iat`` and ``nbf``.
LEEWAY = 30
JTI_NS = "oidc-client-assertion-jti"
MAX_JTI = 256
#: Header members that carry or point to a key; only the registered keys verify.
KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")

_B64URL = re.compile(r"[A-Za-z0-9_-]*")


def _refused(reason: str) -> OAuthError:
    return invalid_client(f"client_assertion: {reason}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two "alg" (or "iss") members would let two readers see two different tokens.
    out: dict[str, Any] = {}
    for name, value in pairs:
        if name in out:
            raise ValueError(f"duplicate member {name!r}")
        out[name] = value
    return out


def _b64decode(part: str, what: str) -> bytes:
    if not _B64URL.fullmatch(part) or len(part) % 4 == 1:
        raise _refused(f"{what} is not base64url")
    try:
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
    except binascii.Error as exc:
        raise _refused(f"{what} is not base64url") from exc


def _json_object(part: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(_b64decode(part, what), object_pairs_hook=_no_duplicates)
    except (ValueError, RecursionError) as exc:
        raise _refused(f"{what} is not a JSON object") from exc
    if not isinstance(value, dict):
        raise _refused(f"{what} is not a JSON object")
    return value


@dataclass(frozen=True)
class Assertion:
    """A compact JWS split and decoded, *not yet verified*: read ``iss`` only to find the
    client whose keys will verify it."""

    header: dict[str, Any]
    claims: dict[str, Any]
    signing_input: bytes
    signature: bytes

    @property
    def claimed_client(self) -> str | None:
        iss = self.claims.get("iss")
        return iss if isinstance(iss, str) else None


def parse_assertion(value: str) -> Assertion:
    """Split and decode, refusing anything that is not a small signed compact JWS."""
    if len(value) > MAX_ASSERTION_BYTES:
        raise _refused("too large")
    parts = value.split(".")
    if len(parts) != 3:
        raise _refused(f"not a compact JWS ({len(parts)} parts; JWE is not accepted)")
    header = _json_object(parts[0], "header")
    claims = _json_object(parts[1], "payload")
    signature = _b64decode(parts[2], "signature")
    if not signature:
        raise _refused("unsigned")
    return Assertion(header, claims, f"{parts[0]}.{parts[1]}".encode("ascii"), signature)


def _checked_header(header: dict[str, Any]) -> tuple[str, str | None]:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in KEY_TYPE:
        # Covers alg=none, HS* keyed with a public key, and every algorithm we do not pin.
        raise _refused(f"alg {alg!r} refused (one of {', '.join(KEY_TYPE)})")
    carried = [name for name in KEY_HEADERS if name in header]
    if carried:
        raise _refused(f"header member {carried[0]} refused: only registered keys verify")
    if "crit" in header or "enc" in header:
        raise _refused("critical or encryption header members are not supported")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _refused("kid is not a string")
    return alg, kid


def _number(claims: dict[str, Any], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _refused(f"{name} is not a number")
    try:
        number = float(value)
    except OverflowError as exc:
        raise _refused(f"{name} is out of range") from exc
    if not math.isfinite(number):
        raise _refused(f"{name} is out of range")
    return number


@dataclass(frozen=True)
class Audience:
    """What ``aud`` may name: our token endpoint URL or our issuer identifier."""

    token_endpoint: str
    issuer: str

    def named_in(self, aud: Any) -> bool:
        values = [aud] if isinstance(aud, str) else aud
        if not isinstance(values, list) or not values:
            return False
        if not all(isinstance(v, str) for v in values):
            return False
        return self.token_endpoint in values or self.issuer in values


class AssertionVerifier:
    """Verifies one client's assertion and records its ``jti`` in the shared store."""

    def __init__(self, store: Store, audience: Audience,
                 clock: Callable[[], float] = time.time) -> None:
        self.store = store
        self.audience = audience
        self.clock = clock

    def verify(self, assertion: Assertion, client: Client) -> None:
        """Return only if ``client`` signed ``assertion`` for us, now, for the first time."""
        if client.keys is None:
            raise _refused("this client does not authenticate with private_key_jwt")
        alg, kid = _checked_header(assertion.header)
        self._check_signature(assertion, client, alg, kid)
        expires = self._check_claims(assertion.claims, client)
        self._record_jti(assertion.claims["jti"], client, expires)

    def _check_signature(self, assertion: Assertion, client: Client, alg: str,
                         kid: str | None) -> None:
        assert client.keys is not None
        try:
            key = client.keys.key_for(alg, kid)
        except KeysUnavailable as exc:
            raise _refused("the client's keys are unavailable") from exc
        if key is None:
            raise _refused("no registered key of the client matches kid and alg")
        try:
            valid = SIGNER_ALGS[alg].verify(assertion.signing_input, assertion.signature,
                                            key.public_key())
        except (JWKESTException, ValueError, TypeError) as exc:
            raise _refused("signature invalid") from exc
        if valid is not True:
            raise _refused("signature invalid")

    def _check_claims(self, claims: dict[str, Any], client: Client) -> float:
        """RFC 7523 §3 and OIDC Core §9; returns ``exp``."""
        now = self.clock()
        if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
            raise _refused("iss and sub must both be the client_id")
        if not self.audience.named_in(claims.get("aud")):
            raise _refused("aud must name the token endpoint (or the issuer)")
        expires = _number(claims, "exp")
        if expires is None:
            raise _refused("exp is required")
        if expires <= now - LEEWAY:
            raise _refused("expired")
        if expires > now + MAX_LIFETIME + LEEWAY:
            raise _refused(f"exp more than {MAX_LIFETIME} seconds ahead")
        issued = _number(claims, "iat")
        if issued is not None and issued > now + LEEWAY:
            raise _refused("iat is in the future")
        not_before = _number(claims, "nbf")
        if not_before is not None and not_before > now + LEEWAY:
            raise _refused("not valid yet (nbf)")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti or len(jti) > MAX_JTI:
            raise _refused(f"jti is required (a string of at most {MAX_JTI} characters)")
        return expires

    def _record_jti(self, jti: str, client: Client, expires: float) -> None:
        # Kept until the assertion could no longer pass the exp check anyway.
        ttl = max(1, math.ceil(expires + LEEWAY - self.clock()) + 1)
        key = hashlib.sha256(f"{client.client_id}\n{jti}".encode(
            "utf-8", errors="surrogatepass")).hexdigest()
        if not self.store.add(JTI_NS, key, {"exp": int(expires)}, ttl=ttl):
            raise _refused("jti already used (replayed assertion)")
