"""Mon espace NC Connect: signing in through NC Connect itself, the session, its forms."""

from __future__ import annotations

import time
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, error_code_of
from plugins.frontends.account.session import COOKIE, store_key
from plugins.frontends.account.session import NAMESPACE as SESSION_NAMESPACE
from tests.account.space import (
    PATH,
    account_set_cookie,
    citizen_key,
    cookie_attributes,
    on_space,
    open_space,
    session_id,
)

# Behaviour of the page and its session: one store is enough (listings run on both).
pytestmark = pytest.mark.parametrize("proxy", ["redis"], indirect=True)

MARIE = CITIZENS[0]


def test_visiting_my_space_asks_me_to_choose_an_account_among_every_source(proxy):
    page = Browser().get(f"{proxy.url}{PATH}")
    assert urlsplit(page.url).path == "/choix"
    soup = BeautifulSoup(page.text, "html.parser")
    assert sorted(b["value"] for b in soup.select("button[name=source]")) == ["src-idp", "src-op"]
    assert "Mon espace NC Connect" in page.text


def test_after_signing_in_i_land_on_my_space_greeted_by_name(proxy):
    page = open_space(Browser(), proxy.url, MARIE)
    assert on_space(page)
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("h1").get_text(strip=True) == "Mon espace NC Connect"
    assert soup.select_one("#salutation").get_text(strip=True) == "Bonjour Marie-Claire Wamytan"
    assert '<html lang="fr">' in page.text


def test_my_space_speaks_english_when_the_browser_asks(proxy):
    page = open_space(Browser(accept_language="en-GB,en;q=0.9,fr;q=0.3"), proxy.url, MARIE)
    assert on_space(page)
    assert "My NC Connect space" in page.text
    assert "Sign out of my space" in page.text


def test_account_cookie_is_random_httponly_secure_lax_and_limited_to_my_space(proxy):
    browser = Browser()
    open_space(browser, proxy.url, MARIE)
    attrs = cookie_attributes(account_set_cookie(browser))
    assert len(attrs["value"]) == 43  # 256 random bits, URL-safe base64
    assert attrs["path"] == "/mon-compte"
    assert attrs["samesite"] == "Lax"
    assert "httponly" in attrs and "secure" in attrs
    assert int(attrs["max-age"]) == 900  # lifetimes.account_session


def test_the_session_holds_only_my_account_key_and_greeting(proxy):
    browser = Browser()
    open_space(browser, proxy.url, MARIE)
    assert proxy.store.get(SESSION_NAMESPACE, session_id(browser)) is None  # its hash only
    record = proxy.store.get(SESSION_NAMESPACE, store_key(session_id(browser)))
    assert set(record) == {"citizen", "greeting"}
    assert MARIE.username not in str(record)
    assert MARIE.claims["given_name"] not in str(record)  # sealed under the cookie


def test_an_unknown_session_cookie_sends_me_back_to_sign_in(proxy):
    browser = Browser()
    browser.session.cookies.set(COOKIE, "x" * 43, domain="127.0.0.1", path=PATH)
    assert urlsplit(browser.get(f"{proxy.url}{PATH}").url).path == "/choix"


def test_an_expired_session_sends_me_back_to_sign_in(proxy):
    browser = Browser()
    open_space(browser, proxy.url, MARIE)
    sid = session_id(browser)
    key = store_key(sid)
    proxy.store.put(SESSION_NAMESPACE, key, proxy.store.get(SESSION_NAMESPACE, key), ttl=1)
    time.sleep(1.5)
    assert urlsplit(browser.get(f"{proxy.url}{PATH}").url).path == "/choix"


def test_signing_out_ends_the_session_and_clears_the_cookie(proxy):
    browser = Browser()
    page = open_space(browser, proxy.url, MARIE)
    sid = session_id(browser)
    done = browser.submit(page, {}, form_selector="form.deconnexion")
    assert done.status_code == 200
    assert "Vous êtes déconnecté de votre espace" in done.text
    cleared = [h for h in done.raw.headers.getlist("Set-Cookie") if h.startswith(f"{COOKIE}=")]
    assert cleared and "Max-Age=0" in cleared[0]
    assert proxy.store.get(SESSION_NAMESPACE, store_key(sid)) is None
    again = Browser()
    again.session.cookies.set(COOKIE, sid, domain="127.0.0.1", path=PATH)
    assert urlsplit(again.get(f"{proxy.url}{PATH}").url).path == "/choix"


def test_signing_out_without_a_valid_token_is_refused(proxy):
    browser = Browser()
    open_space(browser, proxy.url, MARIE)
    sid = session_id(browser)
    resp = browser.post_form_data(f"{proxy.url}{PATH}/deconnexion", {"csrf": "forged"})
    assert resp.status_code == 403
    assert error_code_of(resp) == "compte_formulaire_invalide"
    assert proxy.store.get(SESSION_NAMESPACE, store_key(sid)) is not None


def test_forms_of_my_space_only_accept_post(proxy):
    browser = Browser()
    open_space(browser, proxy.url, MARIE)
    for path in ("/consentements/retirer", "/deconnexion"):
        resp = browser.get(f"{proxy.url}{PATH}{path}", follow=False)
        assert resp.status_code == 405
        assert error_code_of(resp) == "methode_non_autorisee"


def test_the_page_has_no_inline_script_or_style_and_headings_in_order(proxy):
    page = open_space(Browser(), proxy.url, MARIE)
    soup = BeautifulSoup(page.text, "html.parser")
    assert not soup.select("script:not([src])") and not soup.select("style, [style]")
    # Sessions, consents, history: one h2 each under the page's h1.
    assert [h.name for h in soup.select("h1, h2")] == ["h1", "h2", "h2", "h2"]
    assert all(th.get("scope") in ("col", "row") for th in soup.select("table th"))
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


def test_cancelling_at_the_source_leaves_me_signed_out_with_a_french_explanation(proxy):
    browser = Browser()
    page = browser.get(f"{proxy.url}{PATH}")
    page = browser.submit(page, {}, button=("source", "src-op"))
    back = browser.submit(page, {}, button=("action", "annuler"))
    # Back to the choice of account first; giving up there ends the sign-in.
    assert urlsplit(back.url).path == "/choix" and "Vous avez annulé" in back.text
    resp = browser.submit(back, {}, form_selector="form#form-retour", button=("retour", "1"))
    assert error_code_of(resp) == "compte_connexion_annulee"
    assert "Connexion à votre espace interrompue" in resp.text
    assert not [c for c in browser.session.cookies if c.name == COOKIE]


def test_giving_up_in_english_explains_it_in_english(proxy):
    browser = Browser()
    browser.session.headers["Accept-Language"] = "en-GB,en;q=0.9"
    page = browser.get(f"{proxy.url}{PATH}")
    page = browser.submit(page, {}, button=("source", "src-op"))
    back = browser.submit(page, {}, button=("action", "annuler"))
    resp = browser.submit(back, {}, form_selector="form#form-retour", button=("retour", "1"))
    assert error_code_of(resp) == "compte_connexion_annulee"
    assert '<html lang="en"' in resp.text


def test_the_same_citizen_through_the_other_source_has_the_same_account(proxy):
    by_oidc, by_saml = Browser(), Browser()
    open_space(by_oidc, proxy.url, MARIE, source="src-op")
    open_space(by_saml, proxy.url, MARIE, source="src-idp")
    assert citizen_key(proxy.store, by_oidc) == citizen_key(proxy.store, by_saml)
    assert session_id(by_oidc) != session_id(by_saml)
