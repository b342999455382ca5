"""The parties of the corpus: NC Connect's IdP (our frontend's configuration), a pysaml2 SP
with its own keys, an attacker with keys of its own; and the two crypto backends, each in a
thin recording subclass that counts what reached it.

Everything is built from the proxy's own code (``idp_config_dict``, ``install``), so the
security contexts are the ones the proxy uses, only their backend is chosen per test.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import IdPConfig, SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.server import Server
from saml2.sigver import get_xmlsec_binary
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp.keys import write_key_pair
from plugins.frontends.saml2.idp_config import idp_config_dict
from plugins.frontends.saml2.metadata import idp_metadata_xml
from plugins.saml2.crypto.backend import CryptoBackendInProcess
from plugins.saml2.crypto.binary import CryptoBackendXmlSec1Once
from plugins.saml2.crypto.context import install

BASE = "https://ncconnect.test"
IDP_ENTITY = f"{BASE}/saml2/metadata"
SP_ENTITY = "https://sp.test/metadata"
SP_ACS = "https://sp.test/acs"
SP_SLO = "https://sp.test/slo"
BACKENDS = ("xmlsec1", "in_process")


class _Recording:
    """Counts and remembers every call that reached the backend (the real one runs)."""

    def _record_init(self) -> None:
        self.verified: list[tuple[str, str | None, bool]] = []
        self.decrypted = 0
        self.encrypted = 0
        self.signed = 0

    def validate_signature(self, signedtext, cert_file, cert_type, node_name, node_id):
        try:
            result = super().validate_signature(signedtext, cert_file, cert_type, node_name,
                                                node_id)
        except Exception:
            self.verified.append((node_name, node_id, False))
            raise
        self.verified.append((node_name, node_id, bool(result)))
        return result

    def sign_statement(self, *args, **kwargs):
        self.signed += 1
        return super().sign_statement(*args, **kwargs)

    def decrypt(self, *args, **kwargs):
        self.decrypted += 1
        return super().decrypt(*args, **kwargs)

    def encrypt_assertion(self, *args, **kwargs):
        self.encrypted += 1
        return super().encrypt_assertion(*args, **kwargs)


class RecordingInProcess(_Recording, CryptoBackendInProcess):
    def __init__(self) -> None:
        super().__init__()
        self._record_init()


class RecordingXmlSec1(_Recording, CryptoBackendXmlSec1Once):
    def __init__(self) -> None:
        super().__init__(get_xmlsec_binary())
        self._record_init()


def recording(backend: str) -> Any:
    return RecordingInProcess() if backend == "in_process" else RecordingXmlSec1()


@dataclass
class KeyPair:
    key: Path
    cert: Path

    @property
    def cert_pem(self) -> str:
        return self.cert.read_text(encoding="ascii")


def key_pair(folder: Path, name: str) -> KeyPair:
    pair = KeyPair(folder / f"{name}.key", folder / f"{name}.crt")
    write_key_pair(pair.key, pair.cert, name)
    return pair


def sp_config(keys: KeyPair, enc: KeyPair, idp_metadata: str | None) -> dict[str, Any]:
    cnf: dict[str, Any] = {
        "entityid": SP_ENTITY,
        "key_file": str(keys.key),
        "cert_file": str(keys.cert),
        "encryption_keypairs": [{"key_file": str(enc.key), "cert_file": str(enc.cert)}],
        "only_use_keys_in_metadata": True,
        "allow_unknown_attributes": True,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(SP_ACS, BINDING_HTTP_POST)],
                          "single_logout_service": [(SP_SLO, BINDING_HTTP_POST)]},
            "authn_requests_signed": True,
            # Either signature suffices (a source registered saml2.signature: response).
            "want_assertions_signed": False,
            "want_response_signed": False,
            "want_assertions_or_response_signed": True,
            "allow_unsolicited": True,
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
        }},
    }
    if idp_metadata is not None:
        cnf["metadata"] = {"inline": [idp_metadata]}
    return cnf


def idp_conf(keys: KeyPair, sp_metadata: str) -> dict[str, Any]:
    """Our frontend's plugin configuration, reduced to what ``idp_config_dict`` reads."""
    return {"base_url": BASE, "entity_id": IDP_ENTITY, "key_path": str(keys.key),
            "cert_path": str(keys.cert), "lifetimes": {"assertion": 300},
            "sps": {SP_ENTITY: {"service_id": "sp", "metadata_xml": sp_metadata,
                                "name_id_formats": ["persistent"]}}}


@dataclass
class Parties:
    folder: Path
    idp_keys: KeyPair
    sp_keys: KeyPair
    sp_enc: KeyPair
    attacker: KeyPair
    sp_metadata: str
    idp_metadata: str
    _cache: dict = field(default_factory=dict)

    def idp(self, backend: str, keys: KeyPair | None = None) -> Server:
        """Our IdP (the frontend's pysaml2 configuration) with ``backend``; ``keys``: an
        impostor using our configuration with its own keys."""
        keys = keys or self.idp_keys
        conf = IdPConfig().load(idp_config_dict(idp_conf(keys, self.sp_metadata), "saml2"))
        server = install(Server(config=conf), backend)  # type: ignore[arg-type]
        server.sec.crypto = recording(backend)
        return server

    def sp(self, backend: str, keys: KeyPair | None = None) -> Saml2Client:
        """The pysaml2 SP (its own keys), trusting our IdP's metadata."""
        conf = SPConfig().load(sp_config(keys or self.sp_keys, self.sp_enc, self.idp_metadata))
        client = install(Saml2Client(config=conf), backend)  # type: ignore[arg-type]
        client.sec.crypto = recording(backend)
        return client


def make_parties(folder: Path) -> Parties:
    idp_keys = key_pair(folder, "idp")
    sp_keys = key_pair(folder, "sp")
    sp_enc = key_pair(folder, "sp-enc")
    attacker = key_pair(folder, "attacker")
    sp_metadata = str(entity_descriptor(SPConfig().load(sp_config(sp_keys, sp_enc, None))))
    conf = IdPConfig().load(idp_config_dict(idp_conf(idp_keys, sp_metadata), "saml2"))
    return Parties(folder, idp_keys, sp_keys, sp_enc, attacker, sp_metadata,
                   idp_metadata_xml(conf))
