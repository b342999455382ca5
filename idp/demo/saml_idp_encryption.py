"""The demo SAML IdP's ``EncryptedAssertion``, built with the algorithms it is told to use.

pysaml2's own ``encrypt_assertion=True`` encrypts with its default block algorithm (Triple
DES CBC); a source's algorithms are what NC Connect's SAML backend must accept (AES-GCM) or
refuse (AES-CBC), so here the caller pins the block algorithm, with RSA-OAEP key transport,
and the IdP asks pysaml2 for an unsigned, unencrypted Response to build on. The order is
real IdPs': the assertion signed (unless only the Response is signed, as the Shibboleth IdP
and Keycloak do by default), encrypted to the SP's encryption certificate from its
metadata, then the Response signed over the ``EncryptedAssertion``.
"""

from __future__ import annotations

from saml2 import class_name, samlp
from saml2.server import Server
from saml2.sigver import (
    RSA_OAEP_MGF1P,
    get_pem_wrapped_unwrapped,
    make_temp,
    pre_encrypt_assertion,
    pre_encryption_part,
    pre_signature_part,
    signed_instance_factory,
)

from .saml_common import DIGEST_ALG, SIGN_ALG
from .web import PeerError

AES256_GCM = "http://www.w3.org/2009/xmlenc11#aes256-gcm"
AES128_GCM = "http://www.w3.org/2009/xmlenc11#aes128-gcm"
AES256_CBC = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
#: xmlsec1's ``--session-key`` for a block algorithm (its key size).
SESSION_KEYS = {"aes128": "aes-128", "aes192": "aes-192", "aes256": "aes-256",
                "tripledes": "des-192"}


def _session_key_type(algorithm: str) -> str:
    fragment = algorithm.rsplit("#", 1)[-1]
    for prefix, key_type in SESSION_KEYS.items():
        if fragment.startswith(prefix):
            return key_type
    raise ValueError(f"unknown block encryption algorithm {algorithm}")


def response_with_encrypted_assertion(server: Server, response: samlp.Response, sp: str,
                                      algorithm: str, *, sign_assertion: bool) -> str:
    """``response`` (built unsigned by ``server``), its assertion signed (if
    ``sign_assertion``) then encrypted to ``sp``'s encryption certificate with ``algorithm``
    and RSA-OAEP key transport, then the Response signed over it: the XML to post."""
    sec = server.sec
    certs = server.metadata.certs(sp, "spsso", "encryption")
    if not certs:
        raise PeerError("chiffrement_impossible", "Chiffrement impossible",
                        "Le service ne publie pas de clé de chiffrement dans ses "
                        "métadonnées. Aucune donnée n'a été transmise.")
    key_name, cert = certs[0]
    wrapped, unwrapped = get_pem_wrapped_unwrapped(cert)
    assertion = response.assertion[0]
    to_sign = [(class_name(assertion), assertion.id)] if sign_assertion else []
    if to_sign:
        assertion.signature = pre_signature_part(assertion.id, sec.my_cert, 1,
                                                 digest_alg=DIGEST_ALG, sign_alg=SIGN_ALG)
    response.signature = pre_signature_part(response.id, sec.my_cert, 2,
                                            digest_alg=DIGEST_ALG, sign_alg=SIGN_ALG)
    # Self-contained: the encrypted assertion declares every namespace it uses, as
    # real IdPs' XML Encryption does (the decrypted text must parse on its own).
    tag = assertion._to_element_tree().tag
    plain = pre_encrypt_assertion(response) \
        .get_xml_string_with_self_contained_assertion_within_encrypted_assertion(tag)
    signed = signed_instance_factory(plain, sec, to_sign)
    cert_file = make_temp(wrapped.encode("ascii"), decode=False)
    encrypted = sec.encrypt_assertion(
        signed, cert_file.name,
        pre_encryption_part(msg_enc=algorithm, key_enc=RSA_OAEP_MGF1P, key_name=key_name,
                            encrypt_cert=unwrapped),
        key_type=_session_key_type(algorithm))
    return signed_instance_factory(encrypted, sec, [(class_name(response), response.id)])
