"""OIDC identity source backend, driven through SATOSA against a real pyop provider."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import requests

from idp.keys import rsa_key_pem
from tests.backends.federation_harness import OIDC_SOURCE, Browser, error_code, on_other_worker
from tests.backends.oidc_source_peer import (
    CLIENT_ID,
    CLIENT_SECRET,
    SUB,
    OidcSourcePeer,
    b64url,
    now,
    unverified_claims,
)

EXPECTED_ATTRIBUTES = {
    "given_name": ["Marie Louise"],
    "family_name": ["Wamytan"],
    "preferred_username": ["Marie Wamytan"],
    "birthdate": ["1990-04-12"],
    "gender": ["female"],
    "email": ["marie@example.nc"],
    "phone_number": ["+687123456"],  # sent as "+687 12 34 56": normalised to E.164
}


def start(proxy, browser: Browser) -> str:
    """Start a login and return the callback URL the provider redirects the browser to."""
    resp = browser.get(f"{proxy.url}/test/login?source={OIDC_SOURCE}")
    assert resp.status_code == 303, resp.text
    _, callback = browser.follow(resp, stop_at=f"{proxy.url}/{OIDC_SOURCE}/")
    assert callback, "the provider did not redirect back to the proxy"
    return callback


def login(proxy, browser: Browser) -> requests.Response:
    return browser.get(start(proxy, browser))


def assert_refused(resp: requests.Response, code: str = "reponse_source_invalide",
                   status: int = 400) -> None:
    assert resp.status_code == status, resp.text
    assert error_code(resp) == code
    assert "Marie" not in resp.text and SUB not in resp.text


def reissue_with(oidc_source: OidcSourcePeer, token) -> None:
    """Token endpoint answers with ``token(real_claims)`` as the ID token."""
    def tamper(answer: dict) -> dict:
        answer["id_token"] = token(unverified_claims(answer["id_token"]))
        return answer
    oidc_source.tamper_token = tamper


# -- happy path -----------------------------------------------------------------


def test_login_passes_the_claims_the_source_sent_in_canonical_form(proxy, oidc_source, browser):
    resp = login(proxy, browser)
    assert resp.status_code == 200, resp.text
    assert resp.json()["attributes"] == EXPECTED_ATTRIBUTES


def test_subject_id_is_source_id_and_sub(proxy, oidc_source, browser):
    assert login(proxy, browser).json()["subject_id"] == f"{OIDC_SOURCE}:{SUB}"


def test_auth_info_names_the_issuer_and_an_unspecified_acr(proxy, oidc_source, browser):
    info = login(proxy, browser).json()["auth_info"]
    assert info["issuer"] == oidc_source.base_url
    assert info["auth_class_ref"] == "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
    assert info["timestamp"].endswith("Z")


def test_authorization_request_carries_state_nonce_and_s256_pkce(proxy, oidc_source, browser):
    start(proxy, browser)
    sent = oidc_source.last_authorization
    assert sent["response_type"] == "code"
    assert sent["client_id"] == CLIENT_ID
    assert sent["redirect_uri"] == f"{proxy.url}/{OIDC_SOURCE}/oidc/callback"
    assert sent["scope"].split() == ["openid", "profile", "email", "phone"]
    assert len(sent["state"]) >= 32 and len(sent["nonce"]) >= 32
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) == 43


def test_two_logins_get_different_state_and_nonce(proxy, oidc_source):
    start(proxy, Browser())
    first = dict(oidc_source.last_authorization)
    start(proxy, Browser())
    second = oidc_source.last_authorization
    assert first["state"] != second["state"] and first["nonce"] != second["nonce"]
    assert first["code_challenge"] != second["code_challenge"]


def test_rotated_provider_key_is_fetched_once_by_kid(proxy, oidc_source):
    assert login(proxy, Browser()).status_code == 200
    key, pem = rsa_key_pem()
    oidc_source.rotate_key(key, pem, "op-signing-2")
    fetched = oidc_source.jwks_requests
    assert login(proxy, Browser()).status_code == 200
    assert oidc_source.jwks_requests == fetched + 1


def test_provider_metadata_is_fetched_once_per_process(proxy, oidc_source):
    assert login(proxy, Browser()).status_code == 200
    assert login(proxy, Browser()).status_code == 200
    assert oidc_source.discovery_requests == 1


# -- hostile ID tokens ---------------------------------------------------------


def test_id_token_with_a_bad_signature_is_refused(proxy, oidc_source, foreign_key, browser):
    reissue_with(oidc_source, lambda claims: oidc_source.sign(claims, key=foreign_key))
    assert_refused(login(proxy, browser))


def test_id_token_with_alg_none_is_refused(proxy, oidc_source, browser):
    reissue_with(oidc_source, OidcSourcePeer.unsigned)
    assert_refused(login(proxy, browser))


def test_id_token_with_alg_none_and_a_dummy_signature_is_refused(proxy, oidc_source, browser):
    reissue_with(oidc_source, lambda claims: OidcSourcePeer.unsigned(claims) + "c2ln")
    assert_refused(login(proxy, browser))


def test_id_token_hs256_signed_with_the_client_secret_is_refused(proxy, oidc_source, browser):
    reissue_with(oidc_source, lambda claims: OidcSourcePeer.sign_hs256(claims, CLIENT_SECRET))
    assert_refused(login(proxy, browser))


def test_encrypted_id_token_is_refused(proxy, oidc_source, browser):
    header = b64url(json.dumps({"alg": "RSA-OAEP", "enc": "A256GCM"}).encode())
    reissue_with(oidc_source, lambda claims: f"{header}.a2V5.aXY.Y2lwaGVy.dGFn")
    assert_refused(login(proxy, browser))


def test_id_token_with_a_key_in_its_header_is_not_trusted(proxy, oidc_source, foreign_key,
                                                          browser):
    from cryptojwt.jwk.rsa import RSAKey

    embedded = RSAKey(pub_key=foreign_key.public_key()).serialize()

    def forged(claims: dict) -> str:
        header = b64url(json.dumps({"alg": "RS256", "jwk": embedded}).encode())
        token = oidc_source.sign(claims, key=foreign_key)
        return f"{header}.{token.split('.', 1)[1]}"

    reissue_with(oidc_source, forged)
    assert_refused(login(proxy, browser))


def test_id_token_for_another_audience_is_refused(proxy, oidc_source, browser):
    oidc_source.reissue(lambda c: c.update(aud="another-client"))
    assert_refused(login(proxy, browser))


def test_id_token_with_several_audiences_and_no_azp_is_refused(proxy, oidc_source, browser):
    oidc_source.reissue(lambda c: c.update(aud=[CLIENT_ID, "another-client"]))
    assert_refused(login(proxy, browser))


def test_id_token_with_a_wrong_nonce_is_refused(proxy, oidc_source, browser):
    oidc_source.reissue(lambda c: c.update(nonce="not-the-nonce-we-sent"))
    assert_refused(login(proxy, browser))


def test_id_token_without_nonce_is_refused(proxy, oidc_source, browser):
    oidc_source.reissue(lambda c: c.pop("nonce"))
    assert_refused(login(proxy, browser))


def test_expired_id_token_is_refused(proxy, oidc_source, browser):
    oidc_source.reissue(lambda c: c.update(iat=now() - 600, exp=now() - 1))
    assert_refused(login(proxy, browser))


def test_id_token_issued_in_the_future_is_refused(proxy, oidc_source, browser):
    oidc_source.reissue(lambda c: c.update(iat=now() + 3600, exp=now() + 7200))
    assert_refused(login(proxy, browser))


def test_id_token_from_another_issuer_is_refused(proxy, oidc_source, browser):
    oidc_source.reissue(lambda c: c.update(iss="https://op.example.org"))
    assert_refused(login(proxy, browser))


def test_id_token_with_a_wrong_at_hash_is_refused(proxy, oidc_source, browser):
    oidc_source.reissue(lambda c: c.update(at_hash="AAAAAAAAAAAAAAAAAAAAAA"))
    assert_refused(login(proxy, browser))


def test_userinfo_about_another_subject_is_refused(proxy, oidc_source, browser):
    oidc_source.tamper_userinfo = lambda answer: {**answer, "sub": "sub-someone-else"}
    assert_refused(login(proxy, browser))


# -- callback handling -----------------------------------------------------------


def test_callback_replayed_after_success_is_refused(proxy, oidc_source, browser):
    callback = start(proxy, browser)
    assert browser.get(callback).status_code == 200
    assert_refused(browser.get(callback), code="session_expiree")


def test_callback_is_consumed_before_any_network_call_on_every_worker(proxy, oidc_source,
                                                                     browser):
    oidc_source.tamper_userinfo = lambda answer: {**answer, "sub": "sub-someone-else"}
    callback = start(proxy, browser)
    assert_refused(browser.get(callback))
    calls = oidc_source.token_requests
    oidc_source.tamper_userinfo = None
    assert_refused(browser.get(on_other_worker(callback, proxy.other_url)),
                   code="reponse_rejouee")
    assert oidc_source.token_requests == calls


def test_callback_with_another_state_is_refused(proxy, oidc_source, browser):
    callback = start(proxy, browser)
    parts = urlsplit(callback)
    query = parse_qs(parts.query)
    forged = f"{proxy.url}{parts.path}?code={query['code'][0]}&state=forged-state"
    assert_refused(browser.get(forged))


def test_callback_without_a_login_in_progress_is_session_expired(proxy, oidc_source, browser):
    callback = start(proxy, browser)
    assert_refused(Browser().get(callback), code="session_expiree")


def test_access_denied_reaches_the_service_as_access_denied(proxy, oidc_source, browser):
    oidc_source.deny = True
    resp = login(proxy, browser)
    assert resp.status_code == 200
    assert resp.json() == {"error": "access_denied"}


def test_iss_parameter_of_another_issuer_is_refused(proxy, oidc_source, browser):
    oidc_source.extra_callback_params = {"iss": "https://op.example.org"}
    assert_refused(login(proxy, browser))
    assert oidc_source.token_requests == 0


def test_missing_iss_parameter_is_refused_when_the_provider_promises_it(proxy, oidc_source,
                                                                       browser):
    oidc_source.metadata_overrides = {"authorization_response_iss_parameter_supported": True}
    assert_refused(login(proxy, browser))


def test_iss_parameter_of_the_provider_is_accepted(proxy, oidc_source, browser):
    oidc_source.extra_callback_params = {"iss": oidc_source.base_url}
    assert login(proxy, browser).status_code == 200


# -- provider metadata -----------------------------------------------------------


def test_metadata_with_another_issuer_makes_the_source_unavailable(proxy, oidc_source,
                                                                  browser):
    oidc_source.metadata_overrides = {"issuer": "https://op.example.org"}
    resp = browser.get(f"{proxy.url}/test/login?source={OIDC_SOURCE}")
    assert_refused(resp, code="source_indisponible", status=502)


def test_metadata_with_a_cleartext_endpoint_makes_the_source_unavailable(proxy, oidc_source,
                                                                        browser):
    oidc_source.metadata_overrides = {"token_endpoint": "http://op.example.org/token"}
    resp = browser.get(f"{proxy.url}/test/login?source={OIDC_SOURCE}")
    assert_refused(resp, code="source_indisponible", status=502)


def test_unreachable_source_is_reported_unavailable(proxy, oidc_source, servers, browser):
    servers["op"].close()
    resp = browser.get(f"{proxy.url}/test/login?source={OIDC_SOURCE}")
    assert_refused(resp, code="source_indisponible", status=502)

