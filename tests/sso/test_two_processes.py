"""Two proxy processes sharing one Redis: a session made on one is used on the other."""

from __future__ import annotations

from idp.testbed.browser import Browser

from .clients import OidcClient, sign_in_at_source


def test_a_session_made_on_one_proxy_process_answers_on_another(fed, other_proxy,
                                                                 remembering_citizen):
    browser = Browser()
    here = OidcClient(fed, "rp-a")
    req = here.request()
    page = here.start(browser, req)
    first = here.tokens(req, sign_in_at_source(browser, page, remembering_citizen,
                                               here.redirect_uri,
                                               remember=True))
    asked = fed.apps["src-op"].authorize_requests
    assert other_proxy.proc.pid != fed.proxy.proc.pid

    there = OidcClient(fed, "rp-a", proxy_url=other_proxy.url)
    req = there.request()
    resp = browser.get(req.url, follow=False)

    assert resp.url.startswith(other_proxy.url)
    assert there.returned(resp), f"the other process showed a page: {resp.status_code}"
    claims = there.tokens(req, resp)
    assert claims["sub"] == first["sub"] and claims["auth_time"] == first["auth_time"]
    assert fed.apps["src-op"].authorize_requests == asked
