"""The token endpoint refuses, as JSON, anything but one correct redemption of one code."""

from __future__ import annotations

import base64
import threading
import time

import pytest

from .conftest import CONFIDENTIAL, POST_CLIENT, PUBLIC, Login, basic


def assert_error(resp, error: str, status: int = 400) -> None:
    assert resp.status_code == status, resp.text
    assert resp.headers["Content-Type"].startswith("application/json")
    assert resp.headers["Cache-Control"] == "no-store"
    assert resp.json()["error"] == error


def assert_invalid_client(resp) -> None:
    assert_error(resp, "invalid_client", 401)
    assert resp.headers["WWW-Authenticate"].startswith("Basic")


def still_redeemable(op, login: Login) -> bool:
    return op.token(login).status_code == 200


# -- method and body ----------------------------------------------------------------


def test_get_is_refused_with_405(op):
    resp = op.http.get(op.url("oidc/token"), params={"grant_type": "authorization_code"},
                       timeout=10)

    assert_error(resp, "invalid_request", 405)
    assert resp.headers["Allow"] == "POST"


def test_json_body_is_refused(op):
    login = op.login()
    rp = login.rp

    resp = op.http.post(op.url("oidc/token"), headers={"Authorization": basic(rp.client_id,
                                                                              rp.secret)},
                        json={"grant_type": "authorization_code", "code": login.code},
                        timeout=10)

    assert_error(resp, "invalid_request")


def test_repeated_parameter_is_refused(op):
    login = op.login()
    rp = login.rp
    body = (f"grant_type=authorization_code&code={login.code}&code=autre"
            f"&redirect_uri={login.redirect_uri}&code_verifier={login.verifier}")

    resp = op.http.post(op.url("oidc/token"), data=body, timeout=10, headers={
        "Authorization": basic(rp.client_id, rp.secret),
        "Content-Type": "application/x-www-form-urlencoded"})

    assert_error(resp, "invalid_request")
    assert still_redeemable(op, login)


# -- client authentication ------------------------------------------------------------


def test_unknown_client_is_invalid_client(op):
    login = op.login()
    resp = op.http.post(op.url("oidc/token"), headers={"Authorization": basic("rp-x", "s")},
                        data={"grant_type": "authorization_code", "code": login.code,
                              "redirect_uri": login.redirect_uri}, timeout=10)

    assert_invalid_client(resp)


def test_wrong_secret_is_invalid_client_and_keeps_the_code(op):
    login = op.login()

    resp = op.http.post(
        op.url("oidc/token"), headers={"Authorization": basic(CONFIDENTIAL, "mauvais")},
        data={"grant_type": "authorization_code", "code": login.code,
              "redirect_uri": login.redirect_uri, "code_verifier": login.verifier}, timeout=10)

    assert_invalid_client(resp)
    assert still_redeemable(op, login)


def test_basic_client_using_client_secret_post_is_refused(op):
    login = op.login(CONFIDENTIAL)

    assert_invalid_client(op.token(login, auth="client_secret_post"))


def test_post_client_using_client_secret_basic_is_refused(op):
    login = op.login(POST_CLIENT, pkce=False)

    assert_invalid_client(op.token(login, auth="client_secret_basic"))


def test_confidential_client_without_authentication_is_refused(op):
    login = op.login(CONFIDENTIAL)

    assert_invalid_client(op.token(login, auth="none"))


def test_public_client_presenting_a_secret_is_refused(op):
    login = op.login(PUBLIC)

    resp = op.token(login, auth="client_secret_post", client_secret="quelconque")

    assert_invalid_client(resp)


def test_two_authentication_methods_at_once_are_refused(op):
    login = op.login(CONFIDENTIAL)

    resp = op.token(login, client_secret=login.rp.secret)

    assert_error(resp, "invalid_request")


def test_basic_and_form_client_id_differing_is_refused(op):
    login = op.login(CONFIDENTIAL)

    assert_invalid_client(op.token(login, client_id=POST_CLIENT))


@pytest.mark.parametrize("header", [
    "Basic !!!notbase64",
    "Basic " + base64.b64encode(b"sans-deux-points").decode(),
    "Basic " + base64.b64encode(b"\xff\xfe:\xff").decode(),
    "Bearer abc",
    "Basic " + "A" * 5000,
    "Basic",
])
def test_malformed_authorization_header_is_invalid_client(op, header):
    login = op.login()

    resp = op.http.post(op.url("oidc/token"), headers={"Authorization": header},
                        data={"grant_type": "authorization_code", "code": login.code,
                              "redirect_uri": login.redirect_uri}, timeout=10)

    assert_invalid_client(resp)


