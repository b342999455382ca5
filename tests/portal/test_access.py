"""Who gets in: a role held by the account key, a session cookie of its own, checked forms."""

from __future__ import annotations

import time

from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, error_code_of
from plugins.frontends.admin import enrolment
from plugins.frontends.admin.roles import NAMESPACE, OWNER, Roles

from .steps import HOME, account_key, on_home, open_portal, portal_set_cookie, refusal_of


def _holder(portal, role: str, citizen) -> Browser:
    """A browser signed in to the portal as ``citizen``, enrolled to ``role``."""
    browser = Browser()
    invitation = enrolment.invite(portal.store, role, 600)
    assert on_home(open_portal(browser, invitation.link(portal.url), citizen))
    return browser


def test_a_citizen_without_a_role_gets_403_and_no_session(portal):
    browser = Browser()
    page = open_portal(browser, f"{portal.url}{HOME}", CITIZENS[3])
    assert page.status_code == 403 and refusal_of(page) == "sans_role"
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.html["lang"] == "fr" and soup.h1.get_text() == "Accès réservé"
    assert soup.select_one("#roles, #lien-diffusion") is None
    assert not [c for c in browser.session.cookies if c.name.endswith("ncc_admin")]
    refused = [line for line in portal.fed.audit_lines() if line["event"] == "portal_refused"
               and line.get("reason") == "no_role"]
    assert refused


def test_an_administrator_sees_the_role_holders_abbreviated(portal):
    admin = _holder(portal, "admin", CITIZENS[0])
    dpo = _holder(portal, "dpo", CITIZENS[1])
    page = admin.get(f"{portal.url}{HOME}")
    rows = BeautifulSoup(page.text, "html.parser").select("table#table-roles tbody tr")
    shown = {r.th.code.get_text(): r.find("td").get_text() for r in rows}
    for browser, role in ((admin, "administrateur"), (dpo, "délégué(e)")):
        key = account_key(portal.store, browser)
        assert shown[f"{key[:8]}…"].startswith(role)
        assert key not in page.text  # never the whole key
    assert "(vous)" in page.text


def test_a_dpo_does_not_see_the_role_holders(portal):
    page = _holder(portal, "dpo", CITIZENS[2]).get(f"{portal.url}{HOME}")
    assert on_home(page)
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("#table-roles") is None and soup.select_one("#lien-diffusion")


def test_each_sign_in_renews_the_role(portal):
    browser = _holder(portal, "dpo", CITIZENS[3])
    key = account_key(portal.store, browser)
    [before] = Roles(portal.store, 395).roles_of(key)
    assert before.expires_at >= time.time() + 395 * 86400 - 60  # the settings' default
    time.sleep(1.1)
    again = Browser()
    assert on_home(open_portal(again, f"{portal.url}{HOME}", CITIZENS[3]))
    [after] = Roles(portal.store, 395).roles_of(key)
    assert after.expires_at > before.expires_at
    assert after.granted_at == before.granted_at
    assert portal.store.items(NAMESPACE, OWNER)[f"{key}:dpo"]["role"] == "dpo"


def test_a_lapsed_role_closes_the_open_session(portal):
    browser = _holder(portal, "dpo", CITIZENS[4])
    portal.store.delete_item(NAMESPACE, OWNER, f"{account_key(portal.store, browser)}:dpo")
    page = browser.get(f"{portal.url}/admin/diffusion")
    assert page.status_code == 403 and refusal_of(page) == "sans_role"


def test_the_session_cookie_is_secure_host_only_and_limited_to_admin(portal):
    browser = _holder(portal, "dpo", CITIZENS[0])
    cookie = portal_set_cookie(browser)
    assert len(cookie["value"]) == 43
    assert cookie["path"] == "/admin" and cookie["samesite"] == "Lax"
    assert "httponly" in cookie and "secure" in cookie and "domain" not in cookie
    assert int(cookie["max-age"]) == 900


def _logout_form(page) -> tuple[str, str]:
    form = BeautifulSoup(page.text, "html.parser").select_one("form.deconnexion")
    return form["action"], form.select_one("input[name=csrf]")["value"]


def test_a_logout_post_without_its_csrf_token_is_refused(portal):
    browser = _holder(portal, "dpo", CITIZENS[1])
    action, _ = _logout_form(browser.get(f"{portal.url}{HOME}"))
    for data in ({}, {"csrf": "0" * 64}, {"csrf": ["a", "b"]}):
        refused = browser.session.post(action, data=data, allow_redirects=False,
                                       headers={"Sec-Fetch-Site": "same-origin"})
        assert refused.status_code == 403 and error_code_of(refused) == \
            "compte_formulaire_invalide"
    assert on_home(browser.get(f"{portal.url}{HOME}"))  # still signed in


def test_a_logout_post_from_another_origin_is_refused_even_with_its_token(portal):
    browser = _holder(portal, "dpo", CITIZENS[2])
    action, token = _logout_form(browser.get(f"{portal.url}{HOME}"))
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"},
                    {"Origin": "null"}):
        refused = browser.session.post(action, data={"csrf": token}, headers=headers,
                                       allow_redirects=False)
        assert refused.status_code == 403, headers
    assert on_home(browser.get(f"{portal.url}{HOME}"))
    ok = browser.session.post(action, data={"csrf": token}, allow_redirects=False,
                              headers={"Sec-Fetch-Site": "same-origin",
                                       "Origin": portal.url})
    assert ok.status_code == 200 and "déconnecté" in ok.text
    assert not on_home(browser.get(f"{portal.url}{HOME}"))  # signed out: a new sign-in


def test_hostile_requests_never_end_in_a_500(portal):
    browser = _holder(portal, "admin", CITIZENS[3])
    for path in ("/admin/inconnu", "/admin/diffusion/../../etc/passwd", "/admin//",
                 "/admin/diffusion.csv.bak", "/admin/diffusion?attribut=%00&attribut=x",
                 "/admin/diffusion?sensibilite=" + "x" * 5000,
                 "/admin/diffusion?base_legale=<script>"):
        page = browser.get(f"{portal.url}{path}")
        assert page.status_code in (200, 404), (path, page.status_code)
        assert "<script>" not in page.text
    posted = browser.session.post(f"{portal.url}/admin/diffusion", data={"x": "1"},
                                  allow_redirects=False)
    assert posted.status_code == 405
    assert browser.get(f"{portal.url}/admin/deconnexion").status_code == 405


def test_the_pages_speak_english_when_the_browser_asks(portal):
    browser = Browser(accept_language="en-GB,en;q=0.9")
    invitation = enrolment.invite(portal.store, "dpo", 600)
    page = open_portal(browser, invitation.link(portal.url), CITIZENS[4])
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.html["lang"] == "en" and soup.h1.get_text() == "NC Connect administration"
    report = BeautifulSoup(browser.get(f"{portal.url}/admin/diffusion").text, "html.parser")
    assert report.h1.get_text() == "Data diffusion report"
