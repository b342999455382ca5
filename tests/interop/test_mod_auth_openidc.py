"""mod_auth_openidc 2.4.12 under Apache as a partner service (OIDC relying party).

Two registrations of the same software, as partners would configure it:

* ``sans-pkce``: the module's defaults (no PKCE), so its partner file says
  ``require_pkce: false`` (allowed for a confidential client);
* ``pkce-s256``: ``OIDCPKCEMethod S256``, registered with the default ``require_pkce``.

Both set what every partner must: the proxy's discovery URL, client ID and secret
(``client_secret_basic``, the module's default), the redirect URI, a crypto passphrase,
and ``OIDCScope "openid profile"`` (the default scope ``openid`` would release no
attribute). Behind the protected location a CGI prints the ``OIDC_CLAIM_*`` variables the
module hands to the application. Logout is the module's RP-initiated logout: its redirect
URI with ``?logout=<post-logout page>``.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from idp.testbed.browser import Browser
from idp.testbed.federation import Federation
from idp.testbed.interop.federation import demo_federation, partners_folder, running, start_proxy
from idp.testbed.interop.journey import stopped_at
from idp.testbed.interop.mod_auth_openidc import ModAuthOpenidcRP, claims_of
from idp.testbed.interop.partners import oidc_service, write_partner
from idp.testbed.login import sign_in

from .conftest import DEMO_SERVICES, required_software

ALLOWED = ["given_name", "family_name", "birthdate"]
#: registration name -> whether mod_auth_openidc uses PKCE S256.
CONFIGURATIONS = {"sans-pkce": False, "pkce-s256": True}
#: Claims about the protocol, not the citizen (ID token and userinfo).
PROTOCOL_CLAIMS = {"iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "azp",
                   "auth_time", "acr", "amr", "sid", "jti"}


@dataclass
class Peers:
    fed: Federation
    rps: dict[str, ModAuthOpenidcRP]

    def why(self, page: requests.Response, rp: ModAuthOpenidcRP) -> str:
        return stopped_at(page, [self.fed.folder / "proxy.log", rp.apache.error_log])


@pytest.fixture(scope="module")
def peers(tmp_path_factory, redis_server):
    folder = tmp_path_factory.mktemp("interop-mod-auth-openidc")
    with required_software(), ExitStack() as stack:
        fed = stack.enter_context(demo_federation(folder / "federation", DEMO_SERVICES))
        rps = {}
        for name, pkce in CONFIGURATIONS.items():
            rp = stack.enter_context(running(ModAuthOpenidcRP(
                folder / name, fed.proxy_url, f"apache-{name}", pkce=pkce)))
            write_partner(partners_folder(fed), oidc_service(
                rp.client_id, f"mod_auth_openidc ({name})", rp.client_id, rp.client_secret,
                rp.redirect_uri, rp.logged_out_url, ["src-op"], ALLOWED,
                **({} if pkce else {"require_pkce": False})))
            rps[name] = rp
        start_proxy(fed, redis_server.url)
        yield Peers(fed, rps)


@pytest.fixture(params=list(CONFIGURATIONS))
def rp(request, peers) -> ModAuthOpenidcRP:
    return peers.rps[request.param]


def _signed_in(peers: Peers, rp: ModAuthOpenidcRP, browser: Browser,
               citizen) -> requests.Response:
    """The protected page: to the proxy, the demo source (the only one), the information
    screen, back through the module's redirect URI to the page."""
    page = browser.get(rp.protected_url)
    assert page.url.startswith(peers.fed.url("src-op")), peers.why(page, rp)
    page = sign_in(browser, page, citizen)
    assert page.url == rp.protected_url and page.status_code == 200, peers.why(page, rp)
    return page


def test_the_module_sends_a_pkce_challenge_only_when_configured_to(peers, rp, citizen):
    browser = Browser()
    _signed_in(peers, rp, browser, citizen)

    asked = [parse_qs(urlsplit(r.url).query) for r in browser.history
             if r.url.startswith(peers.fed.proxy_url)
             and f"client_id={rp.client_id}" in urlsplit(r.url).query]
    assert len(asked) == 1, "one authorization request expected"
    assert ("code_challenge" in asked[0]) == rp.pkce
    assert asked[0].get("code_challenge_method", ["S256"]) == ["S256"]


def test_the_application_receives_exactly_the_claims_its_partner_file_allows(peers, rp,
                                                                             citizen):
    page = _signed_in(peers, rp, Browser(), citizen)

    claims = {k: v for k, v in claims_of(page.text).items() if k not in PROTOCOL_CLAIMS}
    assert claims.pop("sub")
    assert claims == {name: citizen.claims[name] for name in ALLOWED}


def test_logout_ends_at_the_registered_post_logout_page(peers, rp, citizen):
    browser = Browser()
    _signed_in(peers, rp, browser, citizen)

    page = browser.get(rp.logout_url())

    assert urlsplit(page.url)._replace(query="").geturl() == rp.logged_out_url, \
        peers.why(page, rp)
    assert page.status_code == 200


def test_after_logout_the_protected_page_asks_the_source_again(peers, rp, citizen):
    browser = Browser()
    _signed_in(peers, rp, browser, citizen)
    browser.get(rp.logout_url())

    page = browser.get(rp.protected_url)

    assert page.url.startswith(peers.fed.url("src-op")), peers.why(page, rp)
