"""LemonLDAP::NG 2.16 as an identity source: its OpenID Connect provider and its SAML IdP.

One LL::NG portal, two registrations of NC Connect, as a partner would set them:

* OIDC (source ``llng-oidc``): the proxy is the RP ``ncconnect`` (confidential, client
  secret, redirect URI ``<proxy>/llng-oidc/oidc/callback``, post-logout redirect URI
  ``<proxy>/llng-oidc/oidc/logout``, PKCE required, LL::NG's consent screen bypassed as
  NC Connect shows its own). LL::NG exports the directory attributes as the claims
  NC Connect reads: ``given_name``, ``family_name``, ``birthdate``, ``gender`` under the
  standard ``profile`` scope, ``birthplace`` and ``birthcountry`` under an extra scope
  ``birth``. Its ``acr`` is its authentication level, ``loa-<n>`` (1 for a password over
  http): the partner file reads it through ``loa_mapping``. Logout: NC Connect sends the
  browser to LL::NG's ``end_session_endpoint`` with ``client_id`` and no
  ``id_token_hint``, so LL::NG asks the citizen to confirm (``LogoutBypassConfirm`` only
  works with the hint); confirmed, its session is gone.
* SAML (source ``llng-saml``): LL::NG's IdP knows the proxy's SP for this source from
  ``<proxy>/llng-saml/saml2/metadata``; it sends the pivot under NC Connect's SAML names
  (NameFormat uri) and a persistent NameID; its ``AuthnContextClassRef`` for level 1 is
  ``unspecified``, mapped by the partner file. Logout: NC Connect's signed LogoutRequest
  must carry the NameID and SessionIndex LL::NG issued, or LL::NG answers "Unknown
  principal on logout" and keeps its session.

The citizen is LL::NG's Demo account ``dwho``, whose directory attributes (``givenName``,
``sn``, ``birthDate``…) are the test citizen's. The services are the testbed's demo OIDC
RP, which shows the claims it received.
"""

from __future__ import annotations

import base64
import json
import secrets
from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
import requests

from idp import loa
from idp.demo.citizens import Citizen
from idp.dictionary.model import load_dictionary
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.federation import DICTIONARY, Federation
from idp.testbed.interop.federation import (
    demo_federation,
    partners_folder,
    proxy_metadata,
    running,
    start_proxy,
)
from idp.testbed.interop.journey import stopped_at
from idp.testbed.interop.lemonldap import (
    OIDC_LOGOUT_PATH,
    LemonLdapNg,
    LlngAccount,
    OidcRelyingParty,
    SamlServiceProvider,
)
from idp.testbed.interop.partners import oidc_source, saml_source, write_partner
from idp.testbed.login import decide, on_consent_screen

from .conftest import required_software

OIDC_SOURCE = "llng-oidc"
SAML_SOURCE = "llng-saml"
#: One demo service per source (a single source: no choice page).
SERVICES = {OIDC_SOURCE: "rp-llng-oidc", SAML_SOURCE: "rp-llng-saml"}
SECRET_ENV = "NCC_TEST_LLNG_SECRET"
#: The Demo account standing for the test citizen (its password is its login).
LOGIN = "dwho"
PIVOT = ["given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry"]
#: Dictionary name -> LL::NG session attribute (as its directory would name them).
SESSION_ATTRIBUTES = {"given_name": "givenName", "family_name": "sn", "birthdate": "birthDate",
                      "gender": "gender", "birthplace": "birthPlace",
                      "birthcountry": "birthCountry"}
