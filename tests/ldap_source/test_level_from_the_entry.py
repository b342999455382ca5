"""The level of a login comes from the entry (``ncIdentiteVerifiee`` through ``loa_mapping``),
capped at the source's ``loa``; below what the service requires: a page saying how to have
the identity verified, never a silent downgrade."""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

import requests
from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, error_code_of
from tests.sso.clients import OidcClient, answer_consent, sign_in_at_source

from .conftest import SOURCE, new_address, password_of
from .journey import form_of, post_login

SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
LOW = "http://eidas.europa.eu/LoA/low"


def _login(fed, service: str, uid: str) -> tuple[OidcClient, object, requests.Response, Browser]:
    browser = Browser()
    browser.session.headers["X-Forwarded-For"] = new_address()
    client = OidcClient(fed, service)
    req = client.request()
    form = client.start(browser, req)
    if urlsplit(form.url).path == "/choix":
        form = browser.submit(form, {}, button=("source", SOURCE))
    assert form_of(form) is not None, form.url
    posted = browser.follow(post_login(browser, form, uid, password_of(uid)),
                            stop_at=client.redirect_uri)
    return client, req, answer_consent(browser, posted, client.redirect_uri), browser


def test_a_verified_identity_reaches_substantial(fed):
    client, req, resp, _ = _login(fed, "rp-compte", "marie.wahnyamalla")
    assert client.tokens(req, resp)["acr"] == SUBSTANTIAL


def test_an_unverified_identity_reaches_low(fed):
    client, req, resp, _ = _login(fed, "rp-compte", "jean.dupont")
    assert client.tokens(req, resp)["acr"] == LOW


def test_a_verified_identity_enters_a_service_requiring_substantial(fed):
    client, req, resp, _ = _login(fed, "rp-substantiel", "marie.wahnyamalla")
    assert client.tokens(req, resp)["acr"] == SUBSTANTIAL


def test_an_unverified_identity_gets_the_page_saying_how_to_have_it_verified(fed):
    client, _req, resp, _ = _login(fed, "rp-substantiel", "jean.dupont")
    assert not client.returned(resp), "an unverified account reached a substantial service"
    assert resp.status_code == 403
    assert error_code_of(resp) == "identite_non_verifiee"
    assert "guichet" in resp.text and "choisissez un autre compte" in resp.text
    # This service accepts no other account: no link to a choice that has nothing to offer.
    assert BeautifulSoup(resp.text, "html.parser").select_one("#autre-compte") is None


def test_an_unverified_identity_may_choose_another_account_and_go_on(fed):
    client, req, resp, browser = _login(fed, "rp-substantiel-choix", "jean.dupont")
    assert error_code_of(resp) == "identite_non_verifiee"
    link = BeautifulSoup(resp.text, "html.parser").select_one("a#autre-compte")
    assert link is not None, "no way back to the choice"
    choice = browser.get(urljoin(resp.url, link["href"]))
    assert urlsplit(choice.url).path == "/choix"
    form = browser.submit(choice, {}, button=("source", "src-op"))
    back = sign_in_at_source(browser, form, CITIZENS[1], client.redirect_uri)
    assert client.tokens(req, back)["acr"] == SUBSTANTIAL
