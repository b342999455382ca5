"""Authorization requests refused: on our page before the redirect URI is trusted, as OAuth
errors sent back to the client after."""

from __future__ import annotations

import pytest

from .conftest import CONFIDENTIAL, POST_CLIENT, PUBLIC, REFUSED, redirect_query, s256


def assert_our_page(resp, code: str) -> None:
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert resp.headers["Content-Type"].startswith("text/html")
    assert code in resp.text


def refusal(op, client_id: str = CONFIDENTIAL, pkce: bool = True, **changes) -> dict:
    rp = op.rps[client_id]
    params, _ = op.authorization_params(rp, pkce=pkce, **changes)
    resp = op.authorize(params)
    assert resp.status_code == 303
    query = redirect_query(resp, params["redirect_uri"])
    assert "code" not in query
    assert query["iss"] == op.base_url
    return query


# -- before the redirect URI is trusted: a page of ours, never a redirect ---------------


def test_unknown_client_id_ends_on_our_page(op):
    params, _ = op.authorization_params(op.rps[CONFIDENTIAL], client_id="rp-inconnu")

    assert_our_page(op.authorize(params), "client_inconnu")


def test_missing_client_id_ends_on_our_page(op):
    params, _ = op.authorization_params(op.rps[CONFIDENTIAL], client_id=None)

    assert_our_page(op.authorize(params), "client_inconnu")


def test_oversized_client_id_ends_on_our_page(op):
    params, _ = op.authorization_params(op.rps[CONFIDENTIAL], client_id="a" * 5000)

    assert_our_page(op.authorize(params), "client_inconnu")


def test_missing_redirect_uri_ends_on_our_page(op):
    params, _ = op.authorization_params(op.rps[CONFIDENTIAL], redirect_uri=None)

    assert_our_page(op.authorize(params), "redirect_uri_invalide")


@pytest.mark.parametrize("uri", [
    "https://evil.example/callback",
    "https://rp.example.nc/callback/",
    "https://rp.example.nc/callback?x=1",
    "https://rp.example.nc/callback#frag",
    "https://RP.example.nc/callback",
    "https://rp.example.nc/callbacK",
    "https://rp.example.nc/cb",
    "https://rp-post.example.nc/callback",  # registered, but by another client
])
def test_redirect_uri_not_exactly_registered_ends_on_our_page(op, uri):
    params, _ = op.authorization_params(op.rps[CONFIDENTIAL], redirect_uri=uri)

    assert_our_page(op.authorize(params), "redirect_uri_invalide")


def test_unknown_client_is_checked_before_the_redirect_uri(op):
    params, _ = op.authorization_params(op.rps[CONFIDENTIAL], client_id="x",
                                        redirect_uri="https://evil.example/")

    assert_our_page(op.authorize(params), "client_inconnu")


# -- after: OAuth errors back to the client, with state and iss --------------------------


@pytest.mark.parametrize("response_type", ["token", "id_token", "code id_token", "code token",
                                           "CODE"])
def test_response_type_other_than_code_is_refused(op, response_type):
    query = refusal(op, response_type=response_type)

    assert query["error"] == "unsupported_response_type"


def test_missing_response_type_is_refused(op):
    assert refusal(op, response_type=None)["error"] == "invalid_request"


def test_refusal_carries_the_request_state(op):
    query = refusal(op, response_type="token", state="etat-du-client")

    assert query["state"] == "etat-du-client"
    assert query["error_description"]


@pytest.mark.parametrize("scope", ["profile email", "openidprofile", "OPENID", None])
def test_scope_without_openid_is_refused(op, scope):
    assert refusal(op, scope=scope)["error"] == "invalid_scope"


def test_missing_state_is_refused_without_state(op):
    query = refusal(op, state=None)

    assert query["error"] == "invalid_request"
    assert "state" not in query


def test_oversized_state_is_refused_without_reflecting_it(op):
    query = refusal(op, state="s" * 3000)

    assert query["error"] == "invalid_request"
    assert "state" not in query


