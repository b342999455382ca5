"""Partner files: a broken file is refused with a message naming the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from idp.partners import load_registry
from idp.schema_errors import ConfigError

SOURCE = {"kind": "source", "id": "src-a", "display_name": "Source A", "protocol": "oidc",
          "oidc": {"issuer": "https://op.example.nc", "client_id": "ncc",
                   "client_secret_env": "SRC_A_SECRET"}}
SERVICE = {"kind": "service", "id": "svc-a", "name": "Service A", "organisation": "Org",
           "contact": "dpo@example.nc", "protocol": "oidc",
           "oidc": {"client_id": "svc-a", "client_secret_sha256": "a" * 64,
                    "redirect_uris": ["https://svc.example.nc/cb"]},
           "sources": ["src-a"], "attributes": ["given_name"]}


def write(folder: Path, name: str, data) -> Path:
    path = folder / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def with_(base: dict, path: str, value) -> dict:
    """A deep copy of ``base`` with ``a.b.c`` set (or removed when value is ...)."""
    import copy

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


BROKEN = [
    ("missing name", with_(SERVICE, "name", ...), "svc.yaml: name: is required: add it"),
    ("unknown field", with_(SERVICE, "colour", "blue"),
     "svc.yaml: colour: is not a known field: remove it or fix its spelling"),
    ("http redirect uri", with_(SERVICE, "oidc.redirect_uris", ["https://a.nc/cb", "http://a.nc/cb"]),
     "svc.yaml: oidc.redirect_uris[1]: 'http://a.nc/cb' must use https (or loopback in demo mode)"),
    ("wildcard redirect uri", with_(SERVICE, "oidc.redirect_uris", ["https://a.nc/*"]),
     "svc.yaml: oidc.redirect_uris: 'https://a.nc/*': a redirect URI is matched exactly"),
    ("secret not hashed", with_(SERVICE, "oidc.client_secret_sha256", "hunter2"),
     "svc.yaml: oidc.client_secret_sha256: must be 64 lowercase hex digits"),
    ("public client with secret", with_(SERVICE, "oidc.token_endpoint_auth_method", "none"),
     "a public client (token_endpoint_auth_method: none) has no secret"),
    ("unknown source", with_(SERVICE, "sources", ["nope"]),
     "svc.yaml: sources[0]: 'nope' is not a declared identity source (known: src-a)"),
    ("bad protocol", with_(SERVICE, "protocol", "cas"), "svc.yaml: protocol: Input should be"),
    ("section missing", with_(SERVICE, "oidc", ...), "protocol is oidc: add a 'oidc:' section"),
    ("bad id", with_(SERVICE, "id", "Svc A"), "svc.yaml: id: String should match pattern"),
    ("bad kind", with_(SERVICE, "kind", "client"), "svc.yaml: kind: must be 'service' or 'source'"),
    ("not a mapping", "- a\n- b\n", "svc.yaml: (document): must be a mapping"),
    ("not yaml", "kind: [unclosed\n", "svc.yaml: not valid YAML"),
    ("bad contact", with_(SERVICE, "contact", "nobody"), "svc.yaml: contact: String should match"),
    ("no attributes", with_(SERVICE, "attributes", []), "svc.yaml: attributes: List should have"),
]


@pytest.mark.parametrize(("case", "data", "expected"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_service_file_is_refused_with_a_precise_message(tmp_path, case, data, expected):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", data)
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path)
    assert expected in str(err.value)
    assert str(tmp_path / "svc.yaml") in str(err.value)


def test_valid_registry_loads_services_and_sources(tmp_path):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", SERVICE)
    reg = load_registry(tmp_path)
    assert list(reg.services) == ["svc-a"] and list(reg.sources) == ["src-a"]


def test_duplicate_client_id_names_both_files(tmp_path):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", SERVICE)
    write(tmp_path, "svc2.yaml", with_(SERVICE, "id", "svc-b"))
    with pytest.raises(ConfigError, match=r"svc2\.yaml: oidc\.client_id: 'svc-a' is already used"):
        load_registry(tmp_path)


def test_loopback_http_is_accepted_only_in_demo_mode(tmp_path):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", with_(SERVICE, "oidc.redirect_uris", ["http://127.0.0.1:8443/cb"]))
    with pytest.raises(ConfigError, match="loopback http is allowed only in demo mode"):
        load_registry(tmp_path)
    assert load_registry(tmp_path, allow_loopback_http=True).services


def test_all_problems_are_reported_at_once(tmp_path):
    write(tmp_path, "src.yaml", with_(SOURCE, "display_name", ...))
    write(tmp_path, "svc.yaml", with_(SERVICE, "name", ...))
    with pytest.raises(ConfigError) as err:
        load_registry(tmp_path)
    assert "src.yaml: display_name" in str(err.value) and "svc.yaml: name" in str(err.value)


def test_demo_partner_files_are_valid():
    reg = load_registry(Path(__file__).resolve().parents[2] / "partenaires" / "demo",
                        allow_loopback_http=True)
    assert set(reg.sources) == {"demo-oidc", "demo-saml"}
    assert set(reg.services) == {"demo-mairie", "demo-province"}
