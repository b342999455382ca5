"""Encrypted assertions with both backends: AES-256-GCM + RSA-OAEP as the frontend sends them,
decrypted by either backend whichever encrypted; any other algorithm, a tampered ciphertext
or another key refused, by the in-process backend on its own and by the proxy's check
before the ``xmlsec1`` binary (as today)."""

from __future__ import annotations

import base64

import pytest
from lxml import etree
from saml2 import BINDING_HTTP_POST
from saml2.config import IdPConfig
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.samlp import response_from_string
from saml2.sigver import (
    DecryptError,
    EncryptError,
    get_pem_wrapped_unwrapped,
    make_temp,
    pre_encryption_part,
)

from plugins.backends.saml2.encryption import check_encrypted_assertion
from plugins.backends.saml2.errors import InvalidSamlResponse
from plugins.frontends.saml2.encryption import BLOCK_CIPHER, KEY_TRANSPORT
from plugins.frontends.saml2.idp_config import ProxyIdP, idp_config_dict
from plugins.saml2.crypto.context import install

from .corpus import REQUEST_ID, SAML, tree
from .parties import BACKENDS, SP_ACS, SP_ENTITY, Parties, idp_conf, recording

XENC = "http://www.w3.org/2001/04/xmlenc#"
AES128_CBC = "http://www.w3.org/2001/04/xmlenc#aes128-cbc"
RSA_1_5 = "http://www.w3.org/2001/04/xmlenc#rsa-1_5"


def proxy_idp(parties: Parties, backend: str) -> ProxyIdP:
    conf = IdPConfig().load(idp_config_dict(idp_conf(parties.idp_keys, parties.sp_metadata),
                                            "saml2"))
    server = install(ProxyIdP(config=conf), backend)  # type: ignore[arg-type]
    server.sec.crypto = recording(backend)
    return server


def encrypted_response(parties: Parties, backend: str) -> tuple[str, ProxyIdP]:
    server = proxy_idp(parties, backend)
    xml = server.create_authn_response(
        identity={}, in_response_to=REQUEST_ID, destination=SP_ACS, sp_entity_id=SP_ENTITY,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="pair-0042"),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED}, sign_response=True,
        sign_assertion=True, encrypt_assertion=True, encrypt_assertion_self_contained=True)
    return str(xml), server


def methods(xml: str) -> list[str]:
    return [m.get("Algorithm") for m in tree(xml).iter(f"{{{XENC}}}EncryptionMethod")]


@pytest.mark.parametrize("decrypter", BACKENDS)
@pytest.mark.parametrize("encrypter", BACKENDS)
def test_round_trip(parties: Parties, encrypter: str, decrypter: str) -> None:
    xml, server = encrypted_response(parties, encrypter)
    assert server.sec.crypto.encrypted == 1
    assert methods(xml) == [BLOCK_CIPHER, KEY_TRANSPORT]
    assert next(tree(xml).iter(f"{{{SAML}}}Assertion"), None) is None
    check_encrypted_assertion(tree(xml).find(f"{{{SAML}}}EncryptedAssertion"))

    client = parties.sp(decrypter)
    response = client.parse_authn_request_response(
        base64.b64encode(xml.encode("utf-8")).decode("ascii"), BINDING_HTTP_POST,
        outstanding={REQUEST_ID: "/"})
    assert response is not None
    assert response.assertion.subject.name_id.text == "pair-0042"
    assert client.sec.crypto.decrypted >= 1
    # The Response's signature and the decrypted assertion's, both by the backend.
    assert len([v for v in client.sec.crypto.verified if v[2]]) == 2


def _encrypt_with(parties: Parties, backend: str, block: str, transport: str,
                  session_key: str) -> str:
    """A signed Response whose assertion ``backend`` encrypts with the algorithms given."""
    server = proxy_idp(parties, backend)
    response = server.create_authn_response(
        identity={}, in_response_to=REQUEST_ID, destination=SP_ACS, sp_entity_id=SP_ENTITY,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="pair-0042"),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED}, sign_response=False,
        sign_assertion=True)
    wrapped, unwrapped = get_pem_wrapped_unwrapped(parties.sp_enc.cert_pem)
    cert = make_temp(wrapped.encode("ascii"), decode=False)
    template = pre_encryption_part(msg_enc=block, key_enc=transport, encrypt_cert=unwrapped)
    # The backend moves the assertion into an EncryptedAssertion, then encrypts it.
    return server.sec.crypto.encrypt_assertion(response_from_string(str(response)), cert.name,
                                               template, session_key)


@pytest.mark.parametrize(("block", "transport", "session_key"), [
    (AES128_CBC, KEY_TRANSPORT, "aes-128"),
    (BLOCK_CIPHER, RSA_1_5, "aes-256"),
], ids=["aes128-cbc", "rsa-1_5"])
def test_other_algorithms_refused(parties: Parties, block: str, transport: str,
                                  session_key: str) -> None:
    # The in-process backend does not produce them ...
    with pytest.raises(EncryptError):
        _encrypt_with(parties, "in_process", block, transport, session_key)
    # ... nor decrypts them (made here by the binary, which does):
    xml = _encrypt_with(parties, "xmlsec1", block, transport, session_key)
    assert [block, transport] == methods(xml)
    in_process = recording("in_process")
    with pytest.raises(DecryptError):
        in_process.decrypt(xml, str(parties.sp_enc.key))
    assert in_process.decrypted == 1
    # The binary would decrypt them: the proxy's check before it refuses them, as today.
    binary = recording("xmlsec1")
    assert "pair-0042" in binary.decrypt(xml, str(parties.sp_enc.key))
    with pytest.raises(InvalidSamlResponse):
        check_encrypted_assertion(tree(xml).find(f"{{{SAML}}}EncryptedAssertion"))


def _flip_cipher(xml: str) -> str:
    root = tree(xml)
    data = next(root.iter(f"{{{XENC}}}EncryptedData"))
    value = data.find(f"{{{XENC}}}CipherData/{{{XENC}}}CipherValue")
    raw = bytearray(base64.b64decode("".join(value.text.split())))
    raw[len(raw) // 2] ^= 0x01
    value.text = base64.b64encode(bytes(raw)).decode("ascii")
    return etree.tostring(root, encoding="unicode")


@pytest.mark.parametrize("backend", BACKENDS)
def test_tampered_ciphertext_and_other_key_refused(parties: Parties, backend: str) -> None:
    xml, _server = encrypted_response(parties, "in_process")
    crypto = recording(backend)
    with pytest.raises(DecryptError):
        crypto.decrypt(_flip_cipher(xml), str(parties.sp_enc.key))
    with pytest.raises(DecryptError):
        crypto.decrypt(xml, str(parties.attacker.key))
    assert "pair-0042" in crypto.decrypt(xml, str(parties.sp_enc.key))
    assert crypto.decrypted == 3
