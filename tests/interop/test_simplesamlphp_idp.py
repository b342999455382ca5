"""SimpleSAMLphp 1.19 as an identity source (SAML IdP), with its defaults.

A SimpleSAMLphp IdP with an ``exampleauth:UserPass`` account carrying the identity pivot
under its own attribute names and formats (a date as ``dd/mm/yyyy``, sex as ``F``/``M``),
NameFormat basic. It answers with SimpleSAMLphp's defaults: a transient NameID, and
``AuthnContextClassRef`` ``…:ac:classes:Password`` (PasswordProtectedTransport under
https), i.e. no eIDAS level. So it is registered with ``name_id: transient`` (the citizen
is identified by the complete pivot), ``loa: low`` and a ``loa_mapping`` reading its class
as *low*, and each attribute mapped with ``from:``. It knows the proxy's SP for this source
from ``saml20-sp-remote.php``, converted from ``<proxy>/ssp-idp/saml2/metadata``.

One setting differs from SimpleSAMLphp's defaults, and the partner guide must ask for it:
``'sign.logout' => true`` in ``saml20-idp-hosted.php``. SimpleSAMLphp 1.19 does not sign its
logout messages on the Redirect binding by default, and NC Connect trusts only a signed
LogoutResponse (an unsigned one leaves the source reported as not logged out).

The service is the testbed's demo OIDC RP, which shows the claims it received.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from idp.demo.citizens import Citizen
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.federation import Federation
from idp.testbed.interop.federation import (
    demo_federation,
    partners_folder,
    proxy_metadata,
    running,
    start_proxy,
)
from idp.testbed.interop.journey import stopped_at
from idp.testbed.interop.partners import saml_source, write_partner
from idp.testbed.interop.simplesamlphp import SimpleSamlIdP, SspUser
from idp.testbed.login import decide, on_consent_screen

from .conftest import required_software

SOURCE = "ssp-idp"
SERVICE = "rp-ssp"
#: The identity pivot: what a transient-NameID source must give complete.
PIVOT = ["given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry"]
#: SimpleSAMLphp's default AuthnContextClassRef over http.
PASSWORD = "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"
PASSWORD_PROTECTED_TRANSPORT = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
#: How the source's partner file reads its attributes (its names, its formats).
MAPPING = {
    "given_name": {"from": "prenoms"},
    "family_name": {"from": "nomDeNaissance"},
    "birthdate": {"from": "dateDeNaissance", "date_format": "%d/%m/%Y"},
    "gender": {"from": "sexe", "values": {"F": "female", "M": "male"}},
    "birthplace": {"from": "communeDeNaissance"},
    "birthcountry": {"from": "paysDeNaissance"},
}
LOGIN_FORM = "form[name=f]"


def ssp_user(citizen: Citizen) -> SspUser:
    """The citizen's account at the SimpleSAMLphp IdP, in the IdP's own names and formats."""
    c = citizen.claims
    year, month, day = c["birthdate"].split("-")
    return SspUser(citizen.username, citizen.password, {
        "prenoms": [c["given_name"]], "nomDeNaissance": [c["family_name"]],
        "dateDeNaissance": [f"{day}/{month}/{year}"],
        "sexe": ["F" if c["gender"] == "female" else "M"],
        "communeDeNaissance": [c["birthplace"]], "paysDeNaissance": [c["birthcountry"]]})


@dataclass
class Peers:
    fed: Federation
    idp: SimpleSamlIdP

    @property
    def service_url(self) -> str:
        return self.fed.url(SERVICE)

    def why(self, page: requests.Response) -> str:
        return stopped_at(page, [self.fed.folder / "proxy.log", self.idp.paths.log])


@pytest.fixture(scope="module")
def peers(tmp_path_factory, redis_server, citizen):
    folder = tmp_path_factory.mktemp("interop-ssp-idp")
    with required_software(), ExitStack() as stack:
        fed = stack.enter_context(demo_federation(folder / "federation",
                                                  {SERVICE: ("oidc", [SOURCE], PIVOT)}))
        idp = stack.enter_context(running(SimpleSamlIdP(
            folder / "simplesamlphp-idp", [ssp_user(citizen)], hosted={"sign.logout": True})))
        write_partner(partners_folder(fed), saml_source(
            SOURCE, "SimpleSAMLphp (IdP)", idp.entity_id, idp.metadata_url, "low", MAPPING,
            {"values": {PASSWORD: "low", PASSWORD_PROTECTED_TRANSPORT: "low"}},
            name_id="transient"))
        start_proxy(fed, redis_server.url)
        idp.trust_sp(proxy_metadata(fed, f"/{SOURCE}/saml2/metadata"))
        yield Peers(fed, idp)


def _at_login_form(peers: Peers, browser: Browser) -> requests.Response:
    """The service's "Se connecter": one source, so straight to SimpleSAMLphp's form."""
    page = browser.get(f"{peers.service_url}/login")
    assert urlsplit(page.url).path == "/module.php/core/loginuserpass.php", peers.why(page)
    return page


def _signed_in(peers: Peers, browser: Browser, citizen: Citizen) -> requests.Response:
    page = browser.submit(_at_login_form(peers, browser),
                          {"username": citizen.username, "password": citizen.password},
                          form_selector=LOGIN_FORM)
    assert on_consent_screen(page), peers.why(page)
    page = decide(browser, page)
    assert page.url.startswith(f"{peers.service_url}/callback"), peers.why(page)
    return page


def test_the_service_receives_the_pivot_read_through_the_source_mapping(peers, citizen):
    page = _signed_in(peers, Browser(), citizen)

    received = attributes_of(page)
    assert received.pop("sub")
    assert received == {name: citizen.claims[name] for name in PIVOT}


def test_logout_at_the_service_returns_to_its_post_logout_page(peers, citizen):
    browser = Browser()
    _signed_in(peers, browser, citizen)

    page = browser.get(f"{peers.service_url}/logout")

    assert urlsplit(page.url)[:3] == urlsplit(f"{peers.service_url}/")[:3], peers.why(page)


def test_logout_at_the_service_ends_the_session_at_simplesamlphp(peers, citizen):
    """After logout, a new login must show SimpleSAMLphp's form again: had its session
    survived, it would answer at once."""
    browser = Browser()
    _signed_in(peers, browser, citizen)
    browser.get(f"{peers.service_url}/logout")

    _at_login_form(peers, browser)
