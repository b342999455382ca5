"""Minimisation through the protocols: allowed ∩ asked, on the four paths, and nothing for a
service the registry does not (or no longer) know."""

from __future__ import annotations

import pytest

from idp.demo.rp import make_demo_rp
from idp.demo.serve import BackgroundServer
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.login import login, start
from idp.testbed.servers import free_port

FAMILY_NAME_URN, BIRTHDATE_URN = "urn:oid:2.5.4.4", "urn:oid:1.3.6.1.5.5.7.9.1"


@pytest.mark.parametrize("service", ["rp-min-op", "rp-min-idp"])
def test_oidc_service_asking_for_more_gets_exactly_allowed_and_asked(fed, citizen, service):
    attrs = attributes_of(login(Browser(), fed.url(service), citizen))
    assert set(attrs) == {"sub", "family_name", "birthdate"}
    assert attrs["family_name"] == citizen.claims["family_name"]
    assert attrs["birthdate"] == citizen.claims["birthdate"]


@pytest.mark.parametrize("service", ["sp-min-op", "sp-min-idp"])
def test_saml_service_asking_for_more_gets_exactly_allowed_and_asked(fed, citizen, service):
    attrs = attributes_of(login(Browser(), fed.url(service), citizen))
    assert set(attrs) == {"nameid", FAMILY_NAME_URN, BIRTHDATE_URN}
    assert attrs[FAMILY_NAME_URN] == citizen.claims["family_name"]


def test_oidc_service_asking_for_less_gets_only_what_it_asked(fed, citizen):
    browser = Browser()
    page = browser.get(f"{fed.url('rp-min-op')}/login?scope=openid+birth")
    from idp.testbed.login import sign_in

    attrs = attributes_of(sign_in(browser, page, citizen))
    assert set(attrs) == {"sub"}  # birth = birthplace, birthcountry: not allowed


def test_saml_service_gets_only_what_its_metadata_requests(fed, citizen):
    attrs = attributes_of(login(Browser(), fed.url("sp-demande-peu"), citizen))
    assert set(attrs) == {"nameid", "urn:oid:0.9.2342.19200300.100.1.3"}


def test_disabled_oidc_service_gets_an_error_page_and_no_attribute(fed):
    page = start(Browser(), fed.url("rp-desactive"))
    assert page.status_code in (400, 403)
    assert error_code_of(page) == "client_inconnu"
    assert fed.apps["rp-desactive"].last_result is None


def test_disabled_saml_service_gets_an_error_page_and_no_attribute(fed):
    page = start(Browser(), fed.url("sp-desactive"))
    assert page.status_code in (400, 403)
    assert error_code_of(page) == "sp_inconnu"
    assert fed.apps["sp-desactive"].last_result is None


def test_unregistered_service_gets_an_error_page_and_no_attribute(fed):
    port = free_port()
    intruder = make_demo_rp(f"http://127.0.0.1:{port}", fed.proxy_url, "intrus", "secret",
                            "Service inconnu")
    server = BackgroundServer(intruder, port=port)
    server.start()
    try:
        page = Browser().get(f"{server.url}/login")
    finally:
        server.stop()
    assert page.status_code == 400
    assert error_code_of(page) == "client_inconnu"
    assert intruder.last_result is None