def test_plain_code_challenge_method_is_refused(op):
    query = refusal(op, code_challenge_method="plain")

    assert query["error"] == "invalid_request"


def test_code_challenge_without_method_is_refused_as_plain(op):
    assert refusal(op, code_challenge_method=None)["error"] == "invalid_request"


def test_code_challenge_method_without_challenge_is_refused(op):
    query = refusal(op, POST_CLIENT, pkce=False, code_challenge_method="S256")

    assert query["error"] == "invalid_request"


def test_missing_challenge_is_refused_when_the_client_requires_pkce(op):
    query = refusal(op, CONFIDENTIAL, pkce=False)

    assert query["error"] == "invalid_request" and "code_challenge" in query["error_description"]


def test_missing_challenge_is_refused_for_a_public_client(op):
    assert refusal(op, PUBLIC, pkce=False)["error"] == "invalid_request"


@pytest.mark.parametrize("challenge", [
    "short",
    "a" * 42,
    "a" * 129,
    "+" * 43,
    "abc/def=" * 6,
    "é" * 43,
    s256("v" * 43) + " ",
])
def test_malformed_code_challenge_is_refused(op, challenge):
    assert refusal(op, code_challenge=challenge)["error"] == "invalid_request"


@pytest.mark.parametrize("request_object", ["eyJhbGciOiJub25lIn0.e30.", "e" * 3000])
def test_request_object_is_refused(op, request_object):
    assert refusal(op, request=request_object)["error"] == "request_not_supported"


def test_request_uri_is_refused(op):
    query = refusal(op, request_uri="https://rp.example.nc/req.jwt")

    assert query["error"] == "request_uri_not_supported"


def test_prompt_none_gets_login_required(op):
    assert refusal(op, prompt="none")["error"] == "login_required"


def test_response_mode_other_than_query_is_refused(op):
    assert refusal(op, response_mode="fragment")["error"] == "invalid_request"


@pytest.mark.parametrize("claims", ['{"userinfo": ', "[]", '"x"', '{"userinfo": []}',
                                    '{"id_token": {"email": 3}}', "[" * 2000,
                                    '{"userinfo": {"' + "n" * 100 + '": null}}'])
def test_malformed_claims_parameter_is_refused(op, claims):
    assert refusal(op, claims=claims)["error"] == "invalid_request"


def test_refusal_by_the_identity_source_returns_access_denied(op):
    rp = op.rps[REFUSED]
    params, _ = op.authorization_params(rp)

    resp = op.authorize(params)

    query = redirect_query(resp, rp.redirect_uri)
    assert resp.status_code == 303
    assert query["error"] == "access_denied"
    assert query["state"] == params["state"] and query["iss"] == op.base_url


# -- repeated parameters (RFC 6749 §3.1: "MUST NOT be included more than once") ----------


def _with_repeated(op, name: str, second: str):
    params, _ = op.authorization_params(op.rps[CONFIDENTIAL])
    pairs = list(params.items()) + [(name, second)]
    return params, op.http.get(op.url("oidc/authorize"), params=pairs, allow_redirects=False,
                               timeout=10)


def test_a_repeated_redirect_uri_ends_on_our_page(op):
    _params, resp = _with_repeated(op, "redirect_uri", "https://evil.example/callback")

    assert_our_page(resp, "requete_invalide")


def test_a_repeated_client_id_ends_on_our_page(op):
    _params, resp = _with_repeated(op, "client_id", PUBLIC)

    assert_our_page(resp, "requete_invalide")


def test_a_repeated_scope_is_refused_at_the_registered_redirect_uri(op):
    params, resp = _with_repeated(op, "scope", "openid email")

    assert resp.status_code == 303
    query = redirect_query(resp, params["redirect_uri"])
    assert query["error"] == "invalid_request" and "scope repeated" in query["error_description"]
    assert query["state"] == params["state"] and "code" not in query


def test_a_repeated_state_is_refused_without_echoing_either_copy(op):
    params, resp = _with_repeated(op, "state", "autre-etat")

    query = redirect_query(resp, params["redirect_uri"])
    assert query["error"] == "invalid_request" and "state" not in query
