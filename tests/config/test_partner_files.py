"""Partner files: a broken file is refused with a message naming the file, the field and the fix."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from idp.dictionary import load_dictionary
from idp.keys import write_key_pair
from idp.partners import load_registry
from idp.schema_errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
DICTIONARY = load_dictionary(ROOT / "attributs" / "dictionnaire.yaml")

SOURCE = {"kind": "source", "id": "src-a", "display_name": "Source A", "protocol": "oidc",
          "loa": "substantial",
          "oidc": {"issuer": "https://op.example.nc", "client_id": "ncc",
                   "client_secret_env": "SRC_A_SECRET"},
          "attributes": {"given_name": {}, "family_name": {},
                         "birthdate": {"from": "date_naissance", "date_format": "%d/%m/%Y"},
                         "gender": {"values": {"1": "male", "2": "female"}}}}
SERVICE = {"kind": "service", "id": "svc-a", "name": "Service A", "organisation": "Org",
           "contact": "dpo@example.nc", "protocol": "oidc",
           "purpose": "Instruire votre demande de bourse.", "legal_basis": "public_task",
           "oidc": {"client_id": "svc-a", "client_secret_sha256": "a" * 64,
                    "redirect_uris": ["https://svc.example.nc/cb"]},
           "sources": ["src-a"],
           "attributes": {"given_name": {"justification": "Identifier le demandeur."}}}
JWK = {"kty": "RSA", "n": "sXch", "e": "AQAB", "kid": "k1"}
SAML_SERVICE = {**{k: v for k, v in SERVICE.items() if k != "oidc"}, "protocol": "saml2",
                "saml2": {"entity_id": "https://sp.example.nc/metadata",
                          "metadata_url": "https://sp.example.nc/metadata"}}
SAML_SOURCE = {**{k: v for k, v in SOURCE.items() if k != "oidc"}, "protocol": "saml2",
               "saml2": {"entity_id": "https://idp.example.nc/metadata",
                         "metadata_url": "https://idp.example.nc/metadata"}}
#: Files next to the partner files that some broken files point to (``tls_ca_file``).
SIDE_FILES = {"ac/texte.pem": "Autorité de certification de la DSI\n",
              "ac/abimee.pem": "-----BEGIN CERTIFICATE-----\nMIIBabime\n"
                               "-----END CERTIFICATE-----\n"}


def write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def with_(base: dict, path: str, value) -> dict:
    """A deep copy of ``base`` with ``a.b.c`` set (or removed when value is ...)."""
    out = copy.deepcopy(base)
    *parents, leaf = path.split(".")
    node = out
    for p in parents:
        node = node[p]
    if value is ...:
        del node[leaf]
    else:
        node[leaf] = value
    return out


def registry(folder: Path, allow_loopback_http: bool = False):
    return load_registry(folder, DICTIONARY, allow_loopback_http)


def write_side_files(folder: Path) -> None:
    for name, text in SIDE_FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")


def message_in(folder: Path, expected: str) -> str:
    """``expected`` with ``{dir}`` standing for the partner folder (paths the registry resolves)."""
    return expected.replace("{dir}", str(folder.resolve()))


BROKEN_SERVICES = [
    ("missing name", with_(SERVICE, "name", ...), "svc.yaml: name: is required: add it"),
    ("unknown field", with_(SERVICE, "colour", "blue"),
     "svc.yaml: colour: is not a known field: remove it or fix its spelling"),
    ("http redirect uri", with_(SERVICE, "oidc.redirect_uris", ["https://a.nc/cb", "http://a.nc/cb"]),
     "svc.yaml: oidc.redirect_uris[1]: 'http://a.nc/cb' must use https (or loopback in demo mode)"),
    ("wildcard redirect uri", with_(SERVICE, "oidc.redirect_uris", ["https://a.nc/*"]),
     "svc.yaml: oidc.redirect_uris: 'https://a.nc/*': a redirect URI is matched exactly"),
    ("http post-logout uri", with_(SERVICE, "oidc.post_logout_redirect_uris", ["http://a.nc/"]),
     "svc.yaml: oidc.post_logout_redirect_uris[0]: 'http://a.nc/' must use https"),
    ("secret not hashed", with_(SERVICE, "oidc.client_secret_sha256", "hunter2"),
     "svc.yaml: oidc.client_secret_sha256: must be 64 lowercase hex digits"),
    ("public client with secret", with_(SERVICE, "oidc.token_endpoint_auth_method", "none"),
     "a public client (token_endpoint_auth_method: none) has no secret"),
    ("private_key_jwt with a secret",
     with_(with_(SERVICE, "oidc.token_endpoint_auth_method", "private_key_jwt"), "oidc.jwks",
           {"keys": [JWK]}),
     "svc.yaml: oidc: private_key_jwt clients authenticate with their key: remove "
     "client_secret_sha256"),
    ("jwks holding a private key",
     with_(with_(with_(SERVICE, "oidc.token_endpoint_auth_method", "private_key_jwt"),
                 "oidc.client_secret_sha256", ...), "oidc.jwks", {"keys": [{**JWK, "d": "x"}]}),
     "svc.yaml: oidc.jwks: keys[0] holds private key members (d): publish the public key only"),
    ("unknown source", with_(SERVICE, "sources", ["nope"]),
     "svc.yaml: sources[0]: 'nope' is not a declared identity source (known: src-a)"),
    ("source below the service's level", with_(SERVICE, "loa_min", "high"),
     "svc.yaml: sources[0]: 'src-a' reaches level substantial, below this service's loa_min "
     "high: remove it or lower loa_min"),
    ("bad protocol", with_(SERVICE, "protocol", "cas"), "svc.yaml: protocol: Input should be"),
    ("section missing", with_(SERVICE, "oidc", ...), "protocol is oidc: add a 'oidc:' section"),
    ("bad id", with_(SERVICE, "id", "Svc A"), "svc.yaml: id: String should match pattern"),
    ("bad kind", with_(SERVICE, "kind", "client"),
     "svc.yaml: kind: must be 'service', 'source' or 'directory'"),
    ("not a mapping", "- a\n- b\n", "svc.yaml: (document): must be a mapping"),
    ("not yaml", "kind: [unclosed\n", "svc.yaml: not valid YAML"),
    ("bad contact", with_(SERVICE, "contact", "nobody"), "svc.yaml: contact: String should match"),
    ("no attributes", with_(SERVICE, "attributes", {}),
     "svc.yaml: attributes: Dictionary should have at least 1 item"),
    ("attribute not in the dictionary", with_(SERVICE, "attributes.shoe_size",
                                              {"justification": "Fournir des chaussures."}),
     "svc.yaml: attributes.shoe_size: not in the attribute dictionary (known: family_name, "),
    ("attribute without justification", with_(SERVICE, "attributes.given_name", {}),
     "svc.yaml: attributes.given_name.justification: is required: add it"),
    ("purpose missing", with_(SERVICE, "purpose", ...), "svc.yaml: purpose: is required: add it"),
    ("unknown legal basis", with_(SERVICE, "legal_basis", "because"),
     "svc.yaml: legal_basis: Input should be 'consent', 'contract', 'legal_obligation'"),
    ("consent remembered too long", with_(SERVICE, "consent", {"remember_days": 1000}),
     "svc.yaml: consent.remember_days: Input should be less than or equal to 395"),
    ("bad sector", with_(SERVICE, "sector", "Santé"), "svc.yaml: sector: String should match"),
    ("logo as a URL", with_(SERVICE, "logo", "https://cdn.example.nc/logo.png"),
     "svc.yaml: logo: 'https://cdn.example.nc/logo.png': give a file next to the partner file"),
    ("logo file missing", with_(SERVICE, "logo", "logos/absent.svg"),
     "svc.yaml: logo: "),
    ("logo of another type", with_(SERVICE, "logo", "logo.gif"),
     "svc.yaml: logo: 'logo.gif' must be a .png, .svg, .jpg file"),
    ("public client without PKCE",
     with_(with_(with_(SERVICE, "oidc.token_endpoint_auth_method", "none"),
                 "oidc.client_secret_sha256", ...), "oidc.require_pkce", False),
     "svc.yaml: oidc: a public client must use PKCE: set require_pkce: true"),
    ("NameID format twice", with_(SAML_SERVICE, "saml2.name_id_formats",
                                  ["persistent", "transient", "persistent"]),
     "svc.yaml: saml2.name_id_formats: lists a format twice: give each format once, the "
     "default first"),
    ("unknown NameID format", with_(SAML_SERVICE, "saml2.name_id_formats",
                                    ["persistent", "kerberos"]),
     "svc.yaml: saml2.name_id_formats[1]: Input should be 'persistent', 'transient' or 'email'"),
    ("no NameID format", with_(SAML_SERVICE, "saml2.name_id_formats", []),
     "svc.yaml: saml2.name_id_formats: List should have at least 1 item"),
    ("email NameID for a service without email",
     with_(SAML_SERVICE, "saml2.name_id_formats", ["persistent", "email"]),
     "svc.yaml: saml2.name_id_formats: 'email' gives the SP the citizen's address, which this "
     "service may not receive: add email to attributes or remove the format"),
    ("logout requests neither signed nor confirmed",
     with_(SAML_SERVICE, "saml2.logout_requests", "maybe"),
     "svc.yaml: saml2.logout_requests: Input should be 'signed' or 'unsigned_confirm'"),
]

BROKEN_SOURCES = [
    ("source without level", with_(SOURCE, "loa", ...), "src.yaml: loa: is required: add it"),
    ("source with unknown level", with_(SOURCE, "loa", "medium"),
     "src.yaml: loa: Input should be 'low', 'substantial' or 'high'"),
    ("date format on a non-date", with_(SOURCE, "attributes.given_name", {"date_format": "%d%m%Y"}),
     "src.yaml: attributes.given_name.date_format: given_name is not a date: remove date_format"),
    ("incomplete date format", with_(SOURCE, "attributes.birthdate", {"date_format": "%d/%m"}),
     "src.yaml: attributes.birthdate.date_format: '%d/%m' must contain %Y, %m and %d"),
    ("value mapped outside the format", with_(SOURCE, "attributes.gender",
                                              {"values": {"1": "homme"}}),
     "src.yaml: attributes.gender.values.1: 'homme' is not a valid gender value"),
    ("source attribute not in the dictionary", with_(SOURCE, "attributes.iban", {}),
     "src.yaml: attributes.iban: not in the attribute dictionary"),
    ("source provides nothing", with_(SOURCE, "attributes", {}),
     "src.yaml: attributes: Dictionary should have at least 1 item"),
    ("mapped level above the ceiling",
     with_(SOURCE, "loa_mapping", {"values": {"loa-2": "substantial", "loa-3": "high"}}),
     "src.yaml: loa_mapping.values['loa-3']: maps to high, above this source's loa "
     "substantial (its ceiling): lower the mapping or raise loa"),
    ("mapped to no eIDAS level", with_(SOURCE, "loa_mapping", {"values": {"loa-2": "medium"}}),
     "src.yaml: loa_mapping.values.loa-2: Input should be 'low', 'substantial' or 'high'"),
    ("unstated level above the ceiling", with_(SOURCE, "loa_mapping", {"unstated": "high"}),
     "src.yaml: loa_mapping.unstated: high is above this source's loa substantial (its "
     "ceiling): lower it or raise loa"),
    ("transient NameIDs without the whole pivot",
     with_(SAML_SOURCE, "saml2.name_id", "transient"),
     "src.yaml: saml2.name_id: a source with transient NameIDs is known by the identity "
     "pivot, and this one does not provide birthplace, birthcountry: declare them in "
     "attributes (or use persistent NameIDs)"),
    ("unknown SAML signature setting", with_(SAML_SOURCE, "saml2.signature", "both"),
     "src.yaml: saml2.signature: Input should be 'assertion' or 'response'"),
    ("CA file missing", with_(SOURCE, "tls_ca_file", "ac/absente.pem"),
     "src.yaml: tls_ca_file: {dir}/ac/absente.pem not found: add the PEM file of the "
     "certificate authorities or fix the path"),
    ("CA file not PEM", with_(SOURCE, "tls_ca_file", "ac/texte.pem"),
     "src.yaml: tls_ca_file: {dir}/ac/texte.pem holds no PEM certificate: give the "
     "certificate authorities' certificates in PEM"),
    ("CA file damaged", with_(SOURCE, "tls_ca_file", "ac/abimee.pem"),
     "src.yaml: tls_ca_file: {dir}/ac/abimee.pem is not a readable PEM certificate bundle: "
     "export the certificate authorities again, in PEM"),
]


@pytest.mark.parametrize(("case", "data", "expected"), BROKEN_SERVICES,
                         ids=[b[0] for b in BROKEN_SERVICES])
def test_broken_service_file_is_refused_with_a_precise_message(tmp_path, case, data, expected):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", data)
    with pytest.raises(ConfigError) as err:
        registry(tmp_path)
    assert message_in(tmp_path, expected) in str(err.value)
    assert str(tmp_path / "svc.yaml") in str(err.value)


@pytest.mark.parametrize(("case", "data", "expected"), BROKEN_SOURCES,
                         ids=[b[0] for b in BROKEN_SOURCES])
def test_broken_source_file_is_refused_with_a_precise_message(tmp_path, case, data, expected):
    write_side_files(tmp_path)
    write(tmp_path, "src.yaml", data)
    write(tmp_path, "svc.yaml", SERVICE)
    with pytest.raises(ConfigError) as err:
        registry(tmp_path)
    assert message_in(tmp_path, expected) in str(err.value)
    assert str(tmp_path / "src.yaml") in str(err.value)


def test_valid_registry_loads_services_and_sources(tmp_path):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", SERVICE)
    reg = registry(tmp_path)
    assert list(reg.services) == ["svc-a"] and list(reg.sources) == ["src-a"]


def test_a_source_with_its_own_certificate_authority_is_valid(tmp_path):
    write_key_pair(tmp_path / "ac" / "ac.key", tmp_path / "ac" / "ac-privee.pem", "AC privee")
    write(tmp_path, "src.yaml", with_(SOURCE, "tls_ca_file", "ac/ac-privee.pem"))
    write(tmp_path, "svc.yaml", SERVICE)
    assert registry(tmp_path).sources["src-a"].tls_ca_file == "ac/ac-privee.pem"


def test_a_private_key_jwt_client_with_public_keys_is_valid(tmp_path):
    client = {"client_id": "svc-a", "token_endpoint_auth_method": "private_key_jwt",
              "jwks": {"keys": [JWK]}, "redirect_uris": ["https://svc.example.nc/cb"]}
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", with_(SERVICE, "oidc", client))
    assert registry(tmp_path).services["svc-a"].oidc.jwks == {"keys": [JWK]}


def test_duplicate_client_id_names_both_files(tmp_path):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", SERVICE)
    write(tmp_path, "svc2.yaml", with_(SERVICE, "id", "svc-b"))
    with pytest.raises(ConfigError, match=r"svc2\.yaml: oidc\.client_id: 'svc-a' is already used"):
        registry(tmp_path)


def test_loopback_http_is_accepted_only_in_demo_mode(tmp_path):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", with_(SERVICE, "oidc.redirect_uris", ["http://127.0.0.1:8443/cb"]))
    with pytest.raises(ConfigError, match="loopback http is allowed only in demo mode"):
        registry(tmp_path)
    assert registry(tmp_path, allow_loopback_http=True).services


def test_all_problems_are_reported_at_once(tmp_path):
    write(tmp_path, "src.yaml", with_(SOURCE, "display_name", ...))
    write(tmp_path, "svc.yaml", with_(SERVICE, "name", ...))
    with pytest.raises(ConfigError) as err:
        registry(tmp_path)
    assert "src.yaml: display_name" in str(err.value) and "svc.yaml: name" in str(err.value)


def test_one_broken_file_refuses_the_whole_registry(tmp_path):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", SERVICE)
    write(tmp_path, "svc2.yaml", with_(with_(SERVICE, "id", "svc-b"), "legal_basis", "x"))
    with pytest.raises(ConfigError) as err:
        registry(tmp_path)
    assert "svc2.yaml: legal_basis" in str(err.value)
    assert "svc.yaml:" not in str(err.value).replace("svc2.yaml", "")


def test_a_source_gives_the_pivot_only_when_it_provides_all_of_it(tmp_path):
    pivot = dict.fromkeys(["family_name", "given_name", "birthdate", "gender", "birthplace",
                           "birthcountry"], {})
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "src2.yaml", {**with_(SOURCE, "id", "src-b"), "attributes": pivot})
    write(tmp_path, "svc.yaml", SERVICE)
    reg = registry(tmp_path)
    assert reg.gives_pivot("src-b") is True
    assert reg.gives_pivot("src-a") is False


def test_demo_partner_files_are_valid():
    reg = registry(ROOT / "partenaires" / "demo", allow_loopback_http=True)
    assert set(reg.sources) == {"demo-oidc", "demo-saml", "compte-nc"}
    assert set(reg.directories) == {"annuaire-province-sud"}
    assert set(reg.services) == {"demo-mairie", "demo-province"}
    assert all(reg.gives_pivot(s) for s in reg.sources)
