"""mod_auth_mellon 0.18 under Apache as a partner service (SAML SP).

Set up as its documentation says: ``mellon_create_metadata`` makes its key, certificate and
metadata, which the partner sends to NC Connect (``metadata_file`` in the partner file);
NC Connect's ``<proxy>/saml2/metadata`` becomes its ``MellonIdPMetadataFile``. It signs its
AuthnRequests and LogoutRequests (its metadata says ``AuthnRequestsSigned="true"``), so it
is registered with ``logout_requests: signed`` (the default) and both NameID formats (it
asks for ``transient``). Behind the protected location a CGI prints the ``MELLON_*``
variables the module hands to the application.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit

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
from idp.testbed.interop.mod_auth_mellon import (
    ModAuthMellonSP,
    env_name,
    mellon_attributes,
    mellon_variables,
    name_id_format,
)
from idp.testbed.interop.partners import saml_names, saml_service, write_partner
from idp.testbed.login import choose, sign_in

from .conftest import DEMO_SERVICES, required_software
from .service_logout import ServiceLogoutContract

SERVICE = "mellon-sp"
ALLOWED = ["given_name", "family_name", "birthdate"]
SOURCES = ["src-op", "src-idp"]
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"


@dataclass
class Peers:
    fed: Federation
    sp: ModAuthMellonSP

    def why(self, page: requests.Response) -> str:
        logs = [self.fed.folder / "proxy.log"]
        if self.sp.apache is not None:
            logs.append(self.sp.apache.error_log)
        return stopped_at(page, logs)


@pytest.fixture(scope="module")
def peers(tmp_path_factory, redis_server):
    folder = tmp_path_factory.mktemp("interop-mellon")
    with required_software(), ExitStack() as stack:
        fed = stack.enter_context(demo_federation(folder / "federation", DEMO_SERVICES))
        sp = ModAuthMellonSP(folder / "mellon")
        stack.callback(sp.stop)
        (partners_folder(fed) / f"{SERVICE}.xml").write_text(sp.metadata_xml(), encoding="utf-8")
        write_partner(partners_folder(fed), saml_service(
            SERVICE, "mod_auth_mellon (SP)", sp.entity_id, SOURCES, ALLOWED,
            metadata_file=f"{SERVICE}.xml", name_id_formats=["persistent", "transient"],
            encrypt_assertions=False))
        start_proxy(fed, redis_server.url)
        sp.start(proxy_metadata(fed))
        yield Peers(fed, sp)


def _signed_in(peers: Peers, browser: Browser, citizen) -> requests.Response:
    """From the protected page: choice page, demo source, information screen, back."""
    page = browser.get(peers.sp.protected_url)
    assert urlsplit(page.url).path == "/choix", peers.why(page)
    page = sign_in(browser, choose(browser, page, "src-op"), citizen)
    assert page.url == peers.sp.protected_url and page.status_code == 200, peers.why(page)
    return page


def test_mellon_receives_exactly_the_attributes_its_partner_file_allows(peers, citizen):
    page = _signed_in(peers, Browser(), citizen)

    names = saml_names(ALLOWED)
    assert mellon_attributes(mellon_variables(page.text)) == {
        env_name(names[a]): [citizen.claims[a]] for a in ALLOWED}


def test_mellon_gets_the_transient_name_id_it_asks_for(peers, citizen):
    page = _signed_in(peers, Browser(), citizen)

    assert name_id_format(mellon_variables(page.text)) == TRANSIENT


@pytest.fixture
def signed_in(peers):
    return lambda browser, citizen: _signed_in(peers, browser, citizen)


class TestLogoutFromMellon(ServiceLogoutContract):
    """Its logout link: back to its own page, the proxy session and the source's ended."""
