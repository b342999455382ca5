"""Partner files for the interop peers, written as a partner's registration would be.

One function per kind of peer, taking what the peer actually is (its entity ID, its
metadata URL, its client ID and secret) and the partner-file options the test is about
(NameID formats, unsigned logout requests, PKCE, level mapping…), so each test module
states, in its own words, how a real partner of that kind must be registered.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ...dictionary.model import load_dictionary
from ..federation import DICTIONARY

#: Every service here is informed, not asked (the information screen): a public task.
LEGAL_BASIS = "public_task"


def write_partner(folder: Path, data: Mapping[str, Any]) -> Path:
    path = folder / f"{data['id']}.yaml"
    path.write_text(yaml.safe_dump(dict(data), allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return path


def _service(sid: str, name: str, sources: list[str], attributes: list[str],
             protocol: str) -> dict[str, Any]:
    return {"kind": "service", "id": sid, "name": name, "organisation": "Tests d'interopérabilité",
            "contact": "interop@example.nc", "protocol": protocol,
            "purpose": "Vérifier qu'un logiciel du marché se raccorde à NC Connect.",
            "legal_basis": LEGAL_BASIS, "sources": sources,
            "attributes": {a: {"justification": "Vérifier la transmission de cette donnée."}
                           for a in attributes}}


def saml_service(sid: str, name: str, entity_id: str, sources: list[str],
                 attributes: list[str], *, metadata_url: str | None = None,
                 metadata_file: str | None = None, **saml2: Any) -> dict[str, Any]:
    """A SAML SP, its metadata by URL or by file (next to the partner file); ``saml2`` holds
    the technical options (``name_id_formats``, ``logout_requests``, ``encrypt_assertions``…)."""
    metadata = {"metadata_url": metadata_url} if metadata_url else {"metadata_file": metadata_file}
    return {**_service(sid, name, sources, attributes, "saml2"),
            "saml2": {"entity_id": entity_id, **metadata, **saml2}}


def oidc_service(sid: str, name: str, client_id: str, client_secret: str,
                 redirect_uri: str, post_logout_redirect_uri: str, sources: list[str],
                 attributes: list[str], **oidc: Any) -> dict[str, Any]:
    """A confidential OIDC client (client_secret_basic); ``oidc`` holds the other options
    (``require_pkce``…)."""
    return {**_service(sid, name, sources, attributes, "oidc"), "oidc": {
        "client_id": client_id,
        "client_secret_sha256": hashlib.sha256(client_secret.encode()).hexdigest(),
        "redirect_uris": [redirect_uri],
        "post_logout_redirect_uris": [post_logout_redirect_uri], **oidc}}


def saml_source(sid: str, display_name: str, entity_id: str, metadata_url: str, loa: str,
                attributes: Mapping[str, Mapping[str, Any]], loa_mapping: Mapping[str, Any],
                **saml2: Any) -> dict[str, Any]:
    """A SAML IdP as identity source; ``attributes`` maps dictionary names to how they are
    read (``from``, ``date_format``, ``values``); ``saml2`` holds ``name_id``…"""
    return {"kind": "source", "id": sid, "display_name": display_name, "loa": loa,
            "loa_mapping": dict(loa_mapping), "protocol": "saml2",
            "saml2": {"entity_id": entity_id, "metadata_url": metadata_url, **saml2},
            "attributes": {name: dict(how) for name, how in attributes.items()}}


def saml_names(attributes: list[str]) -> dict[str, str]:
    """Dictionary name -> the SAML attribute name NC Connect sends it under."""
    dictionary = load_dictionary(DICTIONARY)
    return {name: dictionary.attributes[name].saml.name for name in attributes}


def oidc_source(sid: str, display_name: str, issuer: str, client_id: str,
                client_secret_env: str, loa: str, scope: list[str],
                attributes: Mapping[str, Mapping[str, Any]], loa_mapping: Mapping[str, Any],
                **fields: Any) -> dict[str, Any]:
    """An OIDC provider as identity source, its secret in ``client_secret_env`` (the proxy's
    environment); ``fields`` holds the other top-level fields (``tls_ca_file``…)."""
    return {"kind": "source", "id": sid, "display_name": display_name, "loa": loa,
            "loa_mapping": dict(loa_mapping), "protocol": "oidc",
            "oidc": {"issuer": issuer, "client_id": client_id,
                     "client_secret_env": client_secret_env, "scope": list(scope)},
            "attributes": {name: dict(how) for name, how in attributes.items()}, **fields}
