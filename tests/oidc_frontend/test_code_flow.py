"""The code flow as relying parties see it: oic's client, then each guarantee on its own."""

from __future__ import annotations

import json
import time

from cryptojwt.jwk.jwk import key_from_jwk_dict
from cryptojwt.jws.jws import JWS, factory
from cryptojwt.jws.utils import left_hash
from oic import rndstr
from oic.oic import Client
from oic.oic.message import AuthorizationResponse, RegistrationResponse
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from idp.dictionary.pivot import subject_basis
from idp.keys import read_secret
from idp.pairwise import pairwise_id

from .conftest import ACR, CONFIDENTIAL, IDENTITY, POST_CLIENT, PUBLIC, SUBJECT, redirect_query


def verified_claims(op, id_token: str) -> dict:
    """Verify the ID token with the published JWKS only, RS256 pinned."""
    jwks = op.http.get(op.url("oidc/jwks"), timeout=10).json()
    keys = [key_from_jwk_dict(k) for k in jwks["keys"]]
    return JWS(alg="RS256").verify_compact(id_token, keys=keys, sigalg="RS256")


def test_oic_client_completes_the_code_flow_with_pkce(op):
    rp = op.rps[CONFIDENTIAL]
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
    client.provider_config(op.base_url)
    client.store_registration_info(RegistrationResponse(
        client_id=rp.client_id, client_secret=rp.secret, redirect_uris=rp.redirect_uris,
        token_endpoint_auth_method="client_secret_basic"))
    state, nonce = rndstr(), rndstr()
    pkce_args, verifier = client.add_code_challenge()
    request = client.construct_AuthorizationRequest(request_args={
        "client_id": rp.client_id, "response_type": "code", "scope": ["openid", "email"],
        "nonce": nonce, "redirect_uri": rp.redirect_uri, "state": state, **pkce_args})
    resp = op.http.get(request.request(client.authorization_endpoint), allow_redirects=False,
                       timeout=10)

    authz = client.parse_response(AuthorizationResponse, info=resp.headers["Location"],
                                  sformat="urlencoded")
    tokens = client.do_access_token_request(
        state=state, authn_method="client_secret_basic",
        request_args={"code": authz["code"], "redirect_uri": rp.redirect_uri,
                      "code_verifier": verifier})
    userinfo = client.do_user_info_request(state=state)

    assert authz["state"] == state and authz["iss"] == op.base_url
    assert tokens["id_token"]["nonce"] == nonce
    assert userinfo.to_dict() == {"sub": tokens["id_token"]["sub"],
                                  "email": IDENTITY["email"][0]}


def test_id_token_signature_verifies_with_the_jwks(op):
    tokens = op.tokens(op.login())

    claims = verified_claims(op, tokens["id_token"])

    assert claims["iss"] == op.base_url


def test_id_token_header_is_rs256_with_the_published_kid(op):
    tokens = op.tokens(op.login())
    jwks = op.http.get(op.url("oidc/jwks"), timeout=10).json()

    header = factory(tokens["id_token"]).jwt.headers

    assert header["alg"] == "RS256"
    assert header["kid"] == jwks["keys"][0]["kid"]


def test_id_token_claims_bind_the_client_the_nonce_and_the_access_token(op):
    login = op.login()
    before = int(time.time())
    tokens = op.tokens(login)

    claims = verified_claims(op, tokens["id_token"])

    assert claims["aud"] == [CONFIDENTIAL]
    assert claims["azp"] == CONFIDENTIAL
    assert claims["nonce"] == login.nonce
    assert claims["at_hash"] == left_hash(tokens["access_token"].encode(), "HS256")
    # The source said "eidas2" (FranceConnect style): NC Connect states the eIDAS URI.
    assert ACR == "eidas2" and claims["acr"] == "http://eidas.europa.eu/LoA/substantial"
    assert before - 5 <= claims["iat"] <= int(time.time()) + 5
    assert claims["exp"] - claims["iat"] == 300
    assert claims["iat"] - 120 < claims["auth_time"] <= claims["iat"]


def test_id_token_carries_no_identity_claims_unless_asked(op):
    claims = verified_claims(op, op.tokens(op.login())["id_token"])

    assert set(claims) == {"iss", "sub", "aud", "azp", "iat", "exp", "auth_time", "nonce",
                           "at_hash", "acr"}


