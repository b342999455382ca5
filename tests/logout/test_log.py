"""Logout is logged — who was told, how many sessions ended — without personal data, tokens or
cookies."""

from __future__ import annotations

from idp.sso.session import COOKIE
from idp.testbed.browser import Browser

from .steps import cookie, peer_cookie, services_of, session_of, sign_in_to


def test_the_log_tells_the_logout_without_personal_data_or_tokens(fed, store, citizen):
    browser = Browser()
    received = sign_in_to(fed, browser, citizen, ["rp-a", "rp-b", "sp-a"])
    record = session_of(store, browser)
    services = services_of(store, record["sid"])
    hint = fed.apps["rp-a"].id_token_of(peer_cookie(fed, browser, "rp-a"))
    session_cookie = cookie(browser, COOKIE)

    browser.get(f"{fed.url('rp-a')}/logout")
    log = (fed.folder / "proxy.log").read_text(encoding="utf-8")

    assert '"sso sessions ended"' in log and '"service told of the logout"' in log
    assert '"single logout done"' in log
    secrets = [session_cookie, hint, record["sid"], record["citizen"],
               received["rp-b"]["sub"], received["sp-a"]["nameid"],
               *(e["sid"] for e in services.values()), *citizen.claims.values()]
    assert not [s for s in secrets if s and len(s) > 3 and s in log]
