"""The pending authorization survives a round trip through the shared flow store, and a
source answer the frontend cannot use ends on our page."""

from __future__ import annotations

from http.cookies import SimpleCookie

import pytest
from satosa.context import Context
from satosa.internal import InternalData
from satosa.state import State

from idp.errors import FlowError

from .conftest import DEFERRED, IDENTITY, NO_SUBJECT, Login, redirect_query


def flow_cookie(resp) -> str:
    cookie = SimpleCookie()
    cookie.load(resp.headers["Set-Cookie"])
    return f"__Host-ncc_flux={cookie['__Host-ncc_flux'].value}"


def test_login_answered_in_a_later_request_gets_its_code(op):
    rp = op.rps[DEFERRED]
    params, verifier = op.authorization_params(rp, scope="openid email")
    first = op.authorize(params)
    assert first.status_code == 303 and first.headers["Location"].endswith("/reponse")

    # The flow cookie is Secure: requests would not send it over http, so it is sent by hand.
    second = op.http.get(first.headers["Location"], allow_redirects=False, timeout=10,
                         headers={"Cookie": flow_cookie(first)})

    query = redirect_query(second, rp.redirect_uri)
    assert query["state"] == params["state"]
    login = Login(rp, query["code"], params["state"], params["nonce"], verifier,
                  rp.redirect_uri)
    info = op.userinfo(op.tokens(login)["access_token"]).json()
    assert info["email"] == IDENTITY["email"][0] and "family_name" not in info


def test_answer_for_a_flow_without_pending_authorization_is_session_expiree(op):
    frontend = op.app.module_router.frontends["oidc"]["instance"]
    context = Context()
    context.state = State()
    answer = InternalData(requester=DEFERRED, subject_id="x")

    with pytest.raises(FlowError) as stopped:
        frontend.handle_authn_response(context, answer)

    assert stopped.value.code == "session_expiree"


def test_source_answer_without_subject_ends_on_our_page(op):
    params, _ = op.authorization_params(op.rps[NO_SUBJECT])

    resp = op.authorize(params)

    assert resp.status_code == 400 and "Location" not in resp.headers
    assert "reponse_source_invalide" in resp.text
