"""``private_key_jwt`` (RFC 7523 §2.2, OIDC Core §9): a client proves itself with a JWT
signed by a key it registered, once, for us, for a short time; anything else is
``invalid_client`` and leaves the code redeemable."""

from __future__ import annotations

import base64
import copy
import json
import multiprocessing
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.hazmat.primitives import serialization
from cryptojwt.jwk.ec import new_ec_key
from cryptojwt.jwk.hmac import SYMKey
from cryptojwt.jwk.rsa import RSAKey, new_rsa_key
from cryptojwt.jws.jws import JWS
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from plugins.frontends.oidc.client_jwks import (
    KeysUnavailable,
    RemoteKeys,
    check_jwks_uri,
    public_keys,
)
from plugins.frontends.oidc.clients import ClientRegistry

from .conftest import (
    ASSERTION_TYPE,
    CONFIDENTIAL,
    KEY_CLIENT,
    KEY_URI_CLIENT,
    JwksServer,
    Login,
    basic,
    build_app,
    client_assertion,
    public_jwks,
    redeem_in_child,
)


@pytest.fixture(scope="module")
def attacker() -> RSAKey:
    """A key nobody registered, wearing the kid of the client's registered RSA key."""
    return new_rsa_key(2048, kid="cle-rsa-1", use="sig")


def token_url(op) -> str:
    return op.url("oidc/token")


def signed(op, client_id: str = KEY_CLIENT, key=None, **kwargs: Any) -> str:
    """An assertion of ``client_id`` signed with its registered private key (or ``key``)."""
    rp = op.rps[client_id]
    return client_assertion(key or rp.signing_key, rp.client_id, token_url(op), **kwargs)


