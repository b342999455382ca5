"""What a service may demand of the authentication, and how the session honours it.

OIDC ``prompt=login`` and ``max_age`` force a fresh authentication at the source;
``prompt=none`` never shows a page (``login_required`` without a session); SAML
``ForceAuthn`` and ``IsPassive`` likewise. ``auth_time`` and ``AuthnInstant`` are
when the citizen really signed in at the source, also when the session answers.
"""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlsplit

import pytest
from saml2.response import StatusNoPassive

from idp.demo.citizens import CITIZENS
from idp.sso.session import COOKIE, digest
from idp.testbed.browser import Browser

from .clients import (
    OidcClient,
    SamlClient,
    answer_consent,
    cookie_of,
    query_of,
    sign_in_at_source,
)


def signed_in(fed, browser, citizen, service="rp-a", remember=False, **extra):
    """A first login at ``service`` through the source; the verified ID token's claims."""
    client = OidcClient(fed, service)
    req = client.request(**extra)
    page = client.start(browser, req)
    return client.tokens(req, sign_in_at_source(browser, page, citizen, client.redirect_uri,
                                                remember=remember))


def at_source(fed, resp, source="src-op") -> bool:
    return urlsplit(resp.url).netloc == urlsplit(fed.url(source)).netloc \
        and "mot_de_passe" in resp.text


# -- OIDC ---------------------------------------------------------------------------


def test_prompt_none_without_a_session_answers_login_required_at_once(fed):
    client = OidcClient(fed, "rp-a")
    req = client.request(prompt="none")
    asked = fed.apps["src-op"].authorize_requests

    first = Browser().get(req.url, follow=False)

    assert client.returned(first), "the first answer must already go back to the client"
    answer = query_of(first)
    assert answer["error"] == "login_required" and answer["state"] == req.state
    assert answer["iss"] == fed.proxy_url
    assert fed.apps["src-op"].authorize_requests == asked


def test_prompt_none_with_a_session_and_a_remembered_choice_shows_no_page(
        fed, remembering_citizen):
    browser = Browser()
    first = signed_in(fed, browser, remembering_citizen, remember=True)
    client = OidcClient(fed, "rp-a")
    req = client.request(prompt="none")

    resp = browser.get(req.url, follow=False)

    assert client.returned(resp), f"a page was shown: {resp.status_code} {resp.url}"
    assert client.tokens(req, resp)["sub"] == first["sub"]


def test_prompt_none_with_a_session_but_a_screen_to_show_answers_consent_required(
        fed, citizen):
    browser = Browser()
    signed_in(fed, browser, citizen)
    client = OidcClient(fed, "rp-b")  # never accepted in this browser: its screen is due
    req = client.request(prompt="none")

    resp = browser.get(req.url, follow=False)

    assert client.returned(resp), f"a page was shown: {resp.status_code} {resp.url}"
    answer = query_of(resp)
    assert answer["error"] == "consent_required" and answer["state"] == req.state


def test_prompt_consent_shows_the_screen_even_when_the_choice_is_remembered(
        fed, remembering_citizen):
    browser = Browser()
    signed_in(fed, browser, remembering_citizen, remember=True)
    client = OidcClient(fed, "rp-a")
    req = client.request(prompt="consent")

    resp = browser.get(req.url)

    assert "form-consentement" in resp.text, f"no consent screen: {resp.status_code} {resp.url}"
    assert not at_source(fed, resp)


def test_prompt_login_makes_the_source_authenticate_again(fed, citizen):
    browser = Browser()
    first = signed_in(fed, browser, citizen)
    client = OidcClient(fed, "rp-b")
    asked = fed.apps["src-op"].authorize_requests
    time.sleep(1.1)

    req = client.request(prompt="login")
    page = client.start(browser, req)

    assert fed.apps["src-op"].authorize_requests == asked + 1 and at_source(fed, page)
    claims = client.tokens(req, sign_in_at_source(browser, page, citizen, client.redirect_uri))
    assert claims["auth_time"] > first["auth_time"]


def test_max_age_zero_makes_the_source_authenticate_again(fed, citizen):
    browser = Browser()
    signed_in(fed, browser, citizen)
    client = OidcClient(fed, "rp-b")
    asked = fed.apps["src-op"].authorize_requests

    page = client.start(browser, client.request(max_age="0"))

    assert fed.apps["src-op"].authorize_requests == asked + 1 and at_source(fed, page)


def test_max_age_older_than_the_session_needs_a_new_authentication(fed, citizen):
    browser = Browser()
    signed_in(fed, browser, citizen)
    time.sleep(2.1)
    client = OidcClient(fed, "rp-b")

    page = client.start(browser, client.request(max_age="1"))

    assert at_source(fed, page)


def test_max_age_the_session_satisfies_is_answered_from_it(fed, citizen):
    browser = Browser()
    signed_in(fed, browser, citizen)
    client = OidcClient(fed, "rp-b")
    asked = fed.apps["src-op"].authorize_requests

    page = client.start(browser, client.request(max_age="3600"))

    assert fed.apps["src-op"].authorize_requests == asked and not at_source(fed, page)