#: LL::NG's levels: a password alone is eIDAS low, over http (1) or https (2); a second
#: factor configured at level 3 or more reaches substantial.
OIDC_LOA_MAPPING = {"values": {"loa-1": "low", "loa-2": "low", "loa-3": "substantial"}}
#: LL::NG's AuthnContextClassRef per level: 1 unspecified, 2 Password, 3
#: PasswordProtectedTransport (``samlAuthnContextMap*``).
SAML_LOA_MAPPING = {"values": {
    "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified": "low",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:Password": "low",
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport": "low"}}
LOGIN_FORM = "form#lform"
LOGOUT_CONFIRMATION = "form#form"
SSO_COOKIE = "lemonldap"


def llng_account(citizen: Citizen) -> LlngAccount:
    """The citizen as LL::NG's directory knows them."""
    return LlngAccount(LOGIN, {attr: citizen.claims[name]
                               for name, attr in SESSION_ATTRIBUTES.items()})


def saml_exports() -> dict[str, tuple[str, str]]:
    """LL::NG session attribute -> NC Connect's SAML Name and FriendlyName."""
    dictionary = load_dictionary(DICTIONARY)
    return {attr: (dictionary.attributes[name].saml.name, dictionary.attributes[name].saml.friendly)
            for name, attr in SESSION_ATTRIBUTES.items()}


@dataclass
class Peers:
    fed: Federation
    llng: LemonLdapNg

    def service_url(self, source: str) -> str:
        return self.fed.url(SERVICES[source])

    def why(self, page: requests.Response) -> str:
        return stopped_at(page, [self.fed.folder / "proxy.log", self.llng.log])


@pytest.fixture(scope="module")
def peers(tmp_path_factory, redis_server, citizen):
    folder = tmp_path_factory.mktemp("interop-lemonldap-ng")
    with required_software(), ExitStack() as stack:
        fed = stack.enter_context(demo_federation(
            folder / "federation",
            {service: ("oidc", [source], PIVOT) for source, service in SERVICES.items()}))
        llng = LemonLdapNg(folder / "lemonldap-ng", [llng_account(citizen)])
        secret = secrets.token_urlsafe(32)
        llng.register_oidc_rp(OidcRelyingParty(
            "ncconnect", "ncconnect", secret, f"{fed.proxy_url}/{OIDC_SOURCE}/oidc/callback",
            f"{fed.proxy_url}/{OIDC_SOURCE}/oidc/logout",
            {name: SESSION_ATTRIBUTES[name] for name in PIVOT},
            extra_scopes={"birth": ["birthplace", "birthcountry"]}))
        stack.enter_context(running(llng))
        fed.env[SECRET_ENV] = secret
        provided = {name: {} for name in PIVOT}
        write_partner(partners_folder(fed), oidc_source(
            OIDC_SOURCE, "LemonLDAP::NG (OpenID Connect)", llng.issuer, "ncconnect",
            SECRET_ENV, "substantial", ["openid", "profile", "birth"], provided,
            OIDC_LOA_MAPPING))
        write_partner(partners_folder(fed), saml_source(
            SAML_SOURCE, "LemonLDAP::NG (SAML)", llng.saml_entity_id, llng.saml_metadata_url,
            "substantial", provided, SAML_LOA_MAPPING))
        start_proxy(fed, redis_server.url)
        llng.trust_sp(SamlServiceProvider(
            "ncconnect", proxy_metadata(fed, f"/{SAML_SOURCE}/saml2/metadata"), saml_exports()))
        yield Peers(fed, llng)


def _at_login_form(peers: Peers, browser: Browser, source: str) -> requests.Response:
    """The service's "Se connecter": one source, so straight to LL::NG's login form."""
    page = browser.get(f"{peers.service_url(source)}/login")
    assert urlsplit(page.url).netloc == urlsplit(peers.llng.url).netloc, peers.why(page)
    assert 'name="password"' in page.text, peers.why(page)
    return page


def _signed_in(peers: Peers, browser: Browser, source: str) -> requests.Response:
    page = browser.submit(_at_login_form(peers, browser, source),
                          {"user": LOGIN, "password": LOGIN}, form_selector=LOGIN_FORM)
    assert on_consent_screen(page), peers.why(page)
    page = decide(browser, page)
    assert page.url.startswith(f"{peers.service_url(source)}/callback"), peers.why(page)
    return page


def _sso_session(peers: Peers, browser: Browser) -> str:
    """The id of the browser's session at LL::NG (its SSO cookie), checked live."""
    ids = [c.value for c in browser.session.cookies if c.name == SSO_COOKIE and c.value]
    assert ids, "no LemonLDAP::NG cookie in the browser"
    assert ids[-1] in peers.llng.sso_sessions(), "LemonLDAP::NG has no such session"
    return ids[-1]


def _id_token_claims(peers: Peers, browser: Browser, source: str) -> dict:
    """The claims of the ID token the service received (it verified the signature)."""
    service = SERVICES[source]
    name = f"demo_rp_{urlsplit(peers.fed.url(service)).port}"
    cookie = next(c.value for c in browser.session.cookies if c.name == name)
    token = peers.fed.apps[service].id_token_of(cookie)  # type: ignore[attr-defined]
    assert token, "the service kept no ID token"
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


# -- OpenID Connect provider ---------------------------------------------------------------


def test_oidc_the_service_receives_the_pivot_exported_by_lemonldap_ng(peers, citizen):
    page = _signed_in(peers, Browser(), OIDC_SOURCE)

    received = attributes_of(page)
    assert received.pop("sub")
    assert received == {name: citizen.claims[name] for name in PIVOT}


def test_oidc_lemonldap_ng_level_is_read_through_the_loa_mapping(peers):
    """Demo authentication over http: LL::NG says ``loa-1``, mapped to low."""
    browser = Browser()
    _signed_in(peers, browser, OIDC_SOURCE)

    assert _id_token_claims(peers, browser, OIDC_SOURCE)["acr"] == loa.URIS["low"]


def test_oidc_logout_at_the_service_ends_the_session_at_lemonldap_ng(peers):
    """LL::NG asks to confirm (no ``id_token_hint``); confirmed, its session is deleted, the
    browser comes back to the service, and a new login asks for the password again."""
    browser = Browser()
    _signed_in(peers, browser, OIDC_SOURCE)
    session = _sso_session(peers, browser)

    page = browser.get(f"{peers.service_url(OIDC_SOURCE)}/logout")
    assert urlsplit(page.url).path == OIDC_LOGOUT_PATH, peers.why(page)
    page = browser.submit(page, {}, form_selector=LOGOUT_CONFIRMATION)

    assert urlsplit(page.url)[:3] == urlsplit(f"{peers.service_url(OIDC_SOURCE)}/")[:3], \
        peers.why(page)
    assert session not in peers.llng.sso_sessions()
    _at_login_form(peers, browser, OIDC_SOURCE)


# -- SAML identity provider ----------------------------------------------------------------


def test_saml_the_service_receives_the_pivot_sent_by_lemonldap_ng(peers, citizen):
    page = _signed_in(peers, Browser(), SAML_SOURCE)

    received = attributes_of(page)
    assert received.pop("sub")
    assert received == {name: citizen.claims[name] for name in PIVOT}


def test_saml_lemonldap_ng_level_is_read_through_the_loa_mapping(peers):
    """Level 1 over http: ``AuthnContextClassRef`` unspecified, mapped to low."""
    browser = Browser()
    _signed_in(peers, browser, SAML_SOURCE)

    assert _id_token_claims(peers, browser, SAML_SOURCE)["acr"] == loa.URIS["low"]


def test_saml_logout_at_the_service_ends_the_session_at_lemonldap_ng(peers):
    """LL::NG accepts our LogoutRequest only with the NameID and SessionIndex it issued:
    its session is then deleted, and a new login asks for the password again."""
    browser = Browser()
    _signed_in(peers, browser, SAML_SOURCE)
    session = _sso_session(peers, browser)

    page = browser.get(f"{peers.service_url(SAML_SOURCE)}/logout")

    assert urlsplit(page.url)[:3] == urlsplit(f"{peers.service_url(SAML_SOURCE)}/")[:3], \
        peers.why(page)
    assert session not in peers.llng.sso_sessions(), peers.llng.log_tail()
    _at_login_form(peers, browser, SAML_SOURCE)