def form(login: Login, assertion: str) -> dict[str, str]:
    data = {"grant_type": "authorization_code", "code": login.code,
            "redirect_uri": login.redirect_uri, "code_verifier": login.verifier,
            "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion}
    return {k: v for k, v in data.items() if v is not None}


def assert_invalid_client(resp, because: str = "") -> None:
    assert resp.status_code == 401, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-store"
    body = resp.json()
    assert body["error"] == "invalid_client"
    assert "access_token" not in body and "id_token" not in body
    assert because in body["error_description"]


def assert_refused_and_code_kept(op, login: Login, assertion: str, because: str = "") -> None:
    """The assertion is refused (``because`` is in the description), nothing is issued, and
    the code is still the client's."""
    assert_invalid_client(op.token(login, client_assertion=assertion), because)
    assert op.token(login).status_code == 200


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64(json.dumps(value).encode())


def unb64json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


# -- accepted -----------------------------------------------------------------------------


def test_inline_jwks_client_redeems_its_code_with_an_rs256_assertion(op):
    tokens = op.tokens(op.login(KEY_CLIENT))

    assert tokens["token_type"] == "Bearer" and tokens["id_token"]
    assert op.userinfo(tokens["access_token"]).status_code == 200


def test_es256_assertion_verifies_with_the_registered_ec_key(op, partner_keys):
    login = op.login(KEY_CLIENT)
    ec_key = partner_keys.inline[1]

    resp = op.token(login, client_assertion=signed(op, key=ec_key))

    assert resp.status_code == 200, resp.text


def test_ps256_assertion_verifies_with_the_registered_rsa_key(op):
    login = op.login(KEY_CLIENT)

    resp = op.token(login, client_assertion=signed(op, alg="PS256"))

    assert resp.status_code == 200, resp.text


def test_assertion_without_kid_uses_the_one_registered_key_of_its_type(op, partner_keys):
    login = op.login(KEY_CLIENT)
    without_kid = RSAKey(priv_key=partner_keys.inline[0].priv_key, use="sig")
    assertion = signed(op, key=without_kid)
    assert "kid" not in unb64json(assertion.split(".")[0])

    assert op.token(login, client_assertion=assertion).status_code == 200


def test_assertion_may_name_the_issuer_as_audience(op):
    login = op.login(KEY_CLIENT)
    rp = login.rp

    assertion = client_assertion(rp.signing_key, rp.client_id, op.base_url)

    assert op.token(login, client_assertion=assertion).status_code == 200


def test_audience_may_be_a_list_naming_the_token_endpoint(op):
    login = op.login(KEY_CLIENT)
    rp = login.rp

    assertion = client_assertion(rp.signing_key, rp.client_id,
                                 ["https://autre.example.nc", token_url(op)])

    assert op.token(login, client_assertion=assertion).status_code == 200


def test_client_id_parameter_equal_to_the_issuer_is_accepted(op):
    login = op.login(KEY_CLIENT)

    assert op.token(login, client_id=KEY_CLIENT).status_code == 200


def test_jwks_uri_client_redeems_its_code_with_keys_fetched_from_its_server(op, partner_keys):
    tokens = op.tokens(op.login(KEY_URI_CLIENT))

    assert tokens["access_token"]
    assert partner_keys.server.hits >= 1


def test_jwks_uri_key_set_is_cached_between_requests(op, partner_keys):
    op.tokens(op.login(KEY_URI_CLIENT))
    hits = partner_keys.server.hits

    op.tokens(op.login(KEY_URI_CLIENT))

    assert partner_keys.server.hits == hits


def test_discovery_lists_private_key_jwt_and_its_algorithms(op):
    doc = op.http.get(op.url(".well-known/openid-configuration"), timeout=10).json()

    assert "private_key_jwt" in doc["token_endpoint_auth_methods_supported"]
    assert doc["token_endpoint_auth_signing_alg_values_supported"] == ["RS256", "PS256", "ES256"]


# -- one-time ------------------------------------------------------------------------------


def test_replayed_assertion_is_refused_and_the_second_code_kept(op):
    first, second = op.login(KEY_CLIENT), op.login(KEY_CLIENT)
    assertion = signed(op)
    assert op.token(first, client_assertion=assertion).status_code == 200

    assert_refused_and_code_kept(op, second, assertion, "jti already used")


def test_forged_assertion_does_not_burn_the_jti_of_a_genuine_one(op, attacker):
    login = op.login(KEY_CLIENT)
    op.token(login, client_assertion=signed(op, key=attacker, jti="jti-convoite"))

    assert op.token(login, client_assertion=signed(op, jti="jti-convoite")).status_code == 200


def test_assertion_used_at_one_instance_is_refused_at_another_sharing_the_store(op):
    first, second = op.login(KEY_CLIENT), op.login(KEY_CLIENT)
    assertion = signed(op)
    assert op.token(first, client_assertion=assertion).status_code == 200
    other_instance = Client(build_app(copy.deepcopy(op.config), op.store_url))

    resp = other_instance.post("/oidc/token", data=form(second, assertion))

    assert resp.status_code == 401 and resp.json["error"] == "invalid_client"
    assert other_instance.post("/oidc/token", data=form(second, signed(op))).status_code == 200


def test_concurrent_uses_of_one_assertion_from_two_processes_give_one_success(op):
    ctx = multiprocessing.get_context("spawn")
    request = form(op.login(KEY_CLIENT), signed(op))
    barrier, results = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=redeem_in_child,
                           args=(op.config, op.store_url, request, {}, barrier, results))
               for _ in range(2)]
    for w in workers:
        w.start()
    statuses = sorted(results.get(timeout=90) for _ in workers)
    for w in workers:
        w.join(timeout=30)

    assert statuses == [200, 401]


def redis_instances(op, redis_url: str) -> tuple[Client, Client]:
    config = copy.deepcopy(op.config)
    config["FRONTEND_MODULES"][0]["config"]["store_url"] = redis_url
    return (Client(build_app(copy.deepcopy(config), redis_url)),
            Client(build_app(copy.deepcopy(config), redis_url)))


