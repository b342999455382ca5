"""Hostile requests never get a 500 nor a redirect to an unregistered URI, and nothing
secret or personal reaches the logs."""

from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

from idp.logs import CHATTY, JsonFormatter

from .conftest import CONFIDENTIAL, IDENTITY, SUBJECT, basic

PATHS = ["/oidc/authorize", "/oidc/token", "/oidc/userinfo", "/oidc/jwks",
         "/.well-known/openid-configuration"]
NAMES = ["client_id", "redirect_uri", "response_type", "scope", "state", "nonce",
         "code_challenge", "code_challenge_method", "claims", "prompt", "request", "request_uri",
         "response_mode", "grant_type", "code", "code_verifier", "client_secret",
         "access_token", "client_assertion", "client_assertion_type"]
NASTY = ["", "\x00", "%", "%ff%fe", "\ud800", "é" * 3000, "a" * 7000, "[" * 1500, "{}", "null",
         "[]", '{"userinfo": {"email": {"essential": "yes"}}}', "none", "code", "S256", "plain",
         "openid", "https://rp.example.nc/callback", CONFIDENTIAL, "\r\nSet-Cookie: x=1",
         "<script>alert(1)</script>", "-1", "1e999", "NaN"]

values = st.one_of(st.sampled_from(NASTY), st.text(max_size=200))
params = st.dictionaries(st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), values,
                         max_size=12)
headers = st.one_of(st.none(), st.sampled_from(["Bearer", "Bearer  ", "Basic", "Basic ===",
                                                "Bearer \x7f", basic("é", "\x00"), "Digest x"]),
                    st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126),
                            max_size=100))


def registered(op) -> list[str]:
    return [u for rp in op.rps.values() for u in rp.redirect_uris]


def check(op, resp) -> None:
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
    if resp.status_code in (301, 302, 303, 307, 308):
        location = resp.headers["Location"]
        assert any(location.startswith(u + ("&" if "?" in u else "?"))
                   for u in registered(op)), location


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(path=st.sampled_from(PATHS), query=params, form=params, auth=headers,
       post=st.booleans())
def test_garbage_never_gets_a_500_or_a_foreign_redirect(op, path, query, form, auth, post):
    client = Client(op.app)
    extra = {"Authorization": auth} if auth is not None else {}
    safe = {k.encode("utf-8", "surrogatepass").decode("latin-1")[:200]: v
            for k, v in query.items()}
    if post:
        resp = client.post(path, query_string=None, headers=extra, data={
            k: v.encode("utf-8", "surrogatepass") for k, v in form.items()})
    else:
        resp = client.get(path, headers=extra, query_string={
            k: v.encode("utf-8", "surrogatepass") for k, v in safe.items()})
    check(op, resp)


@settings(max_examples=100, deadline=None)
@given(overrides=params)
def test_garbage_on_a_valid_authorization_request_never_escapes(op, overrides):
    base, _ = op.authorization_params(op.rps[CONFIDENTIAL])
    base.update(overrides)
    client = Client(op.app)

    resp = client.get("/oidc/authorize", query_string={
        k: v.encode("utf-8", "surrogatepass") for k, v in base.items()})

    check(op, resp)


@pytest.mark.parametrize("body", [b"\xff\xfe\x00" * 1000, b"a=" + b"%" * 100000,
                                  b"&".join(b"f%d=1" % i for i in range(500)),
                                  json.dumps({"grant_type": ["authorization_code"]}).encode()])
@pytest.mark.parametrize("path", PATHS)
def test_raw_hostile_bodies_never_get_a_500(op, path, body):
    resp = Client(op.app).post(path, data=body,
                               content_type="application/x-www-form-urlencoded")

    check(op, resp)


def test_no_token_code_or_personal_data_in_logs(op, caplog):
    for name in (*CHATTY, "werkzeug"):  # as in production (idp.logs), plus the test server
        caplog.set_level(logging.WARNING, logger=name)
    caplog.set_level(logging.DEBUG)  # last: it also sets the capturing handler's level
    login = op.login(claims=json.dumps({"id_token": {"email": None}}))
    tokens = op.tokens(login)
    sub = op.userinfo(tokens["access_token"]).json()["sub"]
    op.token(login)  # replay: revokes, logs a warning
    op.userinfo(tokens["access_token"])
    op.token(op.login(), code_verifier="w" * 64)

    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records)

    assert "tokens issued" in logged and "replayed" in logged
    secrets = [login.code, login.verifier, tokens["access_token"], tokens["id_token"],
               login.rp.secret, SUBJECT, sub, *(v[0] for v in IDENTITY.values())]
    for secret in secrets:
        assert secret not in logged
