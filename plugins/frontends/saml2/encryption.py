"""Encrypted assertions, for SPs whose partner file says ``encrypt_assertions: true``.

Algorithms, pinned whatever pysaml2's defaults are (it hard-codes 3DES-CBC):

* the assertion: **AES-256-GCM** (``xmlenc11#aes256-gcm``), a fresh 256-bit key per answer;
* that key, for the SP's RSA key from its metadata (``KeyDescriptor use="encryption"`` or
  without ``use``): **RSA-OAEP** as ``xmlenc#rsa-oaep-mgf1p``. xmlsec1 1.2.37, the fallback crypto
  backend, does not know ``xmlenc11#rsa-oaep`` at all, and its mgf1p transform refuses any
  ``DigestMethod`` but SHA-1 (both tried: "failed to encrypt"). SHA-1 inside OAEP is no
  collision use (OAEP's proof needs none), and mgf1p is what every SAML SP decrypts.
  :data:`KEY_TRANSPORT` becomes ``xmlenc11#rsa-oaep`` with SHA-256 once the backend has it.

Order (pysaml2's own sequence in ``Entity._response``): the assertion is signed, then
encrypted, then the Response is signed over the ``EncryptedAssertion``. Only the step that
picks the template and the session key is ours (:func:`encrypt_for`, called by
``ProxyIdP._encrypt_assertion``), and it goes through the crypto backend's
``encrypt_assertion``: the in-process backend (:mod:`plugins.saml2.crypto`, default) or
xmlsec1 (``saml.crypto: xmlsec1``); the in-process one gets the SP's certificate as PEM text,
xmlsec1 as a temporary file.

pysaml2 silently sends the assertion in clear when the SP's metadata has no encryption key:
the frontend refuses such an SP at start, and :func:`check_encrypted` refuses to send an
answer that is not what was asked.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from saml2.samlp import response_from_string
from saml2.server import Server
from saml2.sigver import get_pem_wrapped_unwrapped, make_temp, pre_encryption_part

#: Block cipher of the EncryptedData (the assertion).
BLOCK_CIPHER = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
#: Key transport of the EncryptedKey (see the module docstring for why not xmlenc11).
KEY_TRANSPORT = "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"
#: The crypto backend's name for the session key the block cipher needs.
SESSION_KEY = "aes-256"


class EncryptionKeyMissing(ValueError):
    """The SP must get encrypted assertions but its metadata gives no RSA encryption key."""


def rsa_certs(certs: list[tuple[str | None, str]]) -> list[tuple[str | None, str]]:
    """The ``(key name, base64 DER certificate)`` pairs whose key RSA-OAEP can encrypt for."""
    usable = []
    for name, cert in certs:
        try:
            parsed = x509.load_der_x509_certificate(base64.b64decode("".join(cert.split())))
        except (ValueError, binascii.Error):
            continue
        if isinstance(parsed.public_key(), rsa.RSAPublicKey):
            usable.append((name, cert))
    return usable


def encrypt_for(server: Server, key: tuple[str | None, str], response: Any,
                node_xpath: str | None) -> str:
    """The Response with its (signed) assertion encrypted for ``key``, by the crypto backend."""
    name, cert = key
    wrapped, unwrapped = get_pem_wrapped_unwrapped(cert)
    template = pre_encryption_part(msg_enc=BLOCK_CIPHER, key_enc=KEY_TRANSPORT, key_name=name,
                                   encrypt_cert=unwrapped)
    if getattr(server.sec.crypto, "name", None) == "in_process":  # takes the PEM text itself
        return server.sec.encrypt_assertion(response, wrapped, template,
                                            key_type=SESSION_KEY, node_xpath=node_xpath)
    cert_file = make_temp(wrapped.encode("ascii"), decode=False,
                          delete_tmpfiles=server.config.delete_tmpfiles)
    return server.sec.encrypt_assertion(response, cert_file.name, template,
                                        key_type=SESSION_KEY, node_xpath=node_xpath)


class NotEncrypted(RuntimeError):
    """The answer built is not an encrypted one (never sent)."""


def check_encrypted(xml: str) -> None:
    """Exactly one EncryptedAssertion, no Assertion in clear: or nothing is sent."""
    response = response_from_string(xml)
    if response is None or response.assertion or len(response.encrypted_assertion) != 1:
        raise NotEncrypted("the SP must receive one encrypted assertion and nothing in clear")