def code_from(instance: Client, op) -> Login:
    rp = op.rps[KEY_CLIENT]
    params, verifier = op.authorization_params(rp)
    resp = instance.get("/oidc/authorize", query_string=params)
    assert resp.status_code == 303, resp.text[:300]
    [code] = parse_qs(urlsplit(resp.headers["Location"]).query)["code"]
    return Login(rp, code, params["state"], params["nonce"], verifier, rp.redirect_uri)


def test_assertion_is_one_time_across_instances_sharing_redis(op, redis_server):
    one, two = redis_instances(op, redis_server.url)
    first, second = code_from(one, op), code_from(one, op)
    assertion = signed(op)
    assert one.post("/oidc/token", data=form(first, assertion)).status_code == 200

    resp = two.post("/oidc/token", data=form(second, assertion))

    assert resp.status_code == 401 and resp.json["error"] == "invalid_client"
    assert two.post("/oidc/token", data=form(second, signed(op))).status_code == 200


# -- claims ----------------------------------------------------------------------------------


@pytest.mark.parametrize("audience", [
    lambda op: "https://autre-fournisseur.example.nc/token",
    lambda op: op.url("oidc/userinfo"),
    lambda op: token_url(op) + "/",
    lambda op: ["https://autre.example.nc"],
    lambda op: [],
], ids=["other-server", "our-userinfo", "token-url-with-slash", "list-without-us", "empty"])
def test_assertion_for_another_audience_is_refused(op, audience):
    login = op.login(KEY_CLIENT)
    rp = login.rp

    assertion = client_assertion(rp.signing_key, rp.client_id, audience(op))

    assert_refused_and_code_kept(op, login, assertion, "aud")


def test_expired_assertion_is_refused(op):
    now = int(time.time())

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT),
                                 signed(op, iat=now - 300, exp=now - 120), "expired")


def test_assertion_living_longer_than_five_minutes_is_refused(op):
    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, lifetime=3600),
                                 "more than 300 seconds ahead")


@pytest.mark.parametrize("claim", ["exp", "jti", "iss", "sub", "aud"])
def test_assertion_missing_a_required_claim_is_refused(op, claim):
    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, **{claim: None}), claim)


def test_assertion_issued_in_the_future_is_refused(op):
    now = int(time.time())

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, iat=now + 600), "iat")


def test_assertion_not_valid_yet_is_refused(op):
    now = int(time.time())

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, nbf=now + 120), "nbf")


def test_assertion_whose_subject_is_not_its_issuer_is_refused(op):
    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, sub=KEY_URI_CLIENT),
                                 "iss and sub")


@pytest.mark.parametrize("claims", [{"exp": "demain"}, {"exp": 10 ** 400}, {"iat": True},
                                    {"jti": 42}, {"jti": "j" * 300}, {"aud": [42]}])
def test_assertion_with_malformed_claims_is_refused(op, claims):
    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, **claims))


# -- which client, which key -----------------------------------------------------------------


def test_client_id_parameter_differing_from_the_issuer_is_refused(op):
    login = op.login(KEY_CLIENT)

    assert_invalid_client(op.token(login, client_id=KEY_URI_CLIENT), "client_id differs")
    assert op.token(login).status_code == 200


def test_assertion_naming_another_key_client_is_refused(op):
    # Signed with KEY_CLIENT's key but claiming to be KEY_URI_CLIENT.
    login = op.login(KEY_URI_CLIENT)
    mine = op.rps[KEY_CLIENT].signing_key

    assertion = client_assertion(mine, KEY_URI_CLIENT, token_url(op))

    assert_refused_and_code_kept(op, login, assertion, "no registered key")


def test_assertion_naming_an_unknown_client_is_refused(op, attacker):
    login = op.login(KEY_CLIENT)

    assert_refused_and_code_kept(op, login,
                                 client_assertion(attacker, "rp-inconnu", token_url(op)))


