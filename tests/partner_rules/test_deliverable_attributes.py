"""A service may only be allowed what one of its accepted sources, or a directory it accepts,
provides: anything else would be promised by its partner file and the DPO's report, and
never released. Each refusal names the file, the field and the fix."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from idp.dictionary import load_dictionary
from idp.partners import load_registry
from idp.partners.registry import providers
from idp.schema_errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DICTIONARY = load_dictionary(ROOT / "attributs" / "dictionnaire.yaml")

PIVOT = ["family_name", "given_name", "birthdate", "gender", "birthplace", "birthcountry"]
OIDC_SOURCE = {"kind": "source", "id": "src-oidc", "display_name": "Source OIDC",
               "protocol": "oidc", "loa": "substantial",
               "oidc": {"issuer": "https://op.example.nc", "client_id": "ncc",
                        "client_secret_env": "SRC_OIDC_SECRET"},
               "attributes": {"family_name": {"from": "nom_naissance"}, "given_name": {}}}
SAML_SOURCE = {"kind": "source", "id": "src-saml", "display_name": "Source SAML",
               "protocol": "saml2", "loa": "low",
               "saml2": {"entity_id": "https://idp.example.nc/metadata",
                         "metadata_url": "https://idp.example.nc/metadata"},
               "attributes": {**{name: {} for name in PIVOT}, "email": {"from": "courriel"}}}
LDAP_SOURCE = {"kind": "source", "id": "src-ldap", "display_name": "Comptes NC Connect",
               "protocol": "ldap", "loa": "substantial",
               "loa_mapping": {"unstated": "low"},
               "ldap": {"url": "ldaps://comptes.example.nc", "base_dn": "ou=personnes,dc=nc"},
               "attributes": {"given_name": {"from": "givenName"},
                              "family_name": {"from": "ncNomNaissance"},
                              "phone_number": {"from": "mobile"}}}
DIRECTORY = {"kind": "directory", "id": "annuaire-ps", "organisation": "la Province Sud",
             "contact": "dpo@province-sud.nc", "legal_basis": "public_task",
             "ldap": {"url": "ldaps://annuaire.province-sud.nc", "base_dn": "ou=usagers,dc=ps"},
             "match": {"filter": "(&(sn={family_name})(givenName={given_name}))"},
             "attributes": {"address": {"from": "postalAddress"},
                            "province": {"from": "ncProvince"}}}


def service(sources: list[str], attributes: list[str], **fields) -> dict:
    return {"kind": "service", "id": "svc-a", "name": "Service A", "organisation": "Org",
            "contact": "dpo@example.nc", "protocol": "oidc",
            "purpose": "Instruire votre demande de bourse.", "legal_basis": "public_task",
            "oidc": {"client_id": "svc-a", "client_secret_sha256": "a" * 64,
                     "redirect_uris": ["https://svc.example.nc/cb"]},
            "sources": sources,
            "attributes": {a: {"justification": "Instruire la demande."} for a in attributes},
            **fields}


def write_registry(folder: Path, *partners: dict) -> Path:
    for p in partners:
        (folder / f"{p['id']}.yaml").write_text(yaml.safe_dump(p, allow_unicode=True),
                                                encoding="utf-8")
    return folder


def refusal(folder: Path) -> str:
    with pytest.raises(ConfigError) as err:
        load_registry(folder, DICTIONARY)
    return str(err.value)


FIX = ("declare it in the attributes of one of these sources if it sends it, add a source "
       "that provides it to sources, or remove it from attributes")


def test_an_attribute_no_source_nor_directory_provides_is_refused(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, service(["src-oidc"], ["given_name", "email"]))
    assert refusal(tmp_path) == (
        f"{tmp_path}/svc-a.yaml: attributes.email: none of this service's sources (src-oidc) "
        f"provides it, nor does any directory: it is never released: {FIX}")


def test_each_undeliverable_attribute_is_named_and_the_deliverable_ones_are_not(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, SAML_SOURCE,
                   service(["src-oidc"], ["family_name", "email", "cafat_number"]))
    lines = refusal(tmp_path).splitlines()
    assert sorted(line.split(": ")[1] for line in lines) == ["attributes.cafat_number",
                                                             "attributes.email"]
    assert all("(src-oidc)" in line for line in lines)


@pytest.mark.parametrize("source", [OIDC_SOURCE, SAML_SOURCE, LDAP_SOURCE],
                         ids=["oidc", "saml2", "ldap"])
def test_an_attribute_declared_by_an_accepted_source_is_provided_whatever_its_protocol(
        tmp_path, source):
    """``from:`` only renames: what a source declares in ``attributes`` is what it provides
    (what minimisation counts as provided), for OIDC, SAML and LDAP sources alike."""
    declared = list(source["attributes"])
    write_registry(tmp_path, source, service([source["id"]], declared))
    reg = load_registry(tmp_path, DICTIONARY)
    assert all(providers(reg, reg.services["svc-a"], a).sources == (source["id"],)
               for a in declared)


def test_one_accepted_source_providing_it_is_enough(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, SAML_SOURCE,
                   service(["src-oidc", "src-saml"], ["given_name", "email", "birthplace"]))
    reg = load_registry(tmp_path, DICTIONARY)
    assert providers(reg, reg.services["svc-a"], "email").sources == ("src-saml",)


def test_a_source_the_service_does_not_accept_does_not_count(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, SAML_SOURCE, service(["src-oidc"], ["email"]))
    assert "svc-a.yaml: attributes.email: none of this service's sources (src-oidc) provides " \
        "it, nor does any directory" in refusal(tmp_path)


def test_a_directory_supplying_it_provides_it_to_a_service_that_accepts_enrichment(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, DIRECTORY,
                   service(["src-oidc"], ["given_name", "address", "province"]))
    reg = load_registry(tmp_path, DICTIONARY)
    p = providers(reg, reg.services["svc-a"], "address")
    assert (p.sources, p.directories) == ((), ("annuaire-ps",))


def test_a_service_that_opted_out_of_enrichment_is_not_provided_by_a_directory(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, DIRECTORY,
                   service(["src-oidc"], ["given_name", "address"], enrichment=False))
    assert refusal(tmp_path) == (
        f"{tmp_path}/svc-a.yaml: attributes.address: none of this service's sources "
        "(src-oidc) provides it, and this service opted out of the directories that supply "
        "it (annuaire-ps) with enrichment: false: it is never released: remove enrichment: "
        f"false, {FIX}")


def test_a_directory_that_cannot_find_the_citizen_from_the_sources_does_not_provide(tmp_path):
    """The match filter is filled from what the login's source gave: a directory matching on
    the birth date never finds anyone for a service whose sources do not give it."""
    directory = copy.deepcopy(DIRECTORY)
    directory["match"]["filter"] = "(&(sn={family_name})(dateNaissance={birthdate:%Y%m%d}))"
    write_registry(tmp_path, OIDC_SOURCE, LDAP_SOURCE, directory,
                   service(["src-oidc", "src-ldap"], ["given_name", "address"]))
    assert refusal(tmp_path) == (
        f"{tmp_path}/svc-a.yaml: attributes.address: none of this service's sources "
        "(src-oidc, src-ldap) provides it, and the directories that supply it cannot find the "
        "citizen from what these sources give (annuaire-ps needs birthdate): it is never "
        f"released: {FIX}")


def test_a_directory_is_usable_when_one_accepted_source_gives_all_it_matches_on(tmp_path):
    directory = copy.deepcopy(DIRECTORY)
    directory["match"]["filter"] = "(&(sn={family_name})(dateNaissance={birthdate:%Y%m%d}))"
    write_registry(tmp_path, OIDC_SOURCE, SAML_SOURCE, directory,
                   service(["src-oidc", "src-saml"], ["given_name", "address"]))
    reg = load_registry(tmp_path, DICTIONARY)
    assert providers(reg, reg.services["svc-a"], "address").directories == ("annuaire-ps",)


def test_disabled_sources_and_directories_still_count(tmp_path):
    """Disabling a partner is one line an administrator may have to write at once (a
    compromised source): it never makes the registry invalid. The diffusion report says what
    is not delivered meanwhile."""
    write_registry(tmp_path, {**OIDC_SOURCE, "active": False}, {**DIRECTORY, "active": False},
                   {**SAML_SOURCE, "id": "src-autre"},
                   service(["src-oidc", "src-autre"], ["given_name", "address"]))
    reg = load_registry(tmp_path, DICTIONARY)
    assert providers(reg, reg.services["svc-a"], "address").directories == ("annuaire-ps",)


def test_a_disabled_service_is_checked_too(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, service(["src-oidc"], ["email"], active=False))
    assert "svc-a.yaml: attributes.email: none of this service's sources" in refusal(tmp_path)


def test_an_unknown_source_or_attribute_is_reported_once_for_what_it_is(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, service(["nope"], ["email"]))
    assert refusal(tmp_path) == (f"{tmp_path}/svc-a.yaml: sources[0]: 'nope' is not a declared "
                                 "identity source (known: src-oidc)")
    write_registry(tmp_path, service(["src-oidc"], ["given_name", "shoe_size"]))
    assert "attributes.shoe_size: not in the attribute dictionary" in refusal(tmp_path)
    assert "never released" not in refusal(tmp_path)


def test_the_diffusion_report_may_keep_them_instead_of_refusing(tmp_path):
    write_registry(tmp_path, OIDC_SOURCE, service(["src-oidc"], ["given_name", "email"]))
    reg = load_registry(tmp_path, DICTIONARY, keep_undeliverable=True)
    assert reg.undeliverable == [refusal(tmp_path)]
    # Any other problem still refuses the registry.
    write_registry(tmp_path, {**OIDC_SOURCE, "loa": "extreme"})
    with pytest.raises(ConfigError, match="src-oidc.yaml: loa: Input should be"):
        load_registry(tmp_path, DICTIONARY, keep_undeliverable=True)


def test_the_demo_registry_provides_everything_it_allows():
    reg = load_registry(ROOT / "partenaires" / "demo", DICTIONARY, allow_loopback_http=True)
    assert reg.undeliverable == []
    province = reg.services["demo-province"]
    assert providers(reg, province, "address").directories == ("annuaire-province-sud",)
