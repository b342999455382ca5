"""Encrypted assertions (``encrypt_assertions: true``): the SP's own pysaml2 decrypts them with
the key its metadata publishes; on the wire there is only an EncryptedAssertion, AES-256-GCM
with an RSA-OAEP key transport, holding a signed assertion, inside a signed Response."""

from __future__ import annotations

import base64
import copy
import shutil

import pytest
import yaml
from defusedxml import ElementTree

from idp.assemble import assemble
from idp.demo.citizens import CITIZENS
from idp.schema_errors import ConfigError
from idp.settings import load_settings
from idp.testbed.browser import Browser
from plugins.frontends.saml2.frontend import SAML2Frontend
from plugins.frontends.saml2.idp_config import SPMetadataError
from tests.logout.steps import sign_in_to

from .conftest import BASE, NS, PEER_ATTRIBUTES, SPS, autopost_form, response_xml

XENC = {"xenc": "http://www.w3.org/2001/04/xmlenc#", **NS}
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
CITIZEN = CITIZENS[2]
GIVEN_NAME, FAMILY_NAME = "urn:oid:2.5.4.42", "urn:oid:2.5.4.4"


@pytest.fixture(scope="module")
def answered(federation):
    """(request id, posted form) of one login at the SP that gets encrypted assertions."""
    reqid, resp = federation.login("encrypted")
    form = autopost_form(resp)
    assert form is not None
    return reqid, form


def test_the_sp_decrypts_the_assertion_and_gets_its_attributes(federation, answered):
    reqid, form = answered

    parsed = federation.parse_response("encrypted", form, reqid)

    assert parsed.ava == {"givenName": PEER_ATTRIBUTES["given_name"],
                          "sn": PEER_ATTRIBUTES["family_name"]}


def test_the_wire_carries_only_an_encrypted_assertion_with_the_pinned_algorithms(answered):
    _reqid, form = answered
    xml = response_xml(form)
    root = ElementTree.fromstring(xml)

    assert root.find(".//saml:Assertion", NS) is None
    assert PEER_ATTRIBUTES["family_name"][0] not in xml
    [data] = root.findall("saml:EncryptedAssertion/xenc:EncryptedData", XENC)
    assert data.find("xenc:EncryptionMethod", XENC).get("Algorithm") == AES256_GCM
    [key] = data.findall("ds:KeyInfo/xenc:EncryptedKey", XENC)
    assert key.find("xenc:EncryptionMethod", XENC).get("Algorithm") == RSA_OAEP_MGF1P


def test_the_assertion_is_signed_inside_and_the_response_over_the_encryption(federation,
                                                                            answered):
    _reqid, form = answered
    root = ElementTree.fromstring(response_xml(form))
    signed = root.find("ds:Signature/ds:SignedInfo/ds:Reference", NS).get("URI")
    client = federation.clients["encrypted"]

    inner = ElementTree.fromstring(client.sec.decrypt_keys(
        response_xml(form), client.config.encryption_keypairs[0]["key_file"]))

    assert signed == f"#{root.get('ID')}"
    [assertion] = inner.findall("saml:EncryptedAssertion/saml:Assertion", NS)
    reference = assertion.find("ds:Signature/ds:SignedInfo/ds:Reference", NS)
    assert reference.get("URI") == f"#{assertion.get('ID')}"


def test_other_sps_still_get_their_assertion_in_clear(federation):
    _reqid, resp = federation.login("a")

    root = ElementTree.fromstring(response_xml(autopost_form(resp)))

    assert root.find("saml:Assertion", NS) is not None
    assert root.find("saml:EncryptedAssertion", NS) is None


def test_encryption_for_an_sp_whose_metadata_has_no_encryption_key_is_refused_at_start(
        federation):
    conf = copy.deepcopy(federation.frontend_conf)
    plain = conf["sps"][SPS["a"].entity_id]
    conf["sps"] = {SPS["a"].entity_id: {**plain, "encrypt_assertions": True}}

    with pytest.raises(SPMetadataError, match=r"saml2\.encrypt_assertions: the SP's metadata "
                                              r"has no encryption key"):
        SAML2Frontend(lambda *_: None, {"attributes": {}}, conf, BASE, "saml2")


def test_the_demo_sp_decrypts_the_assertion_and_shows_what_it_received(peers):
    browser = Browser()

    received = sign_in_to(peers, browser, CITIZEN, ["sp-chiffre"])["sp-chiffre"]

    assert received == {"nameid": received["nameid"],
                        GIVEN_NAME: CITIZEN.claims["given_name"],
                        FAMILY_NAME: CITIZEN.claims["family_name"]}
    [(_url, fields)] = [p for p in browser.posts if p[0] == f"{peers.url('sp-chiffre')}/acs"]
    root = ElementTree.fromstring(base64.b64decode(fields["SAMLResponse"]))
    assert root.find(".//saml:Assertion", NS) is None
    assert root.find("saml:EncryptedAssertion", NS) is not None


def test_encrypt_assertions_for_an_sp_without_encryption_key_stops_the_assembly(peers,
                                                                                tmp_path):
    folder = tmp_path / "copie"
    shutil.copytree(peers.folder, folder, ignore=shutil.ignore_patterns("*.db*", "*.log"))
    partner = folder / "partenaires" / "sp-transient.yaml"
    data = yaml.safe_load(partner.read_text(encoding="utf-8"))
    data["saml2"]["encrypt_assertions"] = True
    partner.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    with pytest.raises(ConfigError) as refused:
        assemble(load_settings(folder / "proxy.yaml"), peers.env)

    assert str(refused.value) == (
        f"{partner}: saml2.encrypt_assertions: the SP's metadata has no encryption key: add "
        "one to its metadata or set encrypt_assertions: false")
