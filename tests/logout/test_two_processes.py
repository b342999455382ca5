"""Two proxy processes sharing one Redis: a session made on one is ended on the other, and its
services are told from there."""

from __future__ import annotations

from urllib.parse import urlencode

from idp.testbed.browser import Browser

from .steps import (
    nothing_left_of,
    peer_cookie,
    result_lists,
    service_name,
    services_of,
    session_of,
    sign_in_to,
)


def test_a_session_made_on_one_process_is_ended_on_the_other(fed, other_proxy, store,
                                                             citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "rp-b", "sp-a"])
    record = session_of(store, browser)
    services = services_of(store, record["sid"])
    hint = fed.apps["rp-a"].id_token_of(peer_cookie(fed, browser, "rp-a"))
    rp_b, sp_a = fed.apps["rp-b"], fed.apps["sp-a"]
    told, asked = len(rp_b.backchannel_logouts), len(sp_a.logout_requests)
    assert other_proxy.proc.pid != fed.proxy.proc.pid

    page = browser.get(f"{other_proxy.url}/oidc/logout?" + urlencode({
        "id_token_hint": hint, "post_logout_redirect_uri": f"{fed.url('rp-a')}/"}))

    assert nothing_left_of(store, record, services)
    assert len(rp_b.backchannel_logouts) == told + 1
    assert len(sp_a.logout_requests) == asked + 1
    assert page.url.startswith(fed.url("rp-a"))


def test_the_answer_to_a_hop_may_reach_the_other_process(fed, other_proxy, store, citizen):
    # The SP answers on the proxy's public address: the plan is in Redis, not in a process.
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "sp-a"])
    record = session_of(store, browser)
    entry = services_of(store, record["sid"])["sp-a"]
    hint = fed.apps["rp-a"].id_token_of(peer_cookie(fed, browser, "rp-a"))

    page = browser.get(f"{other_proxy.url}/oidc/logout?" + urlencode({"id_token_hint": hint}))

    assert fed.apps["sp-a"].logout_requests[-1]["session_indexes"] == [entry["sid"]]
    # Started on the second process, answered on the first (sp-a uses our metadata's URL).
    assert any(r.url.startswith(f"{fed.proxy_url}/saml2/slo/") for r in browser.history)
    assert any(r.url.startswith(f"{other_proxy.url}/oidc/logout") for r in browser.history)
    assert service_name("sp-a") in result_lists(page)["informed"]
