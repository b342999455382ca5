"""Userinfo answers only a live bearer token, with a Bearer challenge otherwise."""

from __future__ import annotations

import copy
import time

import pytest
from werkzeug.test import Client

from .conftest import PUBLIC, build_app


def assert_invalid_token(resp) -> None:
    assert resp.status_code == 401
    assert 'error="invalid_token"' in resp.headers["WWW-Authenticate"]
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert resp.json()["error"] == "invalid_token"


def test_request_without_token_gets_a_bare_bearer_challenge(op):
    resp = op.http.get(op.url("oidc/userinfo"), timeout=10)

    assert resp.status_code == 401
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "error=" not in resp.headers["WWW-Authenticate"]


def test_unknown_token_is_invalid_token(op):
    assert_invalid_token(op.userinfo("t" * 43))


@pytest.mark.parametrize("token", ["a b", "<script>", "x" * 600, "é"])
def test_malformed_token_is_invalid_token(op, token):
    resp = op.http.get(op.url("oidc/userinfo"),
                       headers={"Authorization": f"Bearer {token}".encode()}, timeout=10)

    assert_invalid_token(resp)


def test_expired_token_is_invalid_token(short_op):
    tokens = short_op.tokens(short_op.login())
    time.sleep(1.5)

    assert_invalid_token(short_op.userinfo(tokens["access_token"]))


def test_id_token_is_not_an_access_token(op):
    tokens = op.tokens(op.login())

    assert_invalid_token(op.userinfo(tokens["id_token"]))


def test_token_in_both_header_and_form_is_refused(op):
    token = op.tokens(op.login())["access_token"]

    resp = op.http.post(op.url("oidc/userinfo"), data={"access_token": token},
                        headers={"Authorization": f"Bearer {token}"}, timeout=10)

    assert resp.status_code == 400 and resp.json()["error"] == "invalid_request"


def test_token_in_the_query_string_is_not_accepted(op):
    token = op.tokens(op.login())["access_token"]

    resp = op.http.get(op.url("oidc/userinfo"), params={"access_token": token}, timeout=10)

    assert resp.status_code == 401


def test_basic_credentials_are_not_a_bearer_token(op):
    resp = op.http.get(op.url("oidc/userinfo"), auth=("rp-confidentiel", "secret"), timeout=10)

    assert resp.status_code == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")


def test_bearer_scheme_is_case_insensitive(op):
    token = op.tokens(op.login())["access_token"]

    resp = op.http.get(op.url("oidc/userinfo"), headers={"Authorization": f"bearer {token}"},
                       timeout=10)

    assert resp.status_code == 200


def test_token_of_a_client_deactivated_since_is_invalid_token(op):
    # A redeployment without the client, sharing the store: its live tokens stop working.
    token = op.tokens(op.login(PUBLIC))["access_token"]
    config = copy.deepcopy(op.config)
    del config["FRONTEND_MODULES"][0]["config"]["clients"][PUBLIC]
    redeployed = Client(build_app(config, op.store_url))

    resp = redeployed.get("/oidc/userinfo", headers={"Authorization": f"Bearer {token}"})

    assert resp.status_code == 401 and resp.json["error"] == "invalid_token"
    assert op.userinfo(token).status_code == 200
