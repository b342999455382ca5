"""DemoOP, the OIDC identity source, against a real oic client and plain HTTP requests."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from oic.oic import Client
from oic.oic.message import (
    AccessTokenResponse,
    AuthorizationResponse,
    OpenIDSchema,
    ProviderConfigurationResponse,
    RegistrationResponse,
)
from oic.utils.authn.client import CLIENT_AUTHN_METHOD

from idp.demo.citizens import CITIZENS
from idp.demo.op import DemoOP, make_demo_op

from .helpers import error_code, loopback, soup, submit_login

CLIENT_ID = "ncconnect-test"
SECRET = "secret-de-test"
CALLBACK = "http://127.0.0.1:9/callback"


@pytest.fixture
def op(rsa_pem, serve, port) -> DemoOP:
    p = port()
    app = make_demo_op(loopback(p), {
        CLIENT_ID: {"client_secret": SECRET, "redirect_uris": [CALLBACK]},
        "strict-client": {"client_secret": SECRET, "redirect_uris": [CALLBACK],
                          "require_pkce": True},
    }, rsa_pem, CITIZENS)
    serve(app, p)
    return app


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def _authorize(session: requests.Session, op: DemoOP, **overrides: str) -> requests.Response:
    verifier, challenge = _pkce()
    params = {"response_type": "code", "client_id": CLIENT_ID, "redirect_uri": CALLBACK,
              "scope": "openid profile email birth", "state": "etat-1", "nonce": "nonce-1",
              "code_challenge": challenge, "code_challenge_method": "S256"}
    params.update(overrides)
    resp = session.get(f"{op.issuer}/authorize", params=params, allow_redirects=False, timeout=10)
    resp.verifier = verifier  # type: ignore[attr-defined]
    return resp


def _code_after_login(op: DemoOP, **overrides: str) -> tuple[str, str]:
    session = requests.Session()
    page = _authorize(session, op, **overrides)
    answer = submit_login(session, page, "marie.wamytan", "demo")
    return parse_qs(urlsplit(answer.headers["Location"]).query)["code"][0], page.verifier


def _redeem(op: DemoOP, code: str, verifier: str, secret: str = SECRET) -> requests.Response:
    return requests.post(f"{op.issuer}/token", auth=(CLIENT_ID, secret), timeout=10, data={
        "grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
        "code_verifier": verifier})


def _oic_client(op: DemoOP) -> Client:
    client = Client(client_authn_method=CLIENT_AUTHN_METHOD)
    client.store_registration_info(RegistrationResponse(
        client_id=CLIENT_ID, client_secret=SECRET, redirect_uris=[CALLBACK]))
    data = requests.get(f"{op.issuer}/.well-known/openid-configuration", timeout=10).json()
    # oic's own discovery refuses http issuers; loopback http is the demo's choice.
    client.handle_provider_config(ProviderConfigurationResponse(**data), op.issuer)
    return client


def test_discovery_announces_code_flow_rs256_pkce_s256_and_iss_parameter(op):
    data = requests.get(f"{op.issuer}/.well-known/openid-configuration", timeout=10).json()
    assert data["issuer"] == op.issuer
    assert data["authorization_endpoint"] == f"{op.issuer}/authorize"
    assert data["response_types_supported"] == ["code"]
    assert data["id_token_signing_alg_values_supported"] == ["RS256"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["token_endpoint_auth_methods_supported"] == ["client_secret_basic"]
    assert data["authorization_response_iss_parameter_supported"] is True
    assert "birth" in data["scopes_supported"]


def test_oic_client_completes_login_and_reads_the_citizens_claims(op):
    client = _oic_client(op)
    verifier, challenge = _pkce()
    state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
    request = client.construct_AuthorizationRequest(request_args={
        "response_type": "code", "scope": "openid profile email birth phone", "state": state,
        "nonce": nonce, "redirect_uri": CALLBACK, "code_challenge": challenge,
        "code_challenge_method": "S256"})
    session = requests.Session()
    page = session.get(request.request(client.authorization_endpoint), timeout=10)
    answer = submit_login(session, page, "malia.tuifua", "demo")

    auth = client.parse_response(AuthorizationResponse, info=urlsplit(
        answer.headers["Location"]).query, sformat="urlencoded")
    assert auth["state"] == state and auth["iss"] == op.issuer
    tokens = client.do_access_token_request(
        state=state, request_args={"code": auth["code"], "code_verifier": verifier},
        authn_method="client_secret_basic")
    assert isinstance(tokens, AccessTokenResponse)
    id_token = tokens["id_token"]  # verified by oic: signature with the JWKS key, iss, aud
    assert id_token["nonce"] == nonce and id_token["aud"] == [CLIENT_ID]
    userinfo = client.do_user_info_request(state=state)
    assert isinstance(userinfo, OpenIDSchema)
    assert userinfo["sub"] == id_token["sub"]
    expected = next(c for c in CITIZENS if c.username == "malia.tuifua").claims
    assert {k: userinfo[k] for k in expected} == expected


def test_id_token_is_rs256_with_the_published_key_id(op):
    code, verifier = _code_after_login(op)
    id_token = _redeem(op, code, verifier).json()["id_token"]
    header = json.loads(base64.urlsafe_b64decode(id_token.split(".")[0] + "=="))
    keys = requests.get(f"{op.issuer}/jwks", timeout=10).json()["keys"]
    assert header["alg"] == "RS256"
    assert [k["kid"] for k in keys] == [header["kid"]]
    assert all("d" not in k for k in keys)


def test_login_form_is_shown_for_a_valid_request_and_sets_the_op_cookie(op):
    session = requests.Session()
    page = _authorize(session, op)
    assert page.status_code == 200
    assert soup(page.text).find("input", id="identifiant") is not None
    assert op.cookie_name in session.cookies.get_dict()


def test_wrong_password_shows_the_form_again_with_an_alert(op):
    session = requests.Session()
    page = _authorize(session, op)
    again = submit_login(session, page, "marie.wamytan", "pas-le-bon")
    assert again.status_code == 200
    assert soup(again.text).find(id="echec")["role"] == "alert"
    assert "Location" not in again.headers


def test_cancel_returns_access_denied_with_state_and_issuer(op):
    session = requests.Session()
    page = _authorize(session, op)
    answer = submit_login(session, page, "", "", action="annuler")
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert answer.status_code == 302
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["etat-1"] and query["iss"] == [op.issuer]


def test_unregistered_redirect_uri_ends_on_our_page_without_redirect(op):
    page = _authorize(requests.Session(), op, redirect_uri="http://127.0.0.1:9/ailleurs")
    assert page.status_code == 400
    assert "Location" not in page.headers
    assert error_code(page.text) == "requete_invalide"


def test_unknown_client_ends_on_our_page(op):
    page = _authorize(requests.Session(), op, client_id="inconnu")
    assert page.status_code == 400 and error_code(page.text) == "requete_invalide"


def test_plain_pkce_method_is_refused_with_invalid_request(op):
    page = _authorize(requests.Session(), op, code_challenge_method="plain")
    assert parse_qs(urlsplit(page.headers["Location"]).query)["error"] == ["invalid_request"]


def test_client_registered_with_require_pkce_must_send_a_challenge(op):
    session = requests.Session()
    params = {"response_type": "code", "client_id": "strict-client", "redirect_uri": CALLBACK,
              "scope": "openid", "state": "s"}
    page = session.get(f"{op.issuer}/authorize", params=params, allow_redirects=False,
                       timeout=10)
    assert parse_qs(urlsplit(page.headers["Location"]).query)["error"] == ["invalid_request"]


def test_prompt_none_answers_login_required(op):
    page = _authorize(requests.Session(), op, prompt="none")
    assert parse_qs(urlsplit(page.headers["Location"]).query)["error"] == ["login_required"]


def test_login_post_from_another_browser_is_refused(op):
    page = _authorize(requests.Session(), op)
    other_browser = requests.Session()
    answer = submit_login(other_browser, page, "marie.wamytan", "demo")
    assert answer.status_code == 403 and error_code(answer.text) == "csrf"


def test_login_form_serves_once(op):
    session = requests.Session()
    page = _authorize(session, op)
    assert submit_login(session, page, "marie.wamytan", "demo").status_code == 302
    replay = submit_login(session, page, "marie.wamytan", "demo")
    assert replay.status_code == 400 and error_code(replay.text) == "session_expiree"


def test_code_is_redeemed_only_once(op):
    code, verifier = _code_after_login(op)
    assert _redeem(op, code, verifier).status_code == 200
    second = _redeem(op, code, verifier)
    assert second.status_code == 400 and second.json()["error"] == "invalid_grant"


def test_wrong_pkce_verifier_is_refused(op):
    code, _ = _code_after_login(op)
    resp = _redeem(op, code, secrets.token_urlsafe(48))
    assert resp.status_code == 400 and "access_token" not in resp.json()


def test_wrong_client_secret_is_invalid_client(op):
    code, verifier = _code_after_login(op)
    resp = _redeem(op, code, verifier, secret="mauvais")
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_client"


def test_malformed_token_request_is_a_protocol_error_not_a_crash(op):
    resp = requests.post(f"{op.issuer}/token", data="%%%", timeout=10,
                         headers={"Authorization": "Basic !!!",
                                  "Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code in (400, 401)
    assert "error" in resp.json()


def test_userinfo_without_a_valid_token_is_401(op):
    resp = requests.get(f"{op.issuer}/userinfo", timeout=10,
                        headers={"Authorization": "Bearer inconnu"})
    assert resp.status_code == 401 and resp.json()["error"] == "invalid_token"


def test_authorization_requests_are_counted(op):
    session = requests.Session()
    before = op.authorize_requests
    _authorize(session, op)
    _authorize(session, op, redirect_uri="http://127.0.0.1:9/ailleurs")
    assert op.authorize_requests == before + 2
