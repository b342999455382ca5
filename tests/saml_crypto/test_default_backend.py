"""The proxy's own pysaml2 objects, as the frontend and the backends build them: in process
by default, no ``xmlsec1`` run at all (no ``--version``, no ``--list-transforms``); the
binary only when the settings say ``saml: {crypto: xmlsec1}``, and then never asked its
version per operation."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
import saml2.algsupport
import saml2.sigver
from saml2 import BINDING_HTTP_POST
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAMEID_FORMAT_PERSISTENT, NameID

from idp.schema_errors import ConfigError
from idp.settings import load_settings
from plugins.backends.saml2.client import make_client
from plugins.backends.saml2.encryption import decrypt_once
from plugins.backends.saml2.metadata import sp_metadata_xml
from plugins.backends.saml2.response_xml import check_decrypted
from plugins.backends.saml2.sp_config import build_sp_config
from plugins.frontends.saml2.idp_config import build_server
from plugins.frontends.saml2.metadata import idp_metadata_xml
from plugins.saml2.crypto.backend import CryptoBackendInProcess
from plugins.saml2.crypto.binary import CryptoBackendXmlSec1Once

from .parties import BASE, IDP_ENTITY, KeyPair, Parties, key_pair

SOURCE_ACS = f"{BASE}/src/saml2/acs"
SOURCE_SP = f"{BASE}/src/saml2/metadata"


class Runs:
    """Every child process started, by argv."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, forbid: bool) -> None:
        self.argv: list[list[str]] = []
        self.forbid = forbid
        real = subprocess.Popen

        def popen(args, *a, **k):
            self.argv.append([str(x) for x in args])
            if self.forbid:
                raise AssertionError(f"child process started: {args}")
            return real(args, *a, **k)

        for module in (saml2.sigver, saml2.algsupport, subprocess):
            monkeypatch.setattr(module, "Popen", popen)


def frontend_conf(parties: Parties, sp_metadata: str, crypto: str | None) -> dict:
    conf = {"base_url": BASE, "entity_id": IDP_ENTITY, "key_path": str(parties.idp_keys.key),
            "cert_path": str(parties.idp_keys.cert), "lifetimes": {"assertion": 300},
            "sps": {SOURCE_SP: {"service_id": "src", "metadata_xml": sp_metadata,
                                "name_id_formats": ["persistent"],
                                "encrypt_assertions": True}}}
    if crypto:
        conf["crypto"] = crypto
    return conf


def backend_conf(parties: Parties, enc: KeyPair, idp_metadata: str | None,
                 crypto: str | None) -> dict:
    conf = {"source_id": "src", "idp_entity_id": IDP_ENTITY, "sp_entity_id": SOURCE_SP,
            "acs_url": SOURCE_ACS, "key_path": str(parties.sp_keys.key),
            "cert_path": str(parties.sp_keys.cert), "encryption_key_path": str(enc.key),
            "encryption_cert_path": str(enc.cert), "signature": "assertion",
            "idp_metadata_xml": idp_metadata or parties.idp_metadata}
    if crypto:
        conf["crypto"] = crypto
    return conf


def login(parties: Parties, folder: Path, crypto: str | None, runs: Runs) -> None:
    """Our backend's SP and our frontend's IdP, each as the proxy builds it, and one answer
    between them: assertion signed, encrypted, Response signed; decrypted, both verified."""
    # The backend's SP metadata, as published (and as our IdP registers it here).
    enc = key_pair(folder, "source-enc")
    sp_conf = build_sp_config(backend_conf(parties, enc, None, crypto))
    sp_metadata = sp_metadata_xml(sp_conf)
    server = build_server(frontend_conf(parties, sp_metadata, crypto), "saml2", {})
    idp_metadata = idp_metadata_xml(server.config)
    client = make_client(build_sp_config(backend_conf(parties, enc, idp_metadata, crypto)))
    runs.argv.clear()  # what a login costs, start-up aside

    xml = server.create_authn_response(
        identity={}, in_response_to="id-req", destination=SOURCE_ACS, sp_entity_id=SOURCE_SP,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="pair-0042"),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED}, sign_response=True,
        sign_assertion=True, encrypt_assertion=True, encrypt_assertion_self_contained=True)
    # As the backend does: one layer opened and checked first, then pysaml2 decrypts and
    # verifies the answer as received.
    assert check_decrypted(decrypt_once(client, str(xml).encode("utf-8")))
    response = client.parse_authn_request_response(
        base64.b64encode(str(xml).encode("utf-8")).decode("ascii"), BINDING_HTTP_POST,
        outstanding={"id-req": "/"})
    assert response.assertion.subject.name_id.text == "pair-0042"
    return server, client


def test_in_process_by_default_and_no_child_process(parties: Parties, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs(monkeypatch, forbid=True)
    server, client = login(parties, tmp_path, None, runs)
    assert isinstance(server.sec.crypto, CryptoBackendInProcess)
    assert isinstance(client.sec.crypto, CryptoBackendInProcess)
    assert runs.argv == []


def test_xmlsec1_fallback_never_asks_its_version_per_operation(
        parties: Parties, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runs = Runs(monkeypatch, forbid=False)
    server, client = login(parties, tmp_path, "xmlsec1", runs)
    assert isinstance(server.sec.crypto, CryptoBackendXmlSec1Once)
    assert isinstance(client.sec.crypto, CryptoBackendXmlSec1Once)
    commands = [argv[1] for argv in runs.argv if argv[0].endswith("xmlsec1")]
    # 2 signatures, 1 encryption, 2 decryptions (ours, then pysaml2's), 2 verifications;
    # no --version.
    assert sorted(commands) == ["--decrypt", "--decrypt", "--encrypt", "--sign", "--sign",
                                "--verify", "--verify"]


def test_setting(tmp_path: Path) -> None:
    path = tmp_path / "proxy.yaml"
    path.write_text("base_url: https://connect.test\n", encoding="utf-8")
    assert load_settings(path).saml.crypto == "in_process"
    path.write_text("base_url: https://connect.test\nsaml: {crypto: xmlsec1}\n",
                    encoding="utf-8")
    assert load_settings(path).saml.crypto == "xmlsec1"
    path.write_text("base_url: https://connect.test\nsaml: {crypto: pyxmlsecurity}\n",
                    encoding="utf-8")
    with pytest.raises(ConfigError, match=r"saml\.crypto: 'pyxmlsecurity' is not a crypto "
                                          r"backend: write in_process .* or xmlsec1"):
        load_settings(path)
