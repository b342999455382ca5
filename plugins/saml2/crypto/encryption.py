"""XML Encryption in process: an assertion encrypted for a service's key, an assertion from
an identity source decrypted with ours.

Only authenticated content encryption (AES-GCM) and RSA-OAEP key transport are done, in
both directions; anything else is refused before a byte is decrypted (CBC padding errors
have been an oracle against XML Encryption). The session key is encrypted for exactly the
certificate given (from the SP's metadata: a keys manager holding that key alone) and
decrypted with exactly the private key given (ours), whatever ``KeyInfo`` the message
carries beside it.
"""

from __future__ import annotations

import os

import xmlsec
from lxml import etree

from .errors import CryptoRefused
from .keys import certificate_key, private_key
from .xmltree import DS, XENC

AES128_GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
RSA_OAEP_MGF1P = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
RSA_OAEP = "http://www.w3.org/2009/xmlenc11#rsa-oaep"
ENCRYPTED_KEY_TYPE = "http://www.w3.org/2001/04/xmlenc#EncryptedKey"

#: Content encryption -> session key length in bytes.
BLOCK_ALGORITHMS = {AES128_GCM: 16, AES256_GCM: 32}
KEY_TRANSPORT_ALGORITHMS = frozenset({RSA_OAEP_MGF1P, RSA_OAEP})
#: pysaml2's names for the session key (``--session-key`` of xmlsec1) -> length in bytes.
SESSION_KEYS = {"aes-128": 16, "aes-256": 32}


def _method(element: etree._Element, what: str) -> str:
    methods = element.findall(f"{{{XENC}}}EncryptionMethod")
    if len(methods) != 1 or not methods[0].get("Algorithm"):
        raise CryptoRefused(f"{what} without exactly one EncryptionMethod")
    return str(methods[0].get("Algorithm"))


def _block_length(encrypted_data: etree._Element) -> int:
    algorithm = _method(encrypted_data, "EncryptedData")
    if algorithm not in BLOCK_ALGORITHMS:
        raise CryptoRefused(f"content encryption refused: {algorithm!r}")
    return BLOCK_ALGORITHMS[algorithm]


def _check_transport(encrypted_key: etree._Element) -> None:
    algorithm = _method(encrypted_key, "EncryptedKey")
    if algorithm not in KEY_TRANSPORT_ALGORITHMS:
        raise CryptoRefused(f"key transport refused: {algorithm!r}")


def encrypt_node(target: etree._Element, template: etree._Element, recipient_cert: str,
                 session_key: str) -> etree._Element:
    """Replace ``target`` by ``template`` (an ``EncryptedData`` holding one
    ``KeyInfo/EncryptedKey``) filled in: ``target`` under a fresh AES-GCM key, that key
    under RSA-OAEP for ``recipient_cert`` (PEM file or text)."""
    length = _block_length(template)
    if SESSION_KEYS.get(session_key) != length:
        raise CryptoRefused(f"session key {session_key!r} does not match the content algorithm")
    key_infos = template.findall(f"{{{DS}}}KeyInfo")
    encrypted_keys = [k for info in key_infos for k in info.findall(f"{{{XENC}}}EncryptedKey")]
    if len(key_infos) != 1 or len(encrypted_keys) != 1:
        raise CryptoRefused("encryption template without exactly one KeyInfo/EncryptedKey")
    _check_transport(encrypted_keys[0])
    # The keys manager holds the recipient's key and nothing else: libxmlsec1 encrypts the
    # session key into the template's EncryptedKey with it.
    recipient = xmlsec.KeysManager()
    recipient.add_key(certificate_key(recipient_cert))
    content = xmlsec.EncryptionContext(recipient)
    content.key = xmlsec.Key.from_binary_data(xmlsec.KeyData.AES, os.urandom(length))
    return content.encrypt_xml(template, target)


def _encrypted_keys(root: etree._Element, encrypted_data: etree._Element) -> list:
    """The ``EncryptedKey`` elements the ``EncryptedData`` names: inside its ``KeyInfo``, or
    by a ``RetrievalMethod`` to the ``Id`` of one in the same document."""
    key_info = encrypted_data.find(f"{{{DS}}}KeyInfo")
    if key_info is None:
        return []
    found = key_info.findall(f"{{{XENC}}}EncryptedKey")
    for method in key_info.findall(f"{{{DS}}}RetrievalMethod"):
        uri = method.get("URI") or ""
        if method.get("Type") != ENCRYPTED_KEY_TYPE or not uri.startswith("#"):
            continue
        targets = [el for el in root.iter(f"{{{XENC}}}EncryptedKey") if el.get("Id") == uri[1:]]
        if len(targets) == 1:
            found.append(targets[0])
    return found


def decrypt_first(root: etree._Element, key_file: str) -> None:
    """Open the document's first ``EncryptedData`` in place (as ``xmlsec1 --decrypt`` does):
    its session key from an ``EncryptedKey`` our private key opens."""
    encrypted_data = next(root.iter(f"{{{XENC}}}EncryptedData"), None)
    if encrypted_data is None:
        raise CryptoRefused("nothing encrypted in the document")
    length = _block_length(encrypted_data)
    candidates = _encrypted_keys(root, encrypted_data)
    if not candidates:
        raise CryptoRefused("EncryptedData without an EncryptedKey")
    ours = private_key(key_file)
    raw = None
    for encrypted_key in candidates:
        _check_transport(encrypted_key)
        opener = xmlsec.EncryptionContext()
        opener.key = ours
        try:
            value = opener.decrypt(encrypted_key)
        except xmlsec.Error:
            continue
        if isinstance(value, bytes) and len(value) == length:
            raw = value
            break
    if raw is None:
        raise CryptoRefused("no EncryptedKey opens with our key")
    content = xmlsec.EncryptionContext()
    content.key = xmlsec.Key.from_binary_data(xmlsec.KeyData.AES, raw)
    try:
        content.decrypt(encrypted_data)
    except xmlsec.Error as exc:
        raise CryptoRefused(f"EncryptedData cannot be decrypted ({exc})") from exc