def test_id_token_carries_claims_asked_in_the_claims_parameter(op):
    login = op.login(claims=json.dumps({"id_token": {"given_name": None,
                                                     "birthdate": {"essential": True}}}))

    claims = verified_claims(op, op.tokens(login)["id_token"])

    # birthdate is not allowed for this client: asking for it changes nothing.
    assert claims["given_name"] == IDENTITY["given_name"][0]
    assert "birthdate" not in claims


def test_userinfo_returns_exactly_allowed_and_requested_claims(op):
    # asks profile (given_name, family_name, birthdate, ...) and email; allowed: given_name,
    # family_name, email.
    tokens = op.tokens(op.login(scope="openid profile email phone"))

    resp = op.userinfo(tokens["access_token"])

    sub = verified_claims(op, tokens["id_token"])["sub"]
    assert resp.json() == {"sub": sub, "given_name": IDENTITY["given_name"][0],
                           "family_name": IDENTITY["family_name"][0],
                           "email": IDENTITY["email"][0]}


def test_userinfo_leaves_out_allowed_claims_not_requested(op):
    tokens = op.tokens(op.login(scope="openid email"))

    assert set(op.userinfo(tokens["access_token"]).json()) == {"sub", "email"}


def test_claims_parameter_adds_an_allowed_userinfo_claim(op):
    login = op.login(scope="openid", claims=json.dumps({"userinfo": {"family_name": None}}))

    info = op.userinfo(op.tokens(login)["access_token"]).json()

    assert set(info) == {"sub", "family_name"}


def test_sub_is_the_pairwise_id_for_the_client(op):
    secret = read_secret(op.keys.pairwise_secret)
    basis = subject_basis(IDENTITY, SUBJECT)
    confidential = verified_claims(op, op.tokens(op.login(CONFIDENTIAL))["id_token"])["sub"]
    public = verified_claims(op, op.tokens(op.login(PUBLIC))["id_token"])["sub"]

    assert confidential == pairwise_id(secret, f"service:{CONFIDENTIAL}", basis)
    assert public == pairwise_id(secret, f"service:{PUBLIC}", basis)
    assert confidential != public


def test_authorization_response_carries_code_state_and_iss(op):
    rp = op.rps[CONFIDENTIAL]
    params, _ = op.authorization_params(rp)

    query = redirect_query(op.authorize(params), rp.redirect_uri)

    assert set(query) == {"code", "state", "iss"}
    assert query["state"] == params["state"] and query["iss"] == op.base_url
    assert len(query["code"]) >= 43  # 32 random bytes, base64url


def test_registered_redirect_uri_with_a_query_keeps_it(op):
    rp = op.rps[CONFIDENTIAL]
    params, _ = op.authorization_params(rp, redirect_uri=rp.redirect_uris[1])

    resp = op.authorize(params)

    assert resp.headers["Location"].startswith(rp.redirect_uris[1] + "&code=")


def test_authorization_request_by_post_is_accepted(op):
    rp = op.rps[CONFIDENTIAL]
    params, _ = op.authorization_params(rp)

    query = redirect_query(op.authorize(params, method="POST"), rp.redirect_uri)

    assert "code" in query


def test_token_response_is_bearer_and_not_cacheable(op):
    resp = op.token(op.login())

    body = resp.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 300
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.headers["Pragma"] == "no-cache"
    assert resp.headers["Content-Type"].startswith("application/json")


def test_client_secret_post_client_without_pkce_gets_tokens(op):
    login = op.login(POST_CLIENT, pkce=False)

    info = op.userinfo(op.tokens(login)["access_token"]).json()

    assert info["given_name"] == IDENTITY["given_name"][0]
    assert info["birthdate"] == IDENTITY["birthdate"][0]


def test_public_client_with_pkce_gets_tokens(op):
    tokens = op.tokens(op.login(PUBLIC))

    assert set(op.userinfo(tokens["access_token"]).json()) == {"sub", "email"}


def test_userinfo_accepts_the_access_token_form_field(op):
    tokens = op.tokens(op.login())

    resp = op.http.post(op.url("oidc/userinfo"), data={"access_token": tokens["access_token"]},
                        timeout=10)

    assert resp.status_code == 200 and "email" in resp.json()


def test_userinfo_response_is_not_cacheable(op):
    resp = op.userinfo(op.tokens(op.login())["access_token"])

    assert resp.headers["Cache-Control"] == "no-store"
