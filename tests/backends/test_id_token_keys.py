"""ID token verification building blocks: key choice and pinned algorithms other than RS256.

The provider peer (pyop) only signs RS256; here a JWKS document is served on
loopback and tokens are signed with cryptojwt to cover ES256, PS256 and the
key-selection rules.
"""

from __future__ import annotations

import json
import time

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptojwt.jwk.ec import ECKey
from cryptojwt.jwk.hmac import SYMKey
from cryptojwt.jwk.rsa import RSAKey
from cryptojwt.jws.jws import JWS

from plugins.backends.oidc.errors import InvalidSourceResponse
from plugins.backends.oidc.id_token import Expected, verify_id_token
from plugins.backends.oidc.jwks import KeySet
from tests.backends.federation_harness import LoopbackServer

ISSUER = "https://op.example.nc"
CLIENT = "ncconnect"


class JwksPeer:
    def __init__(self) -> None:
        self.document: dict = {"keys": []}
        self.uri = ""
        self.requests = 0

    def __call__(self, environ, start_response):
        self.requests += 1
        body = json.dumps(self.document).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]


@pytest.fixture
def jwks():
    server = LoopbackServer()
    peer = JwksPeer()
    server.serve(peer)
    peer.uri = f"{server.url}/jwks"
    yield peer
    server.close()


def claims(**changes) -> dict:
    now = int(time.time())
    return {"iss": ISSUER, "aud": CLIENT, "sub": "abc", "nonce": "n-1", "iat": now,
            "exp": now + 300, **changes}


def expected(jwks: JwksPeer, alg: str) -> Expected:
    return Expected(issuer=ISSUER, client_id=CLIENT, alg=alg, nonce="n-1", jwks_uri=jwks.uri,
                    now=time.time())


def sign(key, alg: str, payload: dict) -> str:
    return JWS(json.dumps(payload), alg=alg).sign_compact([key])


def rsa_jwk(kid: str | None, bits: int = 2048) -> RSAKey:
    return RSAKey(priv_key=rsa.generate_private_key(65537, bits), kid=kid or "")


def public(key) -> dict:
    return key.serialize(private=False)


def test_es256_token_verifies_with_a_p256_key(jwks):
    key = ECKey(priv_key=ec.generate_private_key(ec.SECP256R1()), kid="ec-1")
    jwks.document = {"keys": [public(key)]}
    token = sign(key, "ES256", claims())
    assert verify_id_token(token, KeySet("ES256"), expected(jwks, "ES256"))["sub"] == "abc"


def test_ps256_token_verifies_with_an_rsa_key(jwks):
    key = rsa_jwk("rsa-1")
    jwks.document = {"keys": [public(key)]}
    token = sign(key, "PS256", claims())
    assert verify_id_token(token, KeySet("PS256"), expected(jwks, "PS256"))["sub"] == "abc"


def test_rs256_token_is_refused_when_ps256_is_pinned(jwks):
    key = rsa_jwk("rsa-1")
    jwks.document = {"keys": [public(key)]}
    with pytest.raises(InvalidSourceResponse, match="alg"):
        verify_id_token(sign(key, "RS256", claims()), KeySet("PS256"), expected(jwks, "PS256"))


def test_token_without_kid_uses_the_only_key(jwks):
    key = rsa_jwk(None)
    jwks.document = {"keys": [public(key)]}
    token = sign(key, "RS256", claims())
    assert verify_id_token(token, KeySet("RS256"), expected(jwks, "RS256"))["sub"] == "abc"


def test_token_without_kid_is_refused_when_several_keys_could_match(jwks):
    key, other = rsa_jwk(None), rsa_jwk(None)
    jwks.document = {"keys": [public(key), public(other)]}
    with pytest.raises(InvalidSourceResponse, match="kid"):
        verify_id_token(sign(key, "RS256", claims()), KeySet("RS256"), expected(jwks, "RS256"))


def test_symmetric_keys_in_the_jwks_are_never_used(jwks):
    secret = "a-shared-secret-of-sufficient-length"
    jwks.document = {"keys": [{"kty": "oct", "kid": "k", "k": secret}]}
    token = JWS(json.dumps(claims()), alg="HS256").sign_compact(
        [SYMKey(key=secret.encode(), kid="k")])
    with pytest.raises(InvalidSourceResponse):
        verify_id_token(token, KeySet("RS256"), expected(jwks, "RS256"))


def test_short_rsa_keys_in_the_jwks_are_ignored(jwks):
    weak = rsa_jwk("weak", bits=1024)
    jwks.document = {"keys": [public(weak)]}
    with pytest.raises(InvalidSourceResponse, match="kid"):
        verify_id_token(sign(weak, "RS256", claims()), KeySet("RS256"), expected(jwks, "RS256"))


def test_keys_marked_for_encryption_are_not_used_to_verify(jwks):
    key = rsa_jwk("rsa-1")
    jwks.document = {"keys": [{**public(key), "use": "enc"}]}
    with pytest.raises(InvalidSourceResponse, match="kid"):
        verify_id_token(sign(key, "RS256", claims()), KeySet("RS256"), expected(jwks, "RS256"))


def test_token_with_critical_header_extensions_is_refused(jwks):
    key = rsa_jwk("rsa-1")
    jwks.document = {"keys": [public(key)]}
    token = JWS(json.dumps(claims()), alg="RS256").sign_compact(
        [key], protected={"crit": ["exp-ext"], "exp-ext": 1})
    with pytest.raises(InvalidSourceResponse, match="critical"):
        verify_id_token(token, KeySet("RS256"), expected(jwks, "RS256"))


def test_azp_of_another_client_is_refused(jwks):
    key = rsa_jwk("rsa-1")
    jwks.document = {"keys": [public(key)]}
    token = sign(key, "RS256", claims(aud=[CLIENT, "other"], azp="other"))
    with pytest.raises(InvalidSourceResponse, match="azp"):
        verify_id_token(token, KeySet("RS256"), expected(jwks, "RS256"))


def test_several_audiences_with_our_azp_are_accepted(jwks):
    key = rsa_jwk("rsa-1")
    jwks.document = {"keys": [public(key)]}
    token = sign(key, "RS256", claims(aud=[CLIENT, "other"], azp=CLIENT))
    assert verify_id_token(token, KeySet("RS256"), expected(jwks, "RS256"))["sub"] == "abc"


def test_unknown_kid_refetches_the_jwks_only_once(jwks):
    known = rsa_jwk("known")
    jwks.document = {"keys": [public(known)]}
    keys = KeySet("RS256")
    verify_id_token(sign(known, "RS256", claims()), keys, expected(jwks, "RS256"))
    stranger = rsa_jwk("stranger")
    with pytest.raises(InvalidSourceResponse, match="kid"):
        verify_id_token(sign(stranger, "RS256", claims()), keys, expected(jwks, "RS256"))
    assert jwks.requests == 2
