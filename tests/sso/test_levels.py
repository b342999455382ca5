"""Levels of assurance: the registry's levels, what a request may ask for, what is stated.

Sources: ``src-idp`` (SAML) low, ``src-op`` (OIDC) substantial, ``src-haut`` (OIDC) high.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from saml2.response import StatusNoAuthnContext

from idp.sso.session import COOKIE, digest
from idp.testbed.browser import Browser, error_code_of
from idp.testbed.login import choose

from .clients import (
    OidcClient,
    SamlClient,
    answer_consent,
    cookie_of,
    query_of,
    sign_in_at_source,
)

LOW = "http://eidas.europa.eu/LoA/low"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
HIGH = "http://eidas.europa.eu/LoA/high"


def sources_on(page) -> list[str]:
    assert urlsplit(page.url).path == "/choix", f"not the choice page: {page.url}"
    return sorted(b["value"] for b in BeautifulSoup(page.text, "html.parser")
                  .select("button[name=source]"))


def test_choice_page_offers_every_source_when_no_level_is_asked(fed):
    client = OidcClient(fed, "rp-trois")

    page = client.start(Browser(), client.request())

    assert sources_on(page) == ["src-haut", "src-idp", "src-op"]


def test_a_request_for_substantial_never_sees_the_low_source(fed):
    client = OidcClient(fed, "rp-trois")

    page = client.start(Browser(), client.request(acr_values=SUBSTANTIAL))

    assert sources_on(page) == ["src-haut", "src-op"]


def test_a_service_requiring_substantial_never_sees_the_low_source(fed):
    client = OidcClient(fed, "rp-substantiel")

    page = client.start(Browser(), client.request())

    assert sources_on(page) == ["src-haut", "src-op"]


def test_a_saml_request_for_substantial_never_sees_the_low_source(fed):
    sp = SamlClient(fed, "sp-trois")
    _reqid, url = sp.request([SUBSTANTIAL], comparison="minimum")

    assert sources_on(sp.start(Browser(), url)) == ["src-haut", "src-op"]


def test_the_low_source_posted_to_a_substantial_login_is_refused(fed):
    browser = Browser()
    client = OidcClient(fed, "rp-trois")
    page = client.start(browser, client.request(acr_values="eidas2"))

    resp = browser.submit(page, {}, button=("source", "src-idp"))

    assert resp.status_code == 403 and error_code_of(resp) == "source_non_autorisee"


def test_a_level_no_source_of_the_service_reaches_is_a_protocol_error(fed):
    client = OidcClient(fed, "rp-idp")
    req = client.request(acr_values="eidas2")
    received = fed.apps["src-idp"].authn_requests

    resp = Browser().get(req.url, follow=False)

    assert client.returned(resp), "no page: the service is told"
    answer = query_of(resp)
    assert answer["error"] == "unmet_authentication_requirements"
    assert answer["state"] == req.state
    assert fed.apps["src-idp"].authn_requests == received


def test_an_unknown_level_is_refused_not_answered_lower(fed):
    client = OidcClient(fed, "rp-trois")

    resp = Browser().get(client.request(acr_values="eidas2 urn:niveau:maison").url,
                         follow=False)

    assert client.returned(resp)
    assert query_of(resp)["error"] == "unmet_authentication_requirements"


def test_a_saml_level_no_source_reaches_gets_no_authn_context(fed):
    sp = SamlClient(fed, "sp-idp")
    reqid, url = sp.request([SUBSTANTIAL], comparison="minimum")

    resp = Browser().get(url, follow=False)

    assert sp.returned(resp), "no page: the SP is told"
    with pytest.raises(StatusNoAuthnContext):
        sp.response(reqid, resp)


def test_a_saml_context_that_is_no_eidas_level_gets_no_authn_context(fed):
    sp = SamlClient(fed, "sp-a")
    reqid, url = sp.request(
        ["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"])

    resp = Browser().get(url, follow=False)

    assert sp.returned(resp)
    with pytest.raises(StatusNoAuthnContext):
        sp.response(reqid, resp)


def test_the_response_states_the_level_reached(fed, citizen):
    browser = Browser()
    client = OidcClient(fed, "rp-trois")
    req = client.request()
    page = choose(browser, client.start(browser, req), "src-haut")

    claims = client.tokens(req, sign_in_at_source(browser, page, citizen, client.redirect_uri))

    assert claims["acr"] == HIGH


def test_a_service_asking_eidas2_is_answered_in_kind(fed, citizen):
    browser = Browser()
    client = OidcClient(fed, "rp-trois")
    req = client.request(acr_values="eidas2")
    page = choose(browser, client.start(browser, req), "src-op")

    claims = client.tokens(req, sign_in_at_source(browser, page, citizen, client.redirect_uri))

    assert claims["acr"] == "eidas2"


def test_saml_exact_states_one_of_the_levels_listed(fed, citizen):
    browser = Browser()
    sp = SamlClient(fed, "sp-trois")
    reqid, url = sp.request([SUBSTANTIAL], comparison="exact")
    page = choose(browser, sp.start(browser, url), "src-haut")

    answer = sp.response(reqid, sign_in_at_source(browser, page, citizen, sp.acs))

    statement = answer.assertion.authn_statement[0]
    assert statement.authn_context.authn_context_class_ref.text == SUBSTANTIAL


def test_a_session_below_the_level_asked_is_stepped_up(fed, store, citizen):
    browser = Browser()
    low = OidcClient(fed, "rp-idp")
    req = low.request()
    low.tokens(req, sign_in_at_source(browser, low.start(browser, req), citizen,
                                      low.redirect_uri))
    low_cookie = cookie_of(browser, COOKIE)
    assert store.get("sso-session", digest(low_cookie))["loa"] == "low"

    client = OidcClient(fed, "rp-trois")
    req = client.request(acr_values=SUBSTANTIAL)
    page = client.start(browser, req)
    assert sources_on(page) == ["src-haut", "src-op"], "the low session is not reused"
    claims = client.tokens(req, sign_in_at_source(browser, choose(browser, page, "src-op"),
                                                  citizen, client.redirect_uri))

    assert claims["acr"] == SUBSTANTIAL
    stepped = store.get("sso-session", digest(cookie_of(browser, COOKIE)))
    assert stepped["loa"] == "substantial" and stepped["source"] == "src-op"
    asked = fed.apps["src-op"].authorize_requests
    again = OidcClient(fed, "rp-a")
    req = again.request()
    page = again.start(browser, req)
    assert again.tokens(req, answer_consent(browser, page, again.redirect_uri))["acr"] == \
        SUBSTANTIAL
    assert fed.apps["src-op"].authorize_requests == asked, "the stepped-up session answers"


@pytest.mark.parametrize("stated", [SUBSTANTIAL, LOW, "urn:oasis:names:tc:SAML:2.0:ac:classes:"
                                                        "PasswordProtectedTransport"])
def test_a_source_stating_less_than_the_login_requires_is_refused(fed, high_source, citizen,
                                                                  stated):
    high_source.acr = stated
    browser = Browser()
    client = OidcClient(fed, "rp-trois")
    page = client.start(browser, client.request(acr_values=HIGH))  # the only source at high

    resp = sign_in_at_source(browser, page, citizen, client.redirect_uri)

    assert resp.status_code == 403 and error_code_of(resp) == "niveau_insuffisant"
    assert "Niveau de sécurité non atteint" in resp.text
    assert cookie_of(browser, COOKIE) is None, "no session from a refused answer"


def test_a_source_stating_less_than_its_ceiling_gives_the_level_it_stated(fed, high_source,
                                                                         citizen, store):
    high_source.acr = SUBSTANTIAL
    browser = Browser()
    client = OidcClient(fed, "rp-trois")
    req = client.request()
    page = choose(browser, client.start(browser, req), "src-haut")

    claims = client.tokens(req, sign_in_at_source(browser, page, citizen, client.redirect_uri))

    assert claims["acr"] == SUBSTANTIAL, "the level reached, not the source's ceiling"
    assert store.get("sso-session", digest(cookie_of(browser, COOKIE)))["loa"] == "substantial"
