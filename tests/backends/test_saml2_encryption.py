"""Encrypted assertions from a SAML source: AES-GCM with RSA-OAEP decrypted, anything else refused
before decryption, a tampered ciphertext refused with the very page of any invalid response.

The source is the demo IdP encrypting to the key our SP metadata publishes
(``src-chiffre``, :mod:`tests.backends.saml_sources_federation`).
"""

from __future__ import annotations

import base64
import re

import requests
from defusedxml import ElementTree
from saml2.sigver import (
    RSA_OAEP_MGF1P,
    CryptoBackendXmlSec1,
    get_xmlsec_binary,
    pre_encryption_part,
)

from idp.demo.citizens import CITIZENS
from idp.demo.saml_idp_encryption import AES256_CBC, AES256_GCM
from idp.testbed.browser import Browser, attributes_of, autopost_form, error_code_of
from idp.testbed.login import decide, login, on_consent_screen, sign_in, start
from tests.backends.saml_sources_federation import proxy_log

MD = "urn:oasis:names:tc:SAML:2.0:metadata"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
XENC = "http://www.w3.org/2001/04/xmlenc#"
CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"


def _acs(fed) -> str:
    return f"{fed.proxy_url}/src-chiffre/saml2/acs"


def _held_response(fed, browser: Browser) -> tuple[str, dict[str, str]]:
    """Sign in at the source, and stop before the browser posts its answer to our ACS."""
    page = sign_in(browser, start(browser, fed.url("rp-chiffre")), CITIZENS[0],
                   stop_at=_acs(fed))
    form = autopost_form(page)
    assert form is not None and form[0] == _acs(fed), page.url
    return form


def _post(browser: Browser, action: str, fields: dict[str, str]) -> requests.Response:
    return browser.post(action, fields)


def _xml(fields: dict[str, str]) -> str:
    return base64.b64decode(fields["SAMLResponse"]).decode("utf-8")


def _with_xml(fields: dict[str, str], xml: str) -> dict[str, str]:
    return {**fields, "SAMLResponse": base64.b64encode(xml.encode("utf-8")).decode("ascii")}


def _unsigned(xml: str) -> str:
    """Without the Response's own signature (the first in the document: the assertion's is
    inside the encryption). Allowed: the assertion must be signed, the Response may be."""
    stripped, count = re.subn(r"<(\w+):Signature\b.*?</\1:Signature>", "", xml, count=1,
                              flags=re.DOTALL)
    assert count == 1
    return stripped