def test_secret_client_cannot_authenticate_with_an_assertion(op, attacker):
    login = op.login(CONFIDENTIAL)

    resp = op.token(login, auth="none", client_id=None, client_assertion_type=ASSERTION_TYPE,
                    client_assertion=client_assertion(attacker, CONFIDENTIAL, token_url(op)))

    assert_invalid_client(resp, "must authenticate with client_secret_basic")
    assert op.token(login).status_code == 200


def test_key_client_cannot_authenticate_with_client_secret_basic(op):
    login = op.login(KEY_CLIENT)
    plain = {k: v for k, v in form(login, "").items() if not k.startswith("client_assertion")}

    resp = op.http.post(token_url(op), data=plain, timeout=10,
                        headers={"Authorization": basic(KEY_CLIENT, "un-secret")})

    assert_invalid_client(resp, "must authenticate with private_key_jwt")
    assert op.token(login).status_code == 200


def test_key_client_cannot_authenticate_with_client_secret_post(op):
    login = op.login(KEY_CLIENT)

    assert_invalid_client(op.token(login, auth="client_secret_post", client_secret="un-secret"),
                          "must authenticate with private_key_jwt")
    assert op.token(login).status_code == 200


def test_key_client_cannot_redeem_as_a_public_client(op):
    login = op.login(KEY_CLIENT)

    assert_invalid_client(op.token(login, auth="none"), "must authenticate with private_key_jwt")
    assert op.token(login).status_code == 200


def test_assertion_with_a_secret_at_once_is_refused(op):
    login = op.login(KEY_CLIENT)

    resp = op.token(login, client_id=KEY_CLIENT, client_secret="un-secret")

    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"
    assert op.token(login).status_code == 200


def test_assertion_signed_by_another_key_with_the_registered_kid_is_refused(op, attacker):
    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, key=attacker),
                                 "signature invalid")


def test_tampered_assertion_is_refused(op):
    header, _, signature = signed(op).split(".")
    now = int(time.time())
    forged = b64json({"iss": KEY_CLIENT, "sub": KEY_CLIENT, "aud": token_url(op),
                      "jti": "forge", "exp": now + 60})

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), f"{header}.{forged}.{signature}",
                                 "signature invalid")


def test_unknown_kid_is_refused(op, attacker):
    key = RSAKey(priv_key=attacker.priv_key, kid="cle-inconnue", use="sig")

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, key=key),
                                 "no registered key")


def test_unknown_kids_refetch_the_jwks_uri_at_most_once(op, partner_keys, attacker):
    server = partner_keys.server
    login = op.login(KEY_URI_CLIENT)
    hits = server.hits

    for n in range(3):
        key = RSAKey(priv_key=attacker.priv_key, kid=f"cle-tournante-{n}", use="sig")
        assert_invalid_client(op.token(login, client_assertion=signed(op, KEY_URI_CLIENT, key)),
                              "no registered key")

    assert server.hits - hits <= 1
    assert op.token(login).status_code == 200


def test_alg_none_is_refused(op):
    rp = op.rps[KEY_CLIENT]
    now = int(time.time())
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": token_url(op), "jti": "sans-sig",
              "exp": now + 60}
    unsigned = JWS(json.dumps(claims), alg="none").sign_compact()

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), unsigned, "unsigned")


def test_alg_none_with_a_signature_part_is_refused(op):
    header, payload, signature = signed(op).split(".")
    none_header = b64json({"alg": "none", "kid": "cle-rsa-1"})

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT),
                                 f"{none_header}.{payload}.{signature}", "alg 'none' refused")


def test_hs256_keyed_with_the_registered_public_key_is_refused(op, partner_keys):
    public_pem = partner_keys.inline[0].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    hmac_key = SYMKey(key=public_pem, kid="cle-rsa-1")

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, key=hmac_key, alg="HS256"),
                                 "alg 'HS256' refused")


