"""Shibboleth SP 3.4 (``mod_shib`` and ``shibd``) under Apache as a partner service (SAML SP).

Set up as Debian's README and Shibboleth's ``shibboleth2.xml`` tell a partner: a key and
certificate from ``shib-keygen``, NC Connect's ``<proxy>/saml2/metadata`` as its
MetadataProvider (a local XML file) and as the ``<SSO entityID>``, an ``attribute-map.xml``
naming NC Connect's ``urn:oid`` attributes; what ``/Shibboleth.sso/Metadata`` publishes is
sent to NC Connect (``metadata_file`` in the partner file). Shibboleth's AuthnRequest asks
no NameID format (``<NameIDPolicy AllowCreate="1"/>``), so it gets the partner file's
first one, ``persistent``. Behind the protected location a CGI prints the environment
``mod_shib`` gives the application.
"""

from __future__ import annotations

import base64
import re
import zlib
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from idp.testbed.browser import Browser
from idp.testbed.federation import Federation
from idp.testbed.interop.federation import (
    demo_federation,
    partners_folder,
    proxy_metadata,
    start_proxy,
)
from idp.testbed.interop.journey import stopped_at
from idp.testbed.interop.partners import saml_service, write_partner
from idp.testbed.interop.shibboleth import (
    PERSISTENT,
    ShibbolethSP,
    attribute_ids,
    attributes,
    environment,
    name_id_format,
)
from idp.testbed.login import choose, sign_in

from .conftest import DEMO_SERVICES, required_software
from .service_logout import ServiceLogoutContract

SERVICE = "shibboleth-sp"
ENCRYPTED_SERVICE = "shibboleth-sp-chiffre"
ALLOWED = ["given_name", "family_name", "birthdate"]
SOURCES = ["src-op", "src-idp"]


@dataclass
class Peers:
    fed: Federation
    sp: ShibbolethSP
    encrypted_sp: ShibbolethSP

    def why(self, page: requests.Response, sp: ShibbolethSP | None = None) -> str:
        return stopped_at(page, [self.fed.folder / "proxy.log",
                                 *(sp or self.sp).log_files()])


@pytest.fixture(scope="module")
def peers(tmp_path_factory, redis_server):
    folder = tmp_path_factory.mktemp("interop-shibboleth")
    with required_software(), ExitStack() as stack:
        fed = stack.enter_context(demo_federation(folder / "federation", DEMO_SERVICES))
        sps = {}
        for sid, name, encrypt in ((SERVICE, "Shibboleth SP", False),
                                   (ENCRYPTED_SERVICE, "Shibboleth SP (chiffré)", True)):
            sp = sps[sid] = ShibbolethSP(folder / sid)
            stack.callback(sp.stop)
            (partners_folder(fed) / f"{sid}.xml").write_text(sp.publish_metadata(),
                                                             encoding="utf-8")
            write_partner(partners_folder(fed), saml_service(
                sid, name, sp.entity_id, SOURCES, ALLOWED, metadata_file=f"{sid}.xml",
                name_id_formats=["persistent", "transient"], encrypt_assertions=encrypt))
        start_proxy(fed, redis_server.url)
        idp = proxy_metadata(fed)
        for sp in sps.values():
            sp.start(idp)
        yield Peers(fed, sps[SERVICE], sps[ENCRYPTED_SERVICE])


def _signed_in(peers: Peers, browser: Browser, citizen,
               sp: ShibbolethSP | None = None) -> requests.Response:
    """From the protected page: choice page, demo source, information screen, back."""
    sp = sp or peers.sp
    page = browser.get(sp.protected_url)
    assert urlsplit(page.url).path == "/choix", peers.why(page, sp)
    page = sign_in(browser, choose(browser, page, "src-op"), citizen)
    assert page.url == sp.protected_url and page.status_code == 200, peers.why(page, sp)
    return page


def _expected(citizen) -> dict[str, list[str]]:
    ids = attribute_ids()
    return {ids[a]: [citizen.claims[a]] for a in ALLOWED}


def _authn_request(browser: Browser, proxy_url: str) -> str:
    """The AuthnRequest Shibboleth sent the proxy (HTTP-Redirect binding), as XML."""
    for resp in browser.history:
        location = resp.headers.get("Location", "") if resp.is_redirect else ""
        if location.startswith(proxy_url) and "SAMLRequest=" in location:
            request = parse_qs(urlsplit(location).query)["SAMLRequest"][0]
            return zlib.decompress(base64.b64decode(request), -15).decode("utf-8")
    raise AssertionError("no AuthnRequest redirected to the proxy")


def _saml_response_to(browser: Browser, sp: ShibbolethSP) -> str:
    """The last SAML Response the browser posted to the SP's ACS, as XML."""
    for url, fields in reversed(browser.posts):
        if url.startswith(sp.url) and "SAMLResponse" in fields:
            return base64.b64decode(fields["SAMLResponse"]).decode("utf-8")
    raise AssertionError(f"no SAMLResponse posted to {sp.url}")


def test_shibboleth_receives_exactly_the_attributes_its_partner_file_allows(peers, citizen):
    page = _signed_in(peers, Browser(), citizen)

    received = attributes(environment(page.text), attribute_ids().values())
    assert received == _expected(citizen)


def test_shibboleth_asks_for_no_name_id_format(peers, citizen):
    browser = Browser()
    _signed_in(peers, browser, citizen)

    request = _authn_request(browser, peers.fed.proxy_url)
    policy = re.search(r"<(?:\w+:)?NameIDPolicy\b[^>]*>", request)
    assert policy is not None and "Format=" not in policy.group(0), request


def test_shibboleth_gets_a_persistent_name_id_when_it_asks_for_none(peers, citizen):
    page = _signed_in(peers, Browser(), citizen)

    assert name_id_format(environment(page.text)) == PERSISTENT


@pytest.fixture
def signed_in(peers):
    return lambda browser, citizen: _signed_in(peers, browser, citizen)


class TestLogoutFromShibboleth(ServiceLogoutContract):
    """Its logout link: back to its own page, the proxy session and the source's ended."""


def test_shibboleth_decrypts_the_assertion_encrypted_for_it(peers, citizen):
    sp = peers.encrypted_sp
    browser = Browser()
    page = _signed_in(peers, browser, citizen, sp)

    response = _saml_response_to(browser, sp)
    assert "EncryptedAssertion" in response
    assert re.search(r"<(?:\w+:)?Assertion\b", response) is None
    assert attributes(environment(page.text), attribute_ids().values()) == _expected(citizen)
