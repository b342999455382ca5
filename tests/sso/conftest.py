"""A federation for single sign-on and levels of assurance, on a real redis-server.

The testbed's two demo sources (``src-op``: OIDC, registered *substantial*;
``src-idp``: SAML, registered *low*) plus a third, ``src-haut``: another demo OIDC
provider registered *high*. Services are real demo RPs and SPs; the tests also act
as a service themselves (:mod:`tests.sso.clients`) when they need to send what the
demo services never send (``prompt``, ``max_age``, ``acr_values``, ``ForceAuthn``,
``IsPassive``, ``RequestedAuthnContext``) or to read the ID token.

The proxy is ``ncconnect serve`` under gunicorn (two workers); a second, separate
proxy process shares the same Redis for the cross-process test.
"""

from __future__ import annotations

import secrets

import pytest
import yaml

from idp.demo.citizens import CITIZENS
from idp.demo.op import make_demo_op
from idp.keys import rsa_key_pem
from idp.stores import open_store
from idp.testbed.federation import SOURCE_ATTRIBUTES, build_federation
from idp.testbed.servers import free_port

HIGH_URI = "http://eidas.europa.eu/LoA/high"
NAMES = ["given_name", "family_name", "birthdate"]

SERVICES: dict[str, tuple] = {
    "rp-a": ("oidc", ["src-op"], NAMES),
    # fewer attributes than rp-a: the session answers it with its own minimisation
    "rp-b": ("oidc", ["src-op"], ["given_name"]),
    "sp-a": ("saml2", ["src-op"], ["given_name", "family_name"]),
    "rp-idp": ("oidc", ["src-idp"], ["given_name"]),
    "sp-idp": ("saml2", ["src-idp"], ["given_name"]),
    "rp-trois": ("oidc", ["src-op", "src-idp", "src-haut"], ["given_name"]),
    "sp-trois": ("saml2", ["src-op", "src-idp", "src-haut"], ["given_name"]),
    "rp-substantiel": ("oidc", ["src-op", "src-haut"], ["given_name"],
                       {"loa_min": "substantial"}),
}


def add_high_source(fed) -> None:
    """A second demo OIDC provider, registered at level high (before the proxy starts)."""
    secret = secrets.token_urlsafe(24)
    fed.env["NCC_TEST_HAUT_SECRET"] = secret
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    op = make_demo_op(url, {"ncconnect": {
        "client_secret": secret, "redirect_uris": [f"{fed.proxy_url}/src-haut/oidc/callback"],
        "post_logout_redirect_uris": [f"{fed.proxy_url}/src-haut/oidc/logout"]}},
        rsa_key_pem()[1], CITIZENS, acr=HIGH_URI)
    fed.add("src-haut", op, port)
    partner = {"kind": "source", "id": "src-haut", "display_name": "Identité forte de test",
               "loa": "high", "protocol": "oidc",
               "attributes": {name: {} for name in SOURCE_ATTRIBUTES},
               "oidc": {"issuer": url, "client_id": "ncconnect",
                        "client_secret_env": "NCC_TEST_HAUT_SECRET",
                        "scope": ["openid", "profile", "email", "birth", "phone"]}}
    (fed.folder / "partenaires" / "src-haut.yaml").write_text(
        yaml.safe_dump(partner, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="package")
def fed(tmp_path_factory, redis_server):
    # INFO: the SSO decisions are logged, and the log is checked for personal data.
    federation = build_federation(tmp_path_factory.mktemp("sso"), SERVICES, log_level="INFO")
    try:
        add_high_source(federation)
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture(scope="package")
def other_proxy(fed, redis_server):
    proxy = fed.second_host(redis_server.url)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="package")
def store(redis_server):
    """The proxy's shared store, read directly to check what a session holds."""
    return open_store(redis_server.url)


@pytest.fixture
def citizen():
    return CITIZENS[1]


@pytest.fixture
def remembering_citizen():
    """Ticks "Se souvenir de mon choix": kept apart, the others always see the screen."""
    return CITIZENS[4]


@pytest.fixture
def high_source(fed):
    """The high-level source, put back as it was after a test changed what it states."""
    op = fed.apps["src-haut"]
    yield op
    op.acr = HIGH_URI
