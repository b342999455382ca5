"""Federations for the consent screen tests: real peers, the proxy under gunicorn, and the
consent records read and written through the store API the proxy itself uses."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS, Citizen
from idp.dictionary import load_dictionary
from idp.dictionary.pivot import pivot_key
from idp.keys import read_secret
from idp.pairwise import pairwise_id
from idp.stores import Store, open_store
from idp.testbed.browser import Browser
from idp.testbed.federation import DICTIONARY, Federation, build_federation
from idp.testbed.login import sign_in, start
from plugins.micro_services.consent_records import CONSENT_NAMESPACE
from plugins.micro_services.pairwise import ACCOUNT_SECTOR

JUSTIFICATION = "Vérifier la transmission."
#: What the testbed's OIDC relying parties ask for when not told otherwise (idp/demo/rp.py).
DEFAULT_SCOPE = "openid profile email birth"
#: Only the ``profile`` scope: one attribute fewer (email) for rp-accord.
PROFILE_SCOPE = "openid profile"


def _attributes(mandatory: list[str], optional: list[str]) -> dict[str, dict]:
    return ({a: {"justification": JUSTIFICATION} for a in mandatory}
            | {a: {"justification": JUSTIFICATION, "optional": True} for a in optional})


#: rp-accord / sp-accord: legal basis consent, remembered 30 days, optional attributes;
#: rp-info: public task with a reference, never remembered (the screen at every login).
SERVICES: dict[str, tuple] = {
    "rp-accord": ("oidc", ["src-op"], [], {
        "name": "Mairie de test — état civil", "organisation": "Commune de test",
        "purpose": "Instruire vos demandes d'actes d'état civil.",
        "legal_basis": "consent", "consent": {"remember_days": 30},
        "attributes": _attributes(["given_name", "family_name", "birthdate"],
                                  ["gender", "email"])}),
    "sp-accord": ("saml2", ["src-idp"], [], {
        "legal_basis": "consent", "consent": {"remember_days": 30},
        "attributes": _attributes(["given_name", "family_name", "birthdate"], ["email"])}),
    "rp-info": ("oidc", ["src-op"], [], {
        "legal_basis": "public_task",
        "legal_reference": "Délibération n° 42 du congrès de la Nouvelle-Calédonie",
        "consent": {"remember_days": 0},
        "attributes": _attributes(["given_name", "family_name", "birthdate"], ["email"])}),
}


@dataclass
class ConsentFederation:
    """A running federation and the store its proxy uses."""

    fed: Federation
    store_url: str

    def url(self, peer: str) -> str:
        return self.fed.url(peer)

    @property
    def proxy_url(self) -> str:
        return self.fed.proxy_url

    def store(self) -> Store:
        return open_store(self.store_url)

    def account_key(self, citizen: Citizen) -> str:
        """The citizen's account key, derived as the proxy does (pivot, pairwise secret)."""
        secret = read_secret(self.fed.folder / "data" / "keys" / "pairwise.secret")
        basis = pivot_key(citizen.claims)
        assert basis is not None
        return pairwise_id(secret, ACCOUNT_SECTOR, basis)

    def records(self, citizen: Citizen) -> dict[str, dict]:
        return self.store().items(CONSENT_NAMESPACE, self.account_key(citizen))

    def forget_everything(self, citizen: Citizen) -> None:
        self.store().delete_owner(CONSENT_NAMESPACE, self.account_key(citizen))


def _start(tmp_path_factory, store: str, redis_url: str) -> ConsentFederation:
    fed = build_federation(tmp_path_factory.mktemp(f"consent-{store}"), SERVICES)
    url = redis_url if store == "redis" else f"sqlite://{fed.folder / 'data' / 'store.db'}"
    setup = ConsentFederation(fed, url)
    try:
        fed.start_proxy(workers=2, store=redis_url if store == "redis" else None)
    except BaseException:
        fed.stop()
        raise
    return setup


@pytest.fixture(scope="session")
def consent_federations(tmp_path_factory, redis_server):
    """One federation per store kind, started the first time a test needs it."""
    started: dict[str, ConsentFederation] = {}

    def get(store: str) -> ConsentFederation:
        if store not in started:
            started[store] = _start(tmp_path_factory, store, redis_server.url)
        return started[store]

    yield get
    for setup in started.values():
        setup.fed.stop()


@pytest.fixture
def cf(consent_federations) -> ConsentFederation:
    """The federation on Redis, as in production."""
    return consent_federations("redis")


@pytest.fixture(params=["embedded", "redis"])
def any_store(request, consent_federations) -> ConsentFederation:
    """The same behaviour is expected on the embedded store and on Redis."""
    return consent_federations(request.param)


@pytest.fixture
def citizen():
    return CITIZENS[0]


# -- steps of a login, up to the screen -----------------------------------------------------


def to_screen(browser: Browser, cf: ConsentFederation, service: str, citizen: Citizen,
              scope: str | None = None) -> requests.Response:
    """Start a login at ``service`` and sign in: the page the proxy shows next."""
    if scope is None:
        page = start(browser, cf.url(service))
    else:
        page = browser.get(f"{cf.url(service)}/login?{urlencode({'scope': scope})}")
    return sign_in(browser, page, citizen, consent=False)


def screen_lines(page: requests.Response) -> dict[str, str]:
    """attribute name -> the line the usager reads ("Nom de naissance : Wamytan")."""
    soup = BeautifulSoup(page.text, "html.parser")
    return {li["data-name"]: " ".join(li.select_one(".ligne").get_text().split())
            for li in soup.select("li.attribut[data-name]")}


def authorize_state(browser: Browser) -> str:
    """The ``state`` the relying party sent in its authorization request."""
    for resp in browser.history:
        parts = urlsplit(resp.url)
        if parts.path == "/oidc/authorize":
            return parse_qs(parts.query)["state"][0]
    raise AssertionError("no authorization request in this browser's history")


def saml_names() -> dict[str, str]:
    """SAML attribute Name (urn:oid) -> dictionary name."""
    return {a.saml.name: name for name, a in load_dictionary(DICTIONARY).attributes.items()}