def test_rsa_algorithm_with_the_ec_key_id_is_refused(op, partner_keys):
    # alg must match the key type: RS256 cannot select the EC key, whatever the kid says.
    key = RSAKey(priv_key=partner_keys.inline[0].priv_key, kid="cle-ec-1", use="sig")

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), signed(op, key=key),
                                 "no registered key")


@pytest.mark.parametrize("member", ["jwk", "jku", "x5u", "x5c"])
def test_header_carrying_an_attacker_key_is_refused(op, attacker, member):
    values = {"jwk": attacker.serialize(private=False),
              "jku": "https://attaquant.example/jwks.json",
              "x5u": "https://attaquant.example/cert.pem",
              "x5c": ["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}

    assertion = signed(op, key=attacker, headers={member: values[member]})

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), assertion,
                                 f"header member {member} refused")


def test_embedded_jwk_is_refused_even_beside_a_valid_signature(op, partner_keys):
    registered = partner_keys.inline[0]

    assertion = signed(op, headers={"jwk": registered.serialize(private=False)})

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), assertion, "header member jwk")


def test_critical_header_extension_is_refused(op):
    assert_refused_and_code_kept(op, op.login(KEY_CLIENT),
                                 signed(op, headers={"crit": ["exp"], "exp": 1}),
                                 "critical")


# -- shape -------------------------------------------------------------------------------------


def test_oversized_assertion_is_refused_before_parsing(op):
    assertion = signed(op, padding="p" * 9000)
    assert len(assertion) > 8 * 1024

    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), assertion, "too long")


@pytest.mark.parametrize("value", [
    "abc",
    "a.b",
    "a.b.c.d.e",
    "!!!.???.***",
    "e30.e30.",
    "bm90IGpzb24.e30.c2ln",
    "W10.e30.c2ln",
    "e30.W10.c2ln",
    "eyJhbGciOiJSUzI1NiIsImFsZyI6Im5vbmUifQ.e30.c2ln",  # duplicate "alg"
    "é" * 40,
])
def test_malformed_assertion_is_invalid_client(op, value):
    assert_refused_and_code_kept(op, op.login(KEY_CLIENT), value)


@pytest.mark.parametrize("assertion_type", [
    "urn:ietf:params:oauth:client-assertion-type:saml2-bearer", "jwt", None])
def test_wrong_or_missing_assertion_type_is_refused(op, assertion_type):
    login = op.login(KEY_CLIENT)

    assert_invalid_client(op.token(login, client_assertion_type=assertion_type),
                          "client_assertion_type")
    assert op.token(login).status_code == 200


def test_assertion_type_without_assertion_is_refused(op):
    login = op.login(KEY_CLIENT)

    assert_invalid_client(op.token(login, client_assertion=None), "client_assertion is required")
    assert op.token(login).status_code == 200


@settings(max_examples=60, deadline=None)
@given(assertion=st.one_of(
    st.text(max_size=300),
    st.lists(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
                     max_size=60), min_size=1, max_size=6).map(".".join)))
def test_arbitrary_assertions_end_as_invalid_client_never_an_error_page(op, assertion):
    app = Client(op.app)
    resp = app.post("/oidc/token", data={"grant_type": "authorization_code", "code": "c" * 43,
                                         "redirect_uri": "https://rp-cle.example.nc/callback",
                                         "client_assertion_type": ASSERTION_TYPE,
                                         "client_assertion": assertion})

    assert resp.status_code == 401, resp.text[:200]
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.json["error"] == "invalid_client"


CLAIM_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(10 ** 30), max_value=10 ** 30),
    st.floats(), st.integers(min_value=-600, max_value=600).map(lambda d: int(time.time()) + d),
    st.text(max_size=20), st.sampled_from([KEY_CLIENT, KEY_URI_CLIENT, "TOKEN_URL"]),
    st.lists(st.sampled_from([KEY_CLIENT, "TOKEN_URL", 7, None]), max_size=3))
