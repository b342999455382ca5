"""Fixtures: the proxy (two workers, one store), a pyop provider and a pysaml2 IdP on loopback;
and a whole federation whose SAML sources behave like real-world IdPs."""

from __future__ import annotations

from pathlib import Path

import pytest
import requests

from idp.assemble import OIDC_BACKEND, SAML_BACKEND
from idp.dictionary import load_dictionary
from idp.dictionary.normalise import readings_for
from idp.keys import rsa_key_pem, write_key_pair
from idp.stores import open_store
from tests.backends.federation_harness import (
    FLOW_TTL,
    OIDC_SOURCE,
    ROOT,
    SAML_SOURCE,
    Browser,
    LoopbackServer,
    Proxy,
    make_app,
    satosa_config,
)
from tests.backends.oidc_source_peer import CLIENT_ID, CLIENT_SECRET, OidcSourcePeer
from tests.backends.saml_source_peer import SamlSourcePeer
from tests.backends.saml_sources_federation import saml_sources_federation


@pytest.fixture(scope="session")
def key_folder(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("keys")
    write_key_pair(folder / "proxy-saml.pem", folder / "proxy-saml.crt", "NC Connect test")
    write_key_pair(folder / "idp.pem", folder / "idp.crt", "Test IdP")
    write_key_pair(folder / "proxy-enc.pem", folder / "proxy-enc.crt", "NC Connect test enc")
    return folder


@pytest.fixture(scope="session")
def op_key():
    return rsa_key_pem()


@pytest.fixture(scope="session")
def foreign_key():
    """An RSA key the provider does not publish (forged signatures)."""
    return rsa_key_pem()[0]


@pytest.fixture
def servers():
    started = {name: LoopbackServer() for name in ("proxy", "other", "op", "idp")}
    yield started
    for server in started.values():
        server.close()


@pytest.fixture
def oidc_source(servers, op_key) -> OidcSourcePeer:
    key, pem = op_key
    redirect_uri = f"{servers['proxy'].url}/{OIDC_SOURCE}/oidc/callback"
    peer = OidcSourcePeer(servers["op"].url, key, pem, redirect_uri)
    servers["op"].serve(peer)
    return peer


@pytest.fixture
def saml_source(servers, key_folder) -> SamlSourcePeer:
    peer = SamlSourcePeer(servers["idp"].url, key_folder / "idp.pem", key_folder / "idp.crt")
    servers["idp"].serve(peer)
    return peer


@pytest.fixture
def proxy(servers, oidc_source, saml_source, key_folder, tmp_path) -> Proxy:
    base = servers["proxy"].url

    dictionary = load_dictionary(ROOT / "attributs" / "dictionnaire.yaml")
    everything = dict.fromkeys(dictionary.attributes, {})

    def common(source_id: str, protocol: str) -> dict:
        return {"store_url": "", "source_id": source_id, "display_name": f"Test {source_id}",
                "lifetimes": {"flow": FLOW_TTL},
                "attributes": readings_for(dictionary, protocol, everything)}

    oidc_backend = {"module": OIDC_BACKEND, "name": OIDC_SOURCE, "config": {
        **common(OIDC_SOURCE, "oidc"),
        "issuer": oidc_source.base_url,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "scope": ["openid", "profile", "email", "phone"],
        "id_token_signing_alg": "RS256",
        "allow_loopback_http": True,
        "redirect_uri": f"{base}/{OIDC_SOURCE}/oidc/callback",
    }}
    saml_backend = {"module": SAML_BACKEND, "name": SAML_SOURCE, "config": {
        **common(SAML_SOURCE, "saml2"),
        "idp_entity_id": saml_source.entity_id,
        "idp_metadata_xml": saml_source.metadata_xml(),
        "sp_entity_id": f"{base}/{SAML_SOURCE}/saml2/metadata",
        "acs_url": f"{base}/{SAML_SOURCE}/saml2/acs",
        "key_path": str(key_folder / "proxy-saml.pem"),
        "cert_path": str(key_folder / "proxy-saml.crt"),
        "encryption_key_path": str(key_folder / "proxy-enc.pem"),
        "encryption_cert_path": str(key_folder / "proxy-enc.crt"),
    }}
    config = satosa_config(base, [oidc_backend, saml_backend])
    store_url = f"sqlite:///{tmp_path}/s.db"
    # Same file under another URL: the second instance opens its own connection, like a
    # worker in another process would.
    other_store_url = f"sqlite:///{tmp_path}/./s.db"
    servers["proxy"].serve(make_app(config, store_url))
    servers["other"].serve(make_app(config, other_store_url))
    sp_metadata = requests.get(f"{base}/{SAML_SOURCE}/saml2/metadata", timeout=10).text
    saml_source.trust_sp(sp_metadata)
    return Proxy(base, servers["other"].url, config, store_url)


@pytest.fixture
def browser() -> Browser:
    return Browser()


@pytest.fixture(scope="package")
def saml_sources(tmp_path_factory, redis_server):
    """The proxy under gunicorn with SAML sources set up like real-world IdPs
    (:mod:`tests.backends.saml_sources_federation`)."""
    with saml_sources_federation(tmp_path_factory.mktemp("saml-sources"),
                                 redis_server.url) as fed:
        yield fed


@pytest.fixture(scope="package")
def sources_store(redis_server):
    return open_store(redis_server.url)
