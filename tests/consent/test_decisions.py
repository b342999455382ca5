"""What the service receives after the usager's decision: exactly what was shown and left
ticked, or — on refusal or cancel — a protocol error and nothing about the citizen."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

from idp.testbed.browser import Browser, attributes_of, autopost_form, error_code_of
from idp.testbed.login import decide

from .conftest import authorize_state, saml_names, screen_lines, to_screen


def test_accepting_sends_the_oidc_service_exactly_the_attributes_shown(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-accord", citizen)
    received = attributes_of(decide(browser, screen))
    assert set(received) - {"sub"} == set(screen_lines(screen))
    assert received["family_name"] == citizen.claims["family_name"]
    assert received["birthdate"] == citizen.claims["birthdate"]
    assert received["email"] == citizen.claims["email"]


def test_accepting_sends_the_saml_service_exactly_the_attributes_shown(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "sp-accord", citizen)
    received = attributes_of(decide(browser, screen))
    names = saml_names()
    assert {names[urn] for urn in received if urn != "nameid"} == set(screen_lines(screen))
    assert received["urn:oid:2.5.4.4"] == citizen.claims["family_name"]


def test_unticked_optional_attribute_is_not_received(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-accord", citizen)
    received = attributes_of(decide(browser, screen, untick=["email"]))
    assert "email" not in received
    assert set(received) == {"sub", "given_name", "family_name", "birthdate", "gender"}


def test_unticked_optional_attribute_is_not_received_by_a_saml_service(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "sp-accord", citizen)
    received = attributes_of(decide(browser, screen, untick=["email"]))
    assert "urn:oid:0.9.2342.19200300.100.1.3" not in received
    assert "urn:oid:2.5.4.4" in received


def test_continuing_an_information_screen_sends_the_attributes(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-info", citizen)
    received = attributes_of(decide(browser, screen))
    assert set(received) == {"sub", "given_name", "family_name", "birthdate", "email"}


def test_information_screen_still_lets_the_usager_untick_optional_attributes(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-info", citizen)
    received = attributes_of(decide(browser, screen, untick=["email"]))
    assert set(received) == {"sub", "given_name", "family_name", "birthdate"}


def test_refusal_sends_access_denied_and_the_original_state_to_the_registered_redirect_uri(
        cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-accord", citizen)
    callback = f"{cf.url('rp-accord')}/callback"
    answer = decide(browser, screen, accept=False, stop_at=callback)
    assert answer.status_code in (302, 303)
    location = answer.headers["Location"]
    assert location.split("?")[0] == callback
    query = parse_qs(urlsplit(location).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == [authorize_state(browser)]
    assert "code" not in query


def test_refused_oidc_service_shows_the_refusal_and_no_attribute(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-accord", citizen)
    page = decide(browser, screen, accept=False)
    assert urlsplit(page.url).netloc == urlsplit(cf.url("rp-accord")).netloc
    assert error_code_of(page) == "access_denied"
    assert citizen.claims["family_name"] not in page.text


def test_cancel_on_an_information_screen_sends_access_denied(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-info", citizen)
    callback = f"{cf.url('rp-info')}/callback"
    answer = decide(browser, screen, accept=False, stop_at=callback)
    query = parse_qs(urlsplit(answer.headers["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == [authorize_state(browser)]


def test_refusal_answers_a_saml_service_with_request_denied(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "sp-accord", citizen)
    acs = f"{cf.url('sp-accord')}/acs"
    posting = decide(browser, screen, accept=False, stop_at=acs)
    action, fields = autopost_form(posting)
    assert action == acs
    page = browser.follow(browser.post(action, fields, follow=False))
    assert error_code_of(page) == "RequestDenied"
    assert citizen.claims["family_name"] not in page.text


def test_refusal_ends_the_flow(cf, citizen):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-accord", citizen)
    decide(browser, screen, accept=False)
    again = browser.get(f"{cf.proxy_url}/consentement")
    assert error_code_of(again) == "consentement_expire"
