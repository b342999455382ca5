"""Encrypted assertions from identity sources: our key, and the algorithms we take.

Shibboleth, SimpleSAMLphp, LemonLDAP::NG and eIDAS nodes encrypt their assertions to the
key our SP metadata publishes for encryption. That key pair is not the signing one
(``idp.keys``: ``saml-encryption.pem``): a decryption key never signs, and either can be
rolled alone. pysaml2 decrypts through its crypto backend (xmlsec1) with the key given
as ``encryption_keypairs`` (:mod:`.sp_config`).

xmlsec1 decrypts whatever the message names, CBC included, whose padding errors have
been an oracle against XML Encryption (Jager & Somorovsky, 2011). So the algorithms
are read *before* anything is decrypted (:func:`check_encrypted_assertion`): content
encrypted with AES-GCM, its key transported with RSA-OAEP, and nothing else — refused
like any other invalid response, with the same error code and page, so that a browser
learns nothing from which check failed.

Encrypted content may hide more encrypted content (an ``Advice`` holding another
``EncryptedAssertion``, an ``EncryptedID``), whose algorithms only show once the outer
layer is open — and pysaml2 would go on decrypting them. So the backend opens the one
layer itself first (:func:`decrypt_once`, xmlsec1 through pysaml2's security context
and our key, never recursing), refuses a plaintext with anything still encrypted
(:func:`.response_xml.check_decrypted`), and only then lets pysaml2 verify the response,
which then has exactly that one layer to decrypt.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import Element

from saml2.client import Saml2Client

from idp.keyring import view_of_file
from idp.keys import KeyPaths
from idp.quoting import quoted

from .errors import InvalidSamlResponse

XENC = "http://www.w3.org/2001/04/xmlenc#"

AES128_GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
RSA_OAEP = "http://www.w3.org/2009/xmlenc11#rsa-oaep"

#: Content encryption (``EncryptedData``): authenticated, no padding to probe.
BLOCK_ALGORITHMS = frozenset({AES128_GCM, AES256_GCM})
#: Key transport (``EncryptedKey``).
KEY_TRANSPORT_ALGORITHMS = frozenset({RSA_OAEP_MGF1P, RSA_OAEP})
#: What our metadata asks sources to use, preferred first (Shibboleth and SimpleSAMLphp
#: read it). xmlenc11 ``rsa-oaep`` is accepted but not asked for: Debian 12's xmlsec1
#: (1.2.37) cannot decrypt it.
ADVERTISED = (AES256_GCM, AES128_GCM, RSA_OAEP_MGF1P)


def key_pair(config: Mapping[str, Any]) -> tuple[str, str]:
    """(key file, certificate file) of our encryption key for this backend.

    ``encryption_key_path`` / ``encryption_cert_path`` when the configuration names them;
    otherwise the pair ``ncconnect keys init`` writes next to the SAML signing key.
    """
    folder = KeyPaths(Path(str(config["key_path"])).parent)
    view = view_of_file(folder.saml_encryption_key)
    if view is not None:  # the keyring's active one (idp.keyring)
        active = view.active("saml-encryption")
        return str(view.path(active.file)), str(view.path(str(active.cert)))
    key = Path(str(config.get("encryption_key_path") or folder.saml_encryption_key))
    cert = Path(str(config.get("encryption_cert_path") or folder.saml_encryption_cert))
    missing = [p for p in (key, cert) if not p.is_file()]
    if missing:
        raise ValueError(f"SAML source {config['source_id']}: {missing[0]}: encryption key "
                         "missing: run 'ncconnect keys init'")
    return str(key), str(cert)


def _method(element: Element, what: str) -> str:
    methods = element.findall(f"{{{XENC}}}EncryptionMethod")
    if len(methods) != 1 or not methods[0].get("Algorithm"):
        raise InvalidSamlResponse(f"{what} without exactly one EncryptionMethod")
    return str(methods[0].get("Algorithm"))


def check_encrypted_assertion(encrypted: Element) -> None:
    """One ``EncryptedData`` in AES-GCM, its key(s) in RSA-OAEP — inline in its ``KeyInfo``
    or next to it in the ``EncryptedAssertion`` — and no other encrypted content."""
    data = list(encrypted.iter(f"{{{XENC}}}EncryptedData"))
    direct = encrypted.findall(f"{{{XENC}}}EncryptedData")
    if len(data) != 1 or len(direct) != 1:
        raise InvalidSamlResponse("EncryptedAssertion without exactly one EncryptedData")
    block = _method(direct[0], "EncryptedData")
    if block not in BLOCK_ALGORITHMS:
        raise InvalidSamlResponse(f"encryption algorithm refused: {quoted(block)}")
    keys = list(encrypted.iter(f"{{{XENC}}}EncryptedKey"))
    if not keys:
        raise InvalidSamlResponse("EncryptedAssertion without an EncryptedKey")
    for key in keys:
        transport = _method(key, "EncryptedKey")
        if transport not in KEY_TRANSPORT_ALGORITHMS:
            raise InvalidSamlResponse(
                f"key transport algorithm refused: {quoted(transport)}")
    if next(encrypted.iter(f"{{{XENC}}}AgreementMethod"), None) is not None:
        raise InvalidSamlResponse("key agreement is not accepted")


def decrypt_once(client: Saml2Client, xml: bytes) -> str:
    """The response with its ``EncryptedAssertion`` opened, one level only (xmlsec1 decrypts
    the first ``EncryptedData`` and does not look inside the plaintext)."""
    try:
        return str(client.sec.decrypt(xml.decode("utf-8")))
    except Exception as exc:  # noqa: BLE001 - DecryptError, XmlsecError, UnicodeDecodeError
        raise InvalidSamlResponse("EncryptedAssertion could not be decrypted") from exc
