"""The identity-source choice page: listed sources, remembered choice, single-source skip."""

from __future__ import annotations

from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.login import choose, sign_in, start


def _sources_on(page) -> list[str]:
    soup = BeautifulSoup(page.text, "html.parser")
    return [b["value"] for b in soup.select("button[name=source]")]


def test_service_with_two_sources_shows_both_in_french(fed):
    page = start(Browser(), fed.url("rp-choix"))
    assert urlsplit(page.url).path == "/choix"
    assert sorted(_sources_on(page)) == ["src-idp", "src-op"]
    assert "Je choisis un compte pour me connecter" in page.text
    assert '<html lang="fr">' in page.text


def test_choice_page_speaks_english_when_the_browser_asks(fed):
    page = start(Browser(accept_language="en-GB,en;q=0.9,fr;q=0.5"), fed.url("rp-choix"))
    assert "Choose an account to sign in" in page.text


def test_chosen_source_is_used_and_remembered(fed, citizen):
    browser = Browser()
    page = choose(browser, start(browser, fed.url("rp-choix")), "src-idp")
    assert urlsplit(page.url).netloc == urlsplit(fed.url("src-idp")).netloc
    assert attributes_of(sign_in(browser, page, citizen))["given_name"]
    # The SSO session would answer the next visit at once; the remembered choice outlives it.
    for cookie in [c for c in browser.session.cookies if c.name == "__Host-ncc_session"]:
        browser.session.cookies.clear(cookie.domain, cookie.path, cookie.name)
    again = start(browser, fed.url("rp-choix"))
    soup = BeautifulSoup(again.text, "html.parser")
    assert _sources_on(again)[0] == "src-idp"
    assert soup.select_one("button.memorise")["value"] == "src-idp"


def test_service_with_one_source_skips_the_page(fed):
    page = start(Browser(), fed.url("rp-op"))
    assert urlsplit(page.url).netloc == urlsplit(fed.url("src-op")).netloc


def test_source_not_allowed_for_the_service_is_refused(fed):
    browser = Browser()
    page = start(browser, fed.url("rp-choix"))
    resp = browser.submit(page, {}, button=("source", "src-inexistante"))
    assert resp.status_code == 403
    assert error_code_of(resp) == "source_non_autorisee"


def test_choice_without_csrf_token_is_refused(fed):
    browser = Browser()
    page = start(browser, fed.url("rp-choix"))
    resp = browser.submit(page, {"csrf": "forged"}, button=("source", "src-op"))
    assert resp.status_code == 403
    assert error_code_of(resp) == "csrf"


def test_choice_with_a_valid_token_posted_from_another_origin_is_refused(fed):
    browser = Browser()
    page = start(browser, fed.url("rp-choix"))
    form = BeautifulSoup(page.text, "html.parser").select_one("form")
    token = form.select_one("input[name=csrf]")["value"]
    resp = browser.session.post(page.url, data={"csrf": token, "source": "src-op"}, timeout=30,
                                allow_redirects=False, headers={"Origin": "https://pirate.example"})
    assert resp.status_code == 403
    assert error_code_of(resp) == "csrf"


def test_choice_token_from_another_flow_is_refused(fed):
    mine, theirs = Browser(), Browser()
    my_page = start(mine, fed.url("rp-choix"))
    their_token = BeautifulSoup(start(theirs, fed.url("rp-choix")).text,
                                "html.parser").select_one("input[name=csrf]")["value"]
    resp = mine.submit(my_page, {"csrf": their_token}, button=("source", "src-op"))
    assert error_code_of(resp) == "csrf"


def test_choice_page_lets_its_post_lead_to_the_sources_and_back_to_the_service(fed):
    """Browsers check form-action on every redirect after the post: the source's login page,
    and when the citizen is still signed in there, the service itself."""
    page = start(Browser(), fed.url("rp-choix"))
    csp = page.headers["Content-Security-Policy"]
    form_action = csp.split("form-action ")[1].split(";")[0].split()
    assert set(form_action) == {"'self'", fed.url("src-op"), fed.url("src-idp"),
                                fed.url("rp-choix")}
