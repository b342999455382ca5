"""`partenaires add`: a registration request becomes a validated partner file, or nothing."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import yaml
from cryptojwt.jwk.rsa import RSAKey
from werkzeug.test import Client

from idp.assemble import read_metadata
from idp.demo.saml_sp import make_demo_sp
from idp.keys import rsa_key_pem, write_key_pair
from idp.partners.edit import slugify, with_logo, with_organisation_id
from tests.cli.conftest import ncconnect

OIDC_REQUEST = {
    "organisation": "Commune de Dumbéa",
    "contact": "dpo@dumbea.nc",
    "service_name": "Dumbéa — inscriptions scolaires",
    "purpose": "Inscrire vos enfants à l'école et à la cantine.",
    "legal_basis": "public_task",
    "legal_reference": "Délibération n° 2024-12 du conseil municipal",
    "protocol": "oidc",
    "oidc": {"redirect_uris": ["https://ecoles.dumbea.nc/oidc/callback"],
             "post_logout_redirect_uris": ["https://ecoles.dumbea.nc/"],
             "token_endpoint_auth_method": "client_secret_post"},
    "sources": ["demo-oidc", "demo-saml"],
    "loa_min": "low",
    "consent": {"remember_days": 30},
    "attributes": {
        "family_name": {"justification": "Inscrire l'enfant au nom de son responsable légal."},
        "email": {"justification": "Envoyer la confirmation d'inscription.", "optional": True},
    },
}


def write_request(folder: Path, data: dict, name: str = "demande.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def saml_request(tmp_path: Path) -> dict:
    """A SAML request whose metadata file is a real pysaml2 SP's (the demo SP's)."""
    base = "https://aides.province-sud.nc"
    write_key_pair(tmp_path / "sp.pem", tmp_path / "sp.crt", "sp")
    sp = make_demo_sp(base, tmp_path / "sp.pem", tmp_path / "sp.crt",
                      "http://127.0.0.1:8440/saml2/metadata", "SP")
    (tmp_path / "sp-metadata.xml").write_bytes(Client(sp).get("/metadata").data)
    data = {k: v for k, v in OIDC_REQUEST.items() if k != "oidc"}
    return {**data, "service_name": "Province Sud — aides", "protocol": "saml2",
            "legal_basis": "consent",
            "saml2": {"entity_id": f"{base}/metadata", "metadata_file": "sp-metadata.xml"}}


def test_oidc_request_writes_a_partner_file_that_validates_with_the_registry(copy, tmp_path):
    request = write_request(tmp_path, OIDC_REQUEST)
    result = ncconnect("partenaires", "add", request, "--config", copy.config)
    assert result.exit_code == 0, result.output
    sid = slugify(OIDC_REQUEST["service_name"])
    assert sid == "dumbea-inscriptions-scolaires"
    service = copy.registry().services[sid]
    assert service.active
    assert service.name == OIDC_REQUEST["service_name"]
    assert service.legal_reference == OIDC_REQUEST["legal_reference"]
    assert service.consent.remember_days == 30
    assert service.oidc.client_id == sid
    assert service.oidc.token_endpoint_auth_method == "client_secret_post"
    assert service.oidc.redirect_uris == OIDC_REQUEST["oidc"]["redirect_uris"]
    assert {n: (a.justification, a.optional) for n, a in service.attributes.items()} == {
        n: (a["justification"], a.get("optional", False))
        for n, a in OIDC_REQUEST["attributes"].items()}


def test_oidc_secret_is_printed_once_and_only_its_sha256_is_stored(copy, tmp_path):
    request = write_request(tmp_path, OIDC_REQUEST)
    result = ncconnect("partenaires", "add", request, "--config", copy.config)
    secrets = re.findall(r"^client_secret: (\S+)$", result.stdout, re.M)
    assert len(secrets) == 1
    secret = secrets[0]
    assert len(secret) >= 40
    assert result.stdout.count(secret) == 1
    assert "Store it now, it is not kept" in result.stdout
    path = copy.folder / "dumbea-inscriptions-scolaires.yaml"
    text = path.read_text(encoding="utf-8")
    assert secret not in text
    assert yaml.safe_load(text)["oidc"]["client_secret_sha256"] == hashlib.sha256(
        secret.encode()).hexdigest()


def test_added_partner_file_is_commented_for_its_next_reader(copy, tmp_path):
    request = write_request(tmp_path, OIDC_REQUEST)
    ncconnect("partenaires", "add", request, "--config", copy.config)
    text = (copy.folder / "dumbea-inscriptions-scolaires.yaml").read_text(encoding="utf-8")
    comments = [line for line in text.splitlines() if line.startswith("#")]
    assert any("demande.yaml" in c for c in comments)
    assert any("only its SHA-256" in c for c in comments)
    assert len(comments) >= 6


def test_id_option_and_inactive_flag_are_written(copy, tmp_path):
    request = write_request(tmp_path, OIDC_REQUEST)
    result = ncconnect("partenaires", "add", request, "--config", copy.config,
                       "--id", "ecoles-dumbea", "--inactive")
    assert result.exit_code == 0, result.output
    service = copy.registry().services["ecoles-dumbea"]
    assert (copy.folder / "ecoles-dumbea.yaml").exists()
    assert service.oidc.client_id == "ecoles-dumbea"
    assert service.active is False


def test_private_key_jwt_client_gets_its_keys_and_no_secret(copy, tmp_path):
    key, _ = rsa_key_pem()
    jwks = {"keys": [RSAKey(pub_key=key.public_key(), kid="k1").serialize(private=False)]}
    request = write_request(tmp_path, {**OIDC_REQUEST, "oidc": {
        "redirect_uris": ["https://ecoles.dumbea.nc/cb"],
        "token_endpoint_auth_method": "private_key_jwt", "jwks": jwks}})
    result = ncconnect("partenaires", "add", request, "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert "client_secret" not in result.output
    oidc = copy.registry().services["dumbea-inscriptions-scolaires"].oidc
    assert oidc.client_secret_sha256 is None
    assert oidc.jwks == jwks


def test_saml_request_copies_its_metadata_next_to_the_partner_file(copy, tmp_path):
    data = saml_request(tmp_path)
    request = write_request(tmp_path, data)
    result = ncconnect("partenaires", "add", request, "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert "client_secret" not in result.output
    reg = copy.registry()
    service = reg.services["province-sud-aides"]
    assert service.protocol == "saml2"
    assert service.saml2.entity_id == data["saml2"]["entity_id"]
    assert read_metadata(reg, service) == (tmp_path / "sp-metadata.xml").read_text()


def test_saml_metadata_of_another_entity_is_refused(copy, tmp_path):
    data = saml_request(tmp_path)
    data["saml2"]["entity_id"] = "https://autre.example.nc/metadata"
    request = write_request(tmp_path, data)
    before = copy.snapshot()
    result = ncconnect("partenaires", "add", request, "--config", copy.config)
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {request}: saml2.metadata_file: {tmp_path / 'sp-metadata.xml'} does not "
        "describe entityID 'https://autre.example.nc/metadata': send the metadata of this "
        "entity_id, or fix saml2.entity_id\n")
    assert copy.snapshot() == before


def test_existing_id_is_refused_and_nothing_is_written(copy, tmp_path):
    request = write_request(tmp_path, OIDC_REQUEST)
    before = copy.snapshot()
    result = ncconnect("partenaires", "add", request, "--config", copy.config,
                       "--id", "demo-mairie")
    assert result.exit_code == 2
    existing = copy.registry().files["demo-mairie"]
    assert result.stderr == (f"error: {request}: id 'demo-mairie' is already used by "
                             f"{existing}: choose another with --id\n")
    assert "client_secret" not in result.output
    assert copy.snapshot() == before


def test_request_with_a_missing_field_names_the_request_file_and_the_field(copy, tmp_path):
    data = {k: v for k, v in OIDC_REQUEST.items() if k != "purpose"}
    request = write_request(tmp_path, data)
    before = copy.snapshot()
    result = ncconnect("partenaires", "add", request, "--config", copy.config)
    assert result.exit_code == 2
    assert result.stderr == f"error: {request}: purpose: is required: add it\n"
    assert copy.snapshot() == before


def test_request_the_registry_refuses_is_reported_against_the_request(copy, tmp_path):
    """Unknown attribute, source below the LoA: found by validating the registry with the new
    file, reported with the request's file and field names, and nothing written."""
    dic = copy.dictionary
    data = {**OIDC_REQUEST, "loa_min": "substantial",
            "attributes": {**OIDC_REQUEST["attributes"],
                           "pointure": {"justification": "Commander les chaussons."}}}
    request = write_request(tmp_path, data)
    before = copy.snapshot()
    result = ncconnect("partenaires", "add", request, "--config", copy.config)
    assert result.exit_code == 2
    low = copy.registry().sources["demo-saml"].loa
    assert result.stderr == (
        f"error: {request}: sources[1]: 'demo-saml' reaches level {low}, below this service's "
        "loa_min substantial: remove it or lower loa_min\n"
        f"error: {request}: attributes.pointure: not in the attribute dictionary "
        f"(known: {', '.join(dic.attributes)})\n")
    assert copy.snapshot() == before