CLAIMS = st.dictionaries(st.sampled_from(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]),
                         CLAIM_VALUES)


@settings(max_examples=60, deadline=None)
@given(claims=CLAIMS)
def test_arbitrary_signed_claims_end_as_a_json_oauth_error_or_tokens(op, claims):
    url = token_url(op)
    claims = {k: ([url if x == "TOKEN_URL" else x for x in v] if isinstance(v, list)
                  else url if v == "TOKEN_URL" else v) for k, v in claims.items()}
    body = json.dumps(claims)  # NaN and Infinity included, as a careless client could send
    assertion = JWS(body, alg="RS256").sign_compact([op.rps[KEY_CLIENT].signing_key])
    resp = Client(op.app).post("/oidc/token", data={
        "grant_type": "authorization_code", "code": "c" * 43,
        "redirect_uri": "https://rp-cle.example.nc/callback",
        "client_assertion_type": ASSERTION_TYPE, "client_assertion": assertion})

    assert resp.headers["Content-Type"].startswith("application/json")
    # A code that was never issued: at best the client is authenticated and the grant refused.
    assert (resp.status_code, resp.json["error"]) in {(401, "invalid_client"),
                                                      (400, "invalid_grant")}


# -- the partner's key set, fetched --------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def jwks_server(partner_keys):
    server = JwksServer(public_jwks([partner_keys.remote]))
    yield server
    server.stop()


def test_fetched_keys_are_used_until_their_ttl_then_fetched_again(jwks_server):
    clock = Clock()
    keys = RemoteKeys(jwks_server.url, ttl=3600, refetch_interval=30, clock=clock)

    assert keys.key_for("RS256", "cle-distante-1") is not None
    clock.now += 3599
    assert keys.key_for("RS256", "cle-distante-1") is not None
    assert jwks_server.hits == 1
    clock.now += 2
    assert keys.key_for("RS256", "cle-distante-1") is not None
    assert jwks_server.hits == 2


def test_rotated_key_is_found_by_one_refetch_on_its_unknown_kid(jwks_server):
    clock = Clock()
    keys = RemoteKeys(jwks_server.url, refetch_interval=30, clock=clock)
    assert keys.key_for("RS256", "cle-distante-1") is not None
    new_key = new_rsa_key(2048, kid="cle-distante-2", use="sig")
    jwks_server.jwks = public_jwks([new_key])
    clock.now += 31

    found = keys.key_for("RS256", "cle-distante-2")

    assert found is not None and found.kid == "cle-distante-2"
    assert jwks_server.hits == 2


def test_unknown_kids_do_not_refetch_within_the_interval(jwks_server):
    clock = Clock()
    keys = RemoteKeys(jwks_server.url, refetch_interval=30, clock=clock)
    keys.key_for("RS256", "cle-distante-1")

    for n in range(5):
        assert keys.key_for("RS256", f"inconnue-{n}") is None

    assert jwks_server.hits == 1


def test_failed_fetch_is_not_retried_within_the_interval_and_stale_keys_are_not_used(
        jwks_server):
    clock = Clock()
    keys = RemoteKeys(jwks_server.url, ttl=60, refetch_interval=30, clock=clock)
    keys.key_for("RS256", "cle-distante-1")
    jwks_server.answer("500 Internal Server Error", b"{}")
    clock.now += 61

    with pytest.raises(KeysUnavailable):
        keys.key_for("RS256", "cle-distante-1")
    with pytest.raises(KeysUnavailable):
        keys.key_for("RS256", "cle-distante-1")
    assert jwks_server.hits == 2