def _tampered(xml: str) -> str:
    """The assertion's ciphertext (the last CipherValue, after its key's) with one byte
    flipped, in a Response without its own signature: what reaches decryption."""
    values = list(re.finditer(r"<(?:\w+:)?CipherValue>([^<]+)</", xml))
    last = values[-1]
    data = bytearray(base64.b64decode("".join(last.group(1).split())))
    data[len(data) // 2] ^= 0x01
    return _unsigned(xml[:last.start(1)] + base64.b64encode(bytes(data)).decode()
                     + xml[last.end(1):])


def test_an_assertion_encrypted_with_aes256_gcm_is_decrypted_and_the_login_completes(
        saml_sources):
    browser = Browser()

    page = login(browser, saml_sources.url("rp-chiffre"), CITIZENS[0])

    assert attributes_of(page)["given_name"] == CITIZENS[0].claims["given_name"]
    [posted] = [_xml(f) for url, f in browser.posts if url == _acs(saml_sources)]
    assert "EncryptedAssertion" in posted and AES256_GCM in posted
    assert CITIZENS[0].claims["family_name"] not in posted  # nothing readable on the way


def test_an_encrypted_assertion_in_an_unsigned_response_is_accepted(saml_sources):
    browser = Browser()
    action, fields = _held_response(saml_sources, browser)

    page = _post(browser, action, _with_xml(fields, _unsigned(_xml(fields))))

    assert on_consent_screen(page), page.url  # the information screen, as after any login
    assert attributes_of(decide(browser, page))["given_name"] == CITIZENS[0].claims["given_name"]


def test_an_assertion_encrypted_with_aes_cbc_is_refused(saml_sources):
    idp = saml_sources.apps["src-chiffre"]
    idp.encryption = AES256_CBC
    try:
        page = login(Browser(), saml_sources.url("rp-chiffre"), CITIZENS[0])
    finally:
        idp.encryption = AES256_GCM

    assert page.status_code == 400 and error_code_of(page) == "reponse_source_invalide"
    # refused on sight, before any decryption
    assert f"src-chiffre: encryption algorithm refused: '{AES256_CBC}'" in proxy_log(saml_sources)


def test_a_tampered_ciphertext_gets_the_same_error_and_page_as_any_invalid_response(
        saml_sources):
    idp = saml_sources.apps["src-chiffre"]
    browser = Browser()
    action, fields = _held_response(saml_sources, browser)
    tampered = _post(browser, action, _with_xml(fields, _tampered(_xml(fields))))

    other = Browser()
    action, fields = _held_response(saml_sources, other)
    not_base64 = _post(other, action, {**fields, "SAMLResponse": "%%% pas du base64 %%%"})

    third = Browser()
    idp.encryption = AES256_CBC
    try:
        action, fields = _held_response(saml_sources, third)
    finally:
        idp.encryption = AES256_GCM
    cbc = _post(third, action, fields)

    assert error_code_of(tampered) == "reponse_source_invalide"
    # it reached decryption, which failed (the GCM tag)
    assert "src-chiffre: EncryptedAssertion could not be decrypted" in proxy_log(saml_sources)
    assert {(r.status_code, r.text) for r in (tampered, not_base64, cbc)} == \
        {(tampered.status_code, tampered.text)}


def test_our_sp_metadata_publishes_a_separate_encryption_key_and_only_aes_gcm(saml_sources):
    xml = requests.get(f"{saml_sources.proxy_url}/src-chiffre/saml2/metadata", timeout=10).text
    keys = saml_sources.folder / "data" / "keys"

    descriptors = {kd.get("use"): kd for kd in ElementTree.fromstring(xml).iter(
        f"{{{MD}}}KeyDescriptor")}

    def cert_of(use: str) -> str:
        return "".join((descriptors[use].find(f".//{{{DS}}}X509Certificate").text).split())

    def pem_body(name: str) -> str:
        return "".join(line for line in (keys / name).read_text().splitlines()
                       if "CERTIFICATE" not in line)

    assert cert_of("encryption") == pem_body("saml-encryption.crt")
    assert cert_of("signing") == pem_body("saml-signing.crt") != cert_of("encryption")
    methods = [m.get("Algorithm") for m in descriptors["encryption"].findall(
        f"{{{MD}}}EncryptionMethod")]
    assert methods[0] == AES256_GCM and CBC not in methods


def _nested_cbc(fed, xml: str) -> str:
    """The response opened with our own key, an Advice holding a CBC-encrypted assertion put
    into the assertion, and the whole encrypted again in AES-256-GCM to our certificate:
    what an attacker can build, since anyone can encrypt to a public key."""
    keys = fed.folder / "data" / "keys"
    crypto = CryptoBackendXmlSec1(get_xmlsec_binary())
    opened = crypto.decrypt(xml, str(keys / "saml-encryption.pem"))
    hidden = crypto.encrypt_assertion(
        opened, str(keys / "saml-encryption.crt"),
        str(pre_encryption_part(msg_enc=AES256_CBC, key_enc=RSA_OAEP_MGF1P)), key_type="aes-256")
    inner = re.search(r"<(\w+):EncryptedAssertion>.*</\1:EncryptedAssertion>", hidden, re.S)
    assert inner is not None
    advice = f'<saml:Advice xmlns:saml="{SAML}">{inner.group(0)}</saml:Advice>'
    conditions = re.search(r"</(\w+):Conditions>", opened)
    assert conditions is not None
    crafted = opened[:conditions.end()] + advice + opened[conditions.end():]
    return crypto.encrypt_assertion(
        crafted, str(keys / "saml-encryption.crt"),
        str(pre_encryption_part(msg_enc=AES256_GCM, key_enc=RSA_OAEP_MGF1P)), key_type="aes-256")


def test_encrypted_content_inside_the_encrypted_assertion_is_refused_before_decrypting_it(
        saml_sources):
    browser = Browser()
    action, fields = _held_response(saml_sources, browser)

    page = _post(browser, action, _with_xml(fields, _nested_cbc(saml_sources,
                                                                _unsigned(_xml(fields)))))

    assert page.status_code == 400 and error_code_of(page) == "reponse_source_invalide"
    assert "src-chiffre: encrypted content left after decryption" in proxy_log(saml_sources)