def test_a_client_id_already_taken_points_at_the_id_option(copy, tmp_path):
    path = copy.folder / "service-mairie-oidc.yaml"
    path.write_text(path.read_text().replace("client_id: demo-mairie", "client_id: ecoles"))
    request = write_request(tmp_path, OIDC_REQUEST)
    result = ncconnect("partenaires", "add", request, "--config", copy.config, "--id", "ecoles")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {request}: --id: client_id 'ecoles' is already used by "
                             f"{path}: choose another id with --id\n")
    assert not (copy.folder / "ecoles.yaml").exists()


def test_a_line_break_in_the_service_name_cannot_add_keys_to_the_partner_file(copy, tmp_path):
    request = write_request(tmp_path, {**OIDC_REQUEST,
                                       "service_name": "Écoles\nactive: false\nsector: x"})
    result = ncconnect("partenaires", "add", request, "--config", copy.config, "--id", "ecoles")
    assert result.exit_code == 0, result.output
    service = copy.registry().services["ecoles"]
    assert service.active is True and service.sector is None
    assert service.name == "Écoles\nactive: false\nsector: x"


def test_saml_request_carries_what_the_sp_software_needs_into_the_partner_file(copy, tmp_path):
    data = saml_request(tmp_path)
    data["saml2"] |= {"name_id_formats": ["transient"], "logout_requests": "unsigned_confirm"}
    result = ncconnect("partenaires", "add", write_request(tmp_path, data), "--config",
                       copy.config)
    assert result.exit_code == 0, result.output
    saml2 = copy.registry().services["province-sud-aides"].saml2
    assert saml2.name_id_formats == ["transient"]
    assert saml2.logout_requests == "unsigned_confirm"
    assert saml2.encrypt_assertions is False


def test_oidc_request_without_pkce_is_registered_as_an_explicit_allowance(copy, tmp_path):
    data = {**OIDC_REQUEST, "oidc": {**OIDC_REQUEST["oidc"], "require_pkce": False}}
    result = ncconnect("partenaires", "add", write_request(tmp_path, data), "--config",
                       copy.config)
    assert result.exit_code == 0, result.output
    sid = slugify(OIDC_REQUEST["service_name"])
    assert copy.registry().services[sid].oidc.require_pkce is False
    assert "require_pkce: false" in (copy.folder / f"{sid}.yaml").read_text(encoding="utf-8")


def test_the_logo_follows_the_contact_and_the_organisation_id_the_organisation():
    data = {"id": "x", "organisation": "Commune", "contact": "dpo@x.nc", "service_name": "S",
            "logo": "old.png"}
    placed = with_logo(with_organisation_id(data, "commune-x"), "x.logo.png")
    assert list(placed) == ["id", "organisation", "organisation_id", "contact", "logo",
                            "service_name"]
    assert placed["logo"] == "x.logo.png"
