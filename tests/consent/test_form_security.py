"""The consent form releases a response once, to the flow that was shown it, and to nobody
else; the response waits server-side and nothing personal reaches a cookie."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import unquote

from bs4 import BeautifulSoup

from idp.testbed.browser import Browser, attributes_of, autopost_form, error_code_of
from idp.testbed.login import consent_form, decide

from .conftest import to_screen


def _nothing_released(resp, citizen) -> None:
    """An error page of ours: no redirect to the service, no SAML post, no attribute value."""
    assert resp.status_code in (400, 403)
    assert "Location" not in resp.headers
    assert autopost_form(resp) is None
    assert not any(value in resp.text for value in citizen.claims.values())


def test_post_without_csrf_token_is_refused_and_releases_nothing(cf, citizen):
    browser = Browser()
    action, fields = consent_form(to_screen(browser, cf, "rp-accord", citizen))
    del fields["csrf"]
    resp = browser.post(action, fields, follow=False)
    _nothing_released(resp, citizen)
    assert error_code_of(resp) == "csrf"


def _post_stating(cf, citizen, **headers: str):
    """The consent form posted with its valid token, the browser stating ``headers``."""
    browser = Browser()
    action, fields = consent_form(to_screen(browser, cf, "rp-accord", citizen))
    return browser, browser.session.post(action, data=fields, allow_redirects=False,
                                         timeout=30, headers=headers)


def test_post_with_a_valid_token_from_a_foreign_origin_is_refused_and_releases_nothing(
        cf, citizen):
    _, resp = _post_stating(cf, citizen, Origin="https://pirate.example")
    _nothing_released(resp, citizen)
    assert error_code_of(resp) == "csrf"


def test_post_the_browser_marks_cross_site_is_refused_and_releases_nothing(cf, citizen):
    _, resp = _post_stating(cf, citizen, **{"Origin": "null", "Sec-Fetch-Site": "cross-site"})
    _nothing_released(resp, citizen)
    assert error_code_of(resp) == "csrf"


def test_post_the_browser_marks_same_origin_is_accepted(cf, citizen):
    browser, resp = _post_stating(cf, citizen,
                                  **{"Origin": "null", "Sec-Fetch-Site": "same-origin"})
    assert attributes_of(browser.follow(resp))["family_name"] == citizen.claims["family_name"]


def test_post_with_another_flows_token_is_refused_and_releases_nothing(cf, citizen):
    mine, theirs = Browser(), Browser()
    action, fields = consent_form(to_screen(mine, cf, "rp-accord", citizen))
    _, their_fields = consent_form(to_screen(theirs, cf, "rp-accord", citizen))
    assert their_fields["csrf"] != fields["csrf"]
    resp = mine.post(action, {**fields, "csrf": their_fields["csrf"]}, follow=False)
    _nothing_released(resp, citizen)
    assert error_code_of(resp) == "csrf"


def test_refused_post_leaves_the_waiting_response_unusable(cf, citizen):
    browser = Browser()
    action, fields = consent_form(to_screen(browser, cf, "rp-accord", citizen))
    browser.post(action, {**fields, "csrf": "forged"}, follow=False)
    resp = browser.post(action, fields, follow=False)
    _nothing_released(resp, citizen)
    assert error_code_of(resp) == "consentement_expire"


def test_replayed_post_is_refused(cf, citizen):
    browser = Browser()
    action, fields = consent_form(to_screen(browser, cf, "rp-accord", citizen))
    assert attributes_of(browser.follow(browser.post(action, fields, follow=False)))
    replay = browser.post(action, fields, follow=False)
    _nothing_released(replay, citizen)
    assert error_code_of(replay) == "consentement_expire"


def test_post_from_a_browser_without_the_flow_is_refused(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-accord", citizen)
    action, fields = consent_form(screen)
    resp = Browser().post(action, fields, follow=False)
    _nothing_released(resp, citizen)
    assert error_code_of(resp) == "consentement_expire"
    # A stranger's post does not touch the usager's flow: their own answer still goes through.
    assert attributes_of(decide(browser, screen))["family_name"] == citizen.claims["family_name"]


def test_unknown_decision_is_refused_and_releases_nothing(cf, citizen):
    browser = Browser()
    action, fields = consent_form(to_screen(browser, cf, "rp-accord", citizen))
    resp = browser.post(action, {**fields, "decision": "peut-etre"}, follow=False)
    _nothing_released(resp, citizen)
    assert error_code_of(resp) == "requete_invalide"


def test_screen_without_a_waiting_response_is_a_french_page(cf):
    resp = Browser().get(f"{cf.proxy_url}/consentement")
    assert resp.status_code == 400
    assert error_code_of(resp) == "consentement_expire"
    assert "Demande de transmission expirée" in resp.text


def test_screen_sets_no_cookie_but_the_flow_one(cf, citizen):
    browser = Browser()
    attributes_of(decide(browser, to_screen(browser, cf, "rp-accord", citizen)))
    screen_steps = [r for r in browser.history if r.url == f"{cf.proxy_url}/consentement"]
    assert {r.request.method for r in screen_steps} == {"GET", "POST"}  # page, form's answer
    names = {h.split("=", 1)[0] for r in screen_steps for h in r.raw.headers.getlist("Set-Cookie")}
    assert names <= {"__Host-ncc_flux"}


def test_cookies_hold_no_personal_data(cf, citizen):
    browser = Browser()
    attributes_of(decide(browser, to_screen(browser, cf, "rp-accord", citizen)))
    from_proxy = [h for r in browser.history if r.url.startswith(cf.proxy_url)
                  for h in r.raw.headers.getlist("Set-Cookie")]
    assert from_proxy
    values = [unquote(c.value) for c in browser.session.cookies] + from_proxy
    personal = [v for v in citizen.claims.values() if len(v) > 3]
    assert not any(p.lower() in v.lower() for v in values for p in personal)


def test_screen_is_not_cached_and_holds_the_values_only_in_the_page(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-accord", citizen)
    assert screen.headers["Cache-Control"] == "no-store"
    assert citizen.claims["family_name"] in BeautifulSoup(screen.text, "html.parser").get_text()
    assert citizen.claims["family_name"] not in screen.headers.get("Set-Cookie", "")


def test_proxy_log_holds_no_personal_data(cf, citizen):
    browser = Browser()
    action, fields = consent_form(to_screen(browser, cf, "rp-accord", citizen))
    browser.post(action, {**fields, "csrf": "forged"}, follow=False)
    log = (cf.fed.folder / "proxy.log").read_text(encoding="utf-8")
    assert '"code": "csrf"' in log
    assert not any(value in log for value in citizen.claims.values())


def test_simultaneous_posts_release_the_response_once(cf, citizen):
    """Eight posts of the same answer at once (a double click, a replay): one code, seven pages."""
    browser = Browser()
    action, fields = consent_form(to_screen(browser, cf, "rp-accord", citizen))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: browser.post_form_data(action, fields), range(8)))
    released = [a for a in answers if "code=" in a.headers.get("Location", "")]
    assert len(released) == 1
    assert all(error_code_of(a) == "consentement_expire" for a in answers if a not in released)
