"""SAML metadata of an identity source served over https by a private certificate authority.

A real https server on 127.0.0.1 (Python's ``ssl`` and ``http.server``, in a thread) serves
an IdP's metadata with a certificate of a CA generated here, unknown to the system store.
With the source's ``tls_ca_file`` the assembly fetches it; without, the assembly fails
naming the partner file and the field.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from idp.assemble import SAML_BACKEND, assemble
from idp.keys import init_keys, write_key_pair
from idp.schema_errors import ConfigError
from idp.settings import load_settings
from idp.testbed.federation import DICTIONARY, SOURCE_ATTRIBUTES
from tests.backends.saml_source_peer import SamlSourcePeer

SOURCE = "src-ac-privee"


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _certificate(subject: str, issuer: x509.Name, public_key, signer, *, ca: bool,
                 extensions: list[x509.ExtensionType]) -> x509.Certificate:
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=5))
               .not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=0 if ca else None),
                              critical=True))
    for extension in extensions:
        builder = builder.add_extension(extension, critical=False)
    return builder.sign(signer, hashes.SHA256())


def _pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def https_metadata(tmp_path_factory) -> Iterator[tuple[str, Path, str]]:
    """(metadata URL, CA file, IdP entity id) of an https server signed by a private CA."""
    folder = tmp_path_factory.mktemp("tls")
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = _certificate("AC privée de test", _name("AC privée de test"), ca_key.public_key(),
                      ca_key, ca=True, extensions=[])
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate("127.0.0.1", ca.subject, key.public_key(), ca_key, ca=False, extensions=[
        x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
        x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH])])
    (folder / "ca.pem").write_bytes(_pem(ca))
    (folder / "server.pem").write_bytes(_pem(cert) + key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))

    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    base = f"https://127.0.0.1:{server.server_port}"
    write_key_pair(folder / "idp.pem", folder / "idp.crt", "IdP de test")
    peer = SamlSourcePeer(base, folder / "idp.pem", folder / "idp.crt")
    document = peer.metadata_xml().encode("utf-8")

    class Metadata(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            status = 200 if self.path == "/metadata" else 404
            body = document if status == 200 else b"not found"
            self.send_response(status)
            self.send_header("Content-Type", "application/samlmetadata+xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return None

    server.RequestHandlerClass = Metadata
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(folder / "server.pem")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    try:
        yield f"{base}/metadata", folder / "ca.pem", peer.entity_id
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _settings(folder: Path, metadata_url: str, ca_file: Path | None) -> Path:
    """A proxy configured with one SAML source reading its metadata from ``metadata_url``."""
    partners = folder / "partenaires"
    partners.mkdir(parents=True)
    source = {"kind": "source", "id": SOURCE, "display_name": "Source derrière une AC privée",
              "loa": "low", "protocol": "saml2",
              "attributes": {name: {} for name in SOURCE_ATTRIBUTES},
              "saml2": {"entity_id": metadata_url, "metadata_url": metadata_url}}
    if ca_file is not None:
        (partners / "ac.pem").write_bytes(ca_file.read_bytes())
        source["tls_ca_file"] = "ac.pem"
    (partners / f"{SOURCE}.yaml").write_text(yaml.safe_dump(source, allow_unicode=True),
                                             encoding="utf-8")
    init_keys(folder / "data" / "keys")
    settings = folder / "proxy.yaml"
    settings.write_text(yaml.safe_dump({
        "base_url": "https://connect.example.nc", "data_dir": "data",
        "partners_dir": "partenaires", "dictionary": str(DICTIONARY)}), encoding="utf-8")
    return settings


def test_metadata_behind_a_private_ca_is_fetched_with_the_sources_tls_ca_file(
        tmp_path, https_metadata):
    url, ca_file, entity_id = https_metadata

    fed = assemble(load_settings(_settings(tmp_path, url, ca_file)), {})

    [backend] = [b for b in fed.satosa["BACKEND_MODULES"] if b["module"] == SAML_BACKEND]
    assert backend["config"]["tls_ca_file"] == str(tmp_path / "partenaires" / "ac.pem")
    assert f'entityID="{entity_id}"' in backend["config"]["idp_metadata_xml"]


def test_metadata_behind_a_private_ca_without_tls_ca_file_fails_naming_file_field_and_fix(
        tmp_path, https_metadata):
    url, _ca_file, _entity_id = https_metadata

    with pytest.raises(ConfigError) as refused:
        assemble(load_settings(_settings(tmp_path, url, None)), {})

    message = str(refused.value)
    assert message.startswith(f"{tmp_path / 'partenaires' / SOURCE}.yaml: saml2.metadata_url: ")
    assert url in message and "TLS: certificate not trusted" in message
    assert "set tls_ca_file in its partner file" in message
