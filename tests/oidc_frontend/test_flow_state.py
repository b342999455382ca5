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


def _request_with_flow(cookie: str) -> Context:
    context = Context()
    context.cookie = cookie
    return context


def test_flow_state_not_rewritten_when_a_request_leaves_it_unchanged(op):
    """On the real store: a request that only reads the flow state writes nothing back (the
    sealed record, whose nonce is random, stays byte for byte the same, and no new cookie is
    sent); a request that changes it writes it, sealed anew, with a fresh cookie."""
    from satosa.response import Response

    from idp.app import FLOW_NAMESPACE, flow_key

    app = op.app
    first = op.authorize(op.authorization_params(op.rps[DEFERRED])[0])
    cookie = flow_cookie(first)
    fid = cookie.split("=", 1)[1]
    stored = app.store.get(FLOW_NAMESPACE, flow_key(fid))
    assert stored is not None

    context = _request_with_flow(cookie)
    app._load_state(context)
    assert len(context.state.data) > 1  # the pending authorization is in there
    unchanged = Response("page")
    app._save_state(unchanged, context)
    assert app.store.get(FLOW_NAMESPACE, flow_key(fid)) == stored
    assert not [h for h in unchanged.headers if h[0] == "Set-Cookie"]

    context = _request_with_flow(cookie)
    app._load_state(context)
    context.state["ncc.test"] = {"step": 2}
    changed = Response("page")
    app._save_state(changed, context)
    rewritten = app.store.get(FLOW_NAMESPACE, flow_key(fid))
    assert rewritten is not None and rewritten != stored
    assert [h for h in changed.headers if h[0] == "Set-Cookie"]

    # a change to a nested value counts too (the loaded copy is not the live one)
    context = _request_with_flow(cookie)
    app._load_state(context)
    context.state["ncc.test"]["step"] = 3
    app._save_state(Response("page"), context)
    context = _request_with_flow(cookie)
    app._load_state(context)
    assert context.state["ncc.test"] == {"step": 3}


def test_records_written_with_the_flow_land_with_it_or_not_at_all(op):
    """``write_with_flow``: queued during the request, written with the flow state when the
    response is saved (here with its deletion, as at the end of a login); a request that
    fails before its response is saved writes none of them."""
    from satosa.response import Response

    from idp.app import FLOW_NAMESPACE, flow_key, write_with_flow
    from idp.stores import Put

    app = op.app
    first = op.authorize(op.authorization_params(op.rps[DEFERRED])[0])
    cookie = flow_cookie(first)
    fid = cookie.split("=", 1)[1]

    context = _request_with_flow(cookie)
    app._load_state(context)
    write_with_flow(context, app.store, Put("t-with-flow", "dropped", {"v": 0}, 60))
    # ...the request fails here: nothing saved
    assert app.store.get("t-with-flow", "dropped") is None

    context = _request_with_flow(cookie)
    app._load_state(context)
    write_with_flow(context, app.store, Put("t-with-flow", "code", {"v": 1}, 60))
    write_with_flow(context, app.store, Put("t-with-flow", "owner", {"v": 2}, 60, item="h"))
    assert app.store.get("t-with-flow", "code") is None  # not before the response is saved
    context.state.delete = True
    app._save_state(Response("done"), context)
    assert app.store.get("t-with-flow", "code") == {"v": 1}
    assert app.store.items("t-with-flow", "owner") == {"h": {"v": 2}}
    assert app.store.get(FLOW_NAMESPACE, flow_key(fid)) is None
    assert app.store.get("t-with-flow", "dropped") is None

    # outside the application (no request being served): written at once
    write_with_flow(Context(), app.store, Put("t-with-flow", "alone", {"v": 3}, 60))
    assert app.store.get("t-with-flow", "alone") == {"v": 3}