def test_auth_time_is_when_the_citizen_signed_in_not_when_the_session_answered(fed, citizen):
    browser = Browser()
    first = signed_in(fed, browser, citizen)
    time.sleep(2.1)
    client = OidcClient(fed, "rp-b")
    req = client.request()

    page = client.start(browser, req)
    claims = client.tokens(req, answer_consent(browser, page, client.redirect_uri))

    assert claims["auth_time"] == first["auth_time"]
    assert claims["iat"] >= claims["auth_time"] + 2
    assert claims["acr"] == "http://eidas.europa.eu/LoA/substantial"


def test_a_fresh_authentication_gets_a_new_cookie_but_keeps_the_session(fed, store, citizen):
    browser = Browser()
    signed_in(fed, browser, citizen)
    before = cookie_of(browser, COOKIE)
    sid = store.get("sso-session", digest(before))["sid"]
    client = OidcClient(fed, "rp-b")
    req = client.request(prompt="login")

    page = client.start(browser, req)
    client.tokens(req, sign_in_at_source(browser, page, citizen, client.redirect_uri))

    after = cookie_of(browser, COOKIE)
    assert after != before, "the cookie value must change (no session fixation)"
    assert store.get("sso-session", digest(before)) is None
    assert store.get("sso-session", digest(after))["sid"] == sid
    assert set(store.items("sso-session-services", sid)) == {"rp-a", "rp-b"}


def test_another_citizen_signing_in_in_the_same_browser_ends_the_first_session(fed, store):
    browser = Browser()
    signed_in(fed, browser, CITIZENS[0])
    first = store.get("sso-session", digest(cookie_of(browser, COOKIE)))
    client = OidcClient(fed, "rp-b")
    req = client.request(prompt="login")

    page = client.start(browser, req)
    client.tokens(req, sign_in_at_source(browser, page, CITIZENS[2], client.redirect_uri))

    second = store.get("sso-session", digest(cookie_of(browser, COOKIE)))
    assert second["citizen"] != first["citizen"] and second["sid"] != first["sid"]
    assert first["sid"] not in store.items("sso-sessions", first["citizen"])
    assert store.items("sso-session-services", first["sid"]) == {}


@pytest.mark.parametrize("prompt", ["none login", "popup"])
def test_prompt_values_oidc_does_not_allow_are_refused(fed, prompt):
    client = OidcClient(fed, "rp-a")
    req = client.request(prompt=prompt)

    resp = Browser().get(req.url, follow=False)

    assert client.returned(resp) and query_of(resp)["error"] == "invalid_request"


def test_malformed_max_age_is_refused(fed):
    client = OidcClient(fed, "rp-a")

    resp = Browser().get(client.request(max_age="-1").url, follow=False)

    assert client.returned(resp) and query_of(resp)["error"] == "invalid_request"


# -- SAML ---------------------------------------------------------------------------


def test_force_authn_makes_the_source_authenticate_again(fed, citizen):
    browser = Browser()
    signed_in(fed, browser, citizen)
    sp = SamlClient(fed, "sp-a")
    asked = fed.apps["src-op"].authorize_requests
    _reqid, url = sp.request(force_authn="true")

    page = sp.start(browser, url)

    assert fed.apps["src-op"].authorize_requests == asked + 1 and at_source(fed, page)


def test_is_passive_without_a_session_gets_no_passive_without_any_page(fed):
    sp = SamlClient(fed, "sp-a")
    reqid, url = sp.request(is_passive="true")
    asked = fed.apps["src-op"].authorize_requests

    resp = Browser().get(url, follow=False)

    assert sp.returned(resp), "the first answer must already be the POST back to the SP"
    with pytest.raises(StatusNoPassive):
        sp.response(reqid, resp)
    assert fed.apps["src-op"].authorize_requests == asked


def test_is_passive_with_a_session_and_a_remembered_choice_gets_an_assertion(
        fed, remembering_citizen):
    browser = Browser()
    signed_in(fed, browser, remembering_citizen)
    sp = SamlClient(fed, "sp-a")
    reqid, url = sp.request()
    sp.response(reqid, answer_consent(browser, sp.start(browser, url), sp.acs, remember=True))
    reqid, url = sp.request(is_passive="true")

    resp = browser.get(url, follow=False)

    assert sp.returned(resp), f"a page was shown: {resp.status_code} {resp.url}"
    assert sp.response(reqid, resp).name_id.text


def test_is_passive_with_a_session_but_a_screen_to_show_gets_no_passive(fed, citizen):
    browser = Browser()
    signed_in(fed, browser, citizen)
    sp = SamlClient(fed, "sp-a")
    reqid, url = sp.request(is_passive="true")

    resp = browser.get(url, follow=False)

    assert sp.returned(resp), f"a page was shown: {resp.status_code} {resp.url}"
    with pytest.raises(StatusNoPassive):
        sp.response(reqid, resp)


def test_authn_instant_is_when_the_citizen_signed_in(fed, citizen):
    browser = Browser()
    first = signed_in(fed, browser, citizen)
    time.sleep(1.1)
    sp = SamlClient(fed, "sp-a")
    reqid, url = sp.request()

    answer = sp.response(reqid, answer_consent(browser, sp.start(browser, url), sp.acs))

    statement = answer.assertion.authn_statement[0]
    instant = dt.datetime.fromisoformat(statement.authn_instant.replace("Z", "+00:00"))
    assert int(instant.timestamp()) == first["auth_time"]
    assert statement.authn_context.authn_context_class_ref.text == \
        "http://eidas.europa.eu/LoA/substantial"
