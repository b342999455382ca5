"""SimpleSAMLphp 1.19 as a partner service (SAML SP), with its ``default-sp`` as shipped.

Registered the way a partner using SimpleSAMLphp would be: its metadata by URL
(``/module.php/saml/sp/metadata.php/default-sp``), both NameID formats allowed (it asks
for ``transient``), assertions not encrypted, and ``logout_requests: unsigned_confirm``
since its SP has no key and sends its LogoutRequests unsigned. It knows the proxy from
``saml20-idp-remote.php``, converted from ``<proxy>/saml2/metadata`` by SimpleSAMLphp's
own parser. Its "test an authentication source" page is the service: it signs in, then
shows the attributes it received; its logout link starts single logout.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from idp.testbed.browser import Browser
from idp.testbed.federation import Federation
from idp.testbed.interop.federation import (
    demo_federation,
    partners_folder,
    proxy_metadata,
    running,
    start_proxy,
)
from idp.testbed.interop.journey import stopped_at
from idp.testbed.interop.partners import saml_names, saml_service, write_partner
from idp.testbed.interop.simplesamlphp import SimpleSamlSP, attributes_of_status_page
from idp.testbed.login import choose, sign_in

from .conftest import DEMO_SERVICES, required_software

SERVICE = "ssp-sp"
ALLOWED = ["given_name", "family_name", "birthdate"]
SOURCES = ["src-op", "src-idp"]
CONFIRM_FORM = "form#form-deconnexion"


@dataclass
class Peers:
    fed: Federation
    sp: SimpleSamlSP

    def why(self, page: requests.Response) -> str:
        return stopped_at(page, [self.fed.folder / "proxy.log", self.sp.paths.log])


@pytest.fixture(scope="module")
def peers(tmp_path_factory, redis_server):
    folder = tmp_path_factory.mktemp("interop-ssp-sp")
    with required_software(), ExitStack() as stack:
        fed = stack.enter_context(demo_federation(folder / "federation", DEMO_SERVICES))
        sp = stack.enter_context(running(SimpleSamlSP(folder / "simplesamlphp-sp",
                                                      f"{fed.proxy_url}/saml2/metadata")))
        write_partner(partners_folder(fed), saml_service(
            SERVICE, "SimpleSAMLphp (SP)", sp.entity_id, SOURCES, ALLOWED,
            metadata_url=sp.metadata_url, name_id_formats=["persistent", "transient"],
            encrypt_assertions=False, logout_requests="unsigned_confirm"))
        start_proxy(fed, redis_server.url)
        sp.trust_idp(proxy_metadata(fed))
        yield Peers(fed, sp)


def _signed_in(peers: Peers, browser: Browser, citizen) -> requests.Response:
    """From SimpleSAMLphp's test page: choice page, demo source, information screen, back."""
    page = browser.get(peers.sp.test_page)
    assert urlsplit(page.url).path == "/choix", peers.why(page)
    page = sign_in(browser, choose(browser, page, "src-op"), citizen)
    assert page.url.startswith(peers.sp.test_page) and page.status_code == 200, peers.why(page)
    return page


def _logged_out(peers: Peers, browser: Browser) -> requests.Response:
    """SimpleSAMLphp's logout link, then "Me déconnecter" on the proxy's confirmation page
    (the LogoutRequest is unsigned)."""
    page = browser.get(f"{peers.sp.test_page}&logout")
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one(CONFIRM_FORM) is not None, peers.why(page)
    return browser.submit(page, {}, form_selector=CONFIRM_FORM, button=("confirmer", "oui"))


def test_simplesamlphp_receives_exactly_the_attributes_its_partner_file_allows(peers, citizen):
    page = _signed_in(peers, Browser(), citizen)

    names = saml_names(ALLOWED)
    assert attributes_of_status_page(page.text) == {
        names[a]: [citizen.claims[a]] for a in ALLOWED}


def test_simplesamlphp_gets_the_transient_name_id_it_asks_for(peers, citizen):
    page = _signed_in(peers, Browser(), citizen)

    assert name_id_format_on_status_page(page.text) == \
        "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


def test_logout_from_simplesamlphp_returns_to_its_logged_out_page(peers, citizen):
    browser = Browser()
    _signed_in(peers, browser, citizen)

    page = _logged_out(peers, browser)

    assert page.url == f"{peers.sp.url}/logout.php", peers.why(page)


def test_logout_from_simplesamlphp_ends_the_proxy_session(peers, citizen):
    browser = Browser()
    _signed_in(peers, browser, citizen)
    _logged_out(peers, browser)

    again = browser.get(peers.sp.test_page)

    assert urlsplit(again.url).path == "/choix", peers.why(again)


def test_logout_from_simplesamlphp_ends_the_session_at_the_source(peers, citizen):
    browser = Browser()
    _signed_in(peers, browser, citizen)
    source = peers.fed.apps["src-op"]
    before = source.end_session_requests

    _logged_out(peers, browser)

    assert source.end_session_requests == before + 1


def name_id_format_on_status_page(html: str) -> str | None:
    """The "SAML Subject" table of SimpleSAMLphp's status page: the NameID's Format."""
    soup = BeautifulSoup(html, "html.parser")
    for row in soup.select("table#table_with_attributes tr"):
        cells = row.find_all("td")
        if len(cells) == 2 and cells[0].get_text(strip=True) == "Format":
            return cells[1].get_text(strip=True)
    return None