def test_form_urlencoded_basic_credentials_are_decoded(op):
    # RFC 6749 §2.3.1: a client_id with reserved characters is form-encoded before Basic.
    login = op.login(CONFIDENTIAL)
    rp = login.rp
    header = "Basic " + base64.b64encode(
        f"{rp.client_id.replace('-', '%2D')}:{rp.secret}".encode()).decode()

    resp = op.http.post(op.url("oidc/token"), headers={"Authorization": header}, data={
        "grant_type": "authorization_code", "code": login.code,
        "redirect_uri": login.redirect_uri, "code_verifier": login.verifier}, timeout=10)

    assert resp.status_code == 200


# -- grant ------------------------------------------------------------------------------


def test_missing_grant_type_is_invalid_request(op):
    assert_error(op.token(op.login(), grant_type=None), "invalid_request")


@pytest.mark.parametrize("grant_type", ["refresh_token", "client_credentials", "password",
                                        "urn:ietf:params:oauth:grant-type:jwt-bearer"])
def test_other_grant_types_are_unsupported(op, grant_type):
    assert_error(op.token(op.login(), grant_type=grant_type), "unsupported_grant_type")


def test_missing_code_is_invalid_request(op):
    assert_error(op.token(op.login(), code=None), "invalid_request")


def test_unknown_code_is_invalid_grant(op):
    assert_error(op.token(op.login(), code="c" * 43), "invalid_grant")


def test_oversized_code_is_refused(op):
    assert_error(op.token(op.login(), code="c" * 5000), "invalid_request")


def test_code_of_another_client_is_refused_and_burnt(op):
    stolen = op.login(CONFIDENTIAL)
    thief = op.login(PUBLIC)

    resp = op.token(Login(thief.rp, stolen.code, stolen.state, stolen.nonce, stolen.verifier,
                          thief.rp.redirect_uri))

    assert_error(resp, "invalid_grant")
    assert_error(op.token(stolen), "invalid_grant")


def test_redirect_uri_differing_from_the_request_is_refused(op):
    login = op.login(CONFIDENTIAL)

    resp = op.token(login, redirect_uri=login.rp.redirect_uris[1])

    assert_error(resp, "invalid_grant")


def test_missing_redirect_uri_is_refused_and_keeps_the_code(op):
    login = op.login(CONFIDENTIAL)

    assert_error(op.token(login, redirect_uri=None), "invalid_request")
    assert still_redeemable(op, login)


def test_expired_code_is_refused(short_op):
    login = short_op.login()
    time.sleep(1.5)

    assert_error(short_op.token(login), "invalid_grant")


# -- PKCE -----------------------------------------------------------------------------


def test_missing_code_verifier_is_refused(op):
    assert_error(op.token(op.login(), code_verifier=None), "invalid_grant")


def test_wrong_code_verifier_is_refused(op):
    assert_error(op.token(op.login(), code_verifier="w" * 64), "invalid_grant")


@pytest.mark.parametrize("verifier", ["short", "v" * 129, "v" * 42 + " ", "é" * 50])
def test_malformed_code_verifier_is_refused(op, verifier):
    assert_error(op.token(op.login(), code_verifier=verifier), "invalid_grant")


def test_code_verifier_without_challenge_is_refused(op):
    login = op.login(POST_CLIENT, pkce=False)

    resp = op.token(login, code_verifier="v" * 64)

    assert_error(resp, "invalid_grant")


def test_public_client_without_verifier_is_refused(op):
    assert_error(op.token(op.login(PUBLIC), code_verifier=None), "invalid_grant")


# -- one-time codes --------------------------------------------------------------------


def test_replayed_code_is_refused(op):
    login = op.login()
    op.tokens(login)

    assert_error(op.token(login), "invalid_grant")


def test_replayed_code_revokes_the_access_token_issued_from_it(op):
    login = op.login()
    tokens = op.tokens(login)
    assert op.userinfo(tokens["access_token"]).status_code == 200

    op.token(login)

    assert op.userinfo(tokens["access_token"]).status_code == 401


def test_concurrent_redemptions_from_two_threads_give_one_success(op):
    for _ in range(5):
        login = op.login()
        barrier = threading.Barrier(2)
        statuses: list[int] = []

        def redeem(login=login, barrier=barrier, statuses=statuses):
            barrier.wait(timeout=10)
            statuses.append(op.token(login).status_code)

        threads = [threading.Thread(target=redeem) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=20)

        assert sorted(statuses) == [200, 400]