@pytest.mark.parametrize("status,body,headers", [
    ("302 Found", b"", [("Location", "https://ailleurs.example/jwks.json")]),
    ("200 OK", b'{"keys": []' + b" " * (70 * 1024) + b"}", []),
    ("200 OK", b"<html>pas du JSON</html>", []),
    ("200 OK", b"[]", []),
    ("200 OK", b'{"cles": []}', []),
])
def test_unusable_key_set_answers_are_refused(jwks_server, status, body, headers):
    jwks_server.answer(status, body, headers)

    with pytest.raises(KeysUnavailable):
        RemoteKeys(jwks_server.url).key_for("RS256", "cle-distante-1")


def test_private_symmetric_short_and_foreign_keys_are_skipped(partner_keys):
    jwks = {"keys": [
        partner_keys.remote.serialize(private=True),
        new_rsa_key(1024, kid="cle-courte", use="sig").serialize(private=False),
        {"kty": "oct", "k": b64(b"secret-partage"), "kid": "cle-sym"},
        new_ec_key("P-384", kid="cle-p384").serialize(private=False),
        {**partner_keys.inline[0].serialize(private=False), "use": "enc"},
        "pas une cle",
    ]}

    assert public_keys(jwks, "test") == []


def test_a_fetched_set_keeps_its_usable_keys_only(jwks_server, partner_keys):
    remote = partner_keys.remote
    jwks_server.jwks = {"keys": [{"kty": "oct", "k": b64(b"s"), "kid": remote.kid},
                                 remote.serialize(private=False)]}

    key = RemoteKeys(jwks_server.url).key_for("RS256", remote.kid)

    assert key is not None and key.public_key().public_numbers() == \
        remote.public_key().public_numbers()


@pytest.mark.parametrize("url,demo", [
    ("http://keys.example.nc/jwks.json", True),
    ("http://127.0.0.1:8000/jwks.json", False),
    ("ftp://keys.example.nc/jwks.json", True),
    ("https:///jwks.json", True),
])
def test_jwks_uri_must_be_https_or_loopback_in_demo_mode(url, demo):
    with pytest.raises(ValueError, match="must use https"):
        check_jwks_uri(url, demo)


def test_jwks_uri_with_credentials_is_refused():
    with pytest.raises(ValueError, match="credentials"):
        check_jwks_uri("https://moi:motdepasse@keys.example.nc/jwks.json", False)


def test_https_and_demo_loopback_jwks_uris_are_accepted():
    check_jwks_uri("https://keys.example.nc/jwks.json", False)
    check_jwks_uri("http://127.0.0.1:8000/jwks.json", True)
    check_jwks_uri("http://[::1]:8000/jwks.json", True)


# -- registration ------------------------------------------------------------------------------


def entry(**extra: Any) -> dict[str, Any]:
    return {"redirect_uris": ["https://rp.example.nc/cb"],
            "token_endpoint_auth_method": "private_key_jwt", **extra}


@pytest.mark.parametrize("bad,message", [
    ({}, "exactly one of jwks or jwks_uri"),
    ({"jwks": {"keys": []}, "jwks_uri": "https://k.example.nc/jwks"}, "exactly one"),
    ({"jwks": {"keys": []}}, "no usable public signature key"),
    ({"jwks_uri": "http://k.example.nc/jwks"}, "must use https"),
    ({"jwks_uri": "http://127.0.0.1:9/jwks"}, "must use https"),
    ({"jwks": {"keys": [{"kty": "RSA"}]}, "client_secret_sha256": "a" * 64}, "have no secret"),
])
def test_key_client_entry_is_refused_at_start_up(bad, message):
    with pytest.raises(ValueError, match=message):
        ClientRegistry({"rp-x": entry(**bad)})


def test_secret_client_entry_with_keys_is_refused_at_start_up(partner_keys):
    with pytest.raises(ValueError, match="jwks and jwks_uri are for private_key_jwt"):
        ClientRegistry({"rp-x": entry(token_endpoint_auth_method="client_secret_basic",
                                      client_secret_sha256="a" * 64,
                                      jwks=public_jwks(partner_keys.inline))})
