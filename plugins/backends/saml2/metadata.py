"""Our SP metadata for this source: entity id, ACS, signing and encryption certificates.

Published so the IdP's administrators configure us from a document rather
than by hand: ``AuthnRequestsSigned="true"`` and ``WantAssertionsSigned="true"``
(``"false"`` for a source registered ``saml2.signature: response``) come from the SP
configuration (see :mod:`.sp_config`). pysaml2 advertises every
algorithm xmlsec1 knows (MD5 and SHA-1 included, asking the binary with
``xmlsec1 --list-transforms``); we advertise only those we accept in responses
(:data:`DIGESTS`, :data:`SIGNINGS`), whatever the crypto backend, so an IdP that reads
the list does not pick one we refuse.

The encryption ``KeyDescriptor`` lists the ``EncryptionMethod``s we decrypt, AES-GCM
first (:data:`.encryption.ADVERTISED`): Shibboleth and SimpleSAMLphp pick from it, and
would otherwise fall back to a CBC mode we refuse.
"""

from __future__ import annotations

from saml2 import md
from saml2.config import SPConfig
from saml2.extension.algsupport import DigestMethod, SigningMethod
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.validate import valid_instance

from .encryption import ADVERTISED
from .response_xml import ALLOWED_DIGEST_METHODS, ALLOWED_SIGNATURE_METHODS

ALGSUPPORT_NS = "urn:oasis:names:tc:SAML:metadata:algsupport"
#: What we advertise, in this order (the sets :mod:`.response_xml` accepts).
DIGESTS = tuple(sorted(ALLOWED_DIGEST_METHODS, key=lambda uri: ("512" in uri, "384" in uri)))
SIGNINGS = tuple(sorted(ALLOWED_SIGNATURE_METHODS,
                        key=lambda uri: ("ecdsa" in uri, "512" in uri, "384" in uri)))


def _not_algsupport(element) -> bool:
    return getattr(element, "namespace", None) != ALGSUPPORT_NS


def _algorithm_support() -> list:
    return [DigestMethod(algorithm=a) for a in DIGESTS] \
        + [SigningMethod(algorithm=a) for a in SIGNINGS]


def _advertise_encryption(descriptor: md.EntityDescriptor) -> None:
    found = descriptor.spsso_descriptor
    for sp in found if isinstance(found, list) else [found] if found is not None else []:
        for key in sp.key_descriptor or []:
            if key.use == "encryption":
                key.encryption_method = [md.EncryptionMethod(algorithm=a) for a in ADVERTISED]


def sp_metadata_xml(conf: SPConfig) -> str:
    descriptor = entity_descriptor(conf)
    if descriptor.extensions is None:
        descriptor.extensions = md.Extensions()
    descriptor.extensions.extension_elements = [
        e for e in descriptor.extensions.extension_elements if _not_algsupport(e)]
    for element in _algorithm_support():
        descriptor.extensions.add_extension_element(element)
    _advertise_encryption(descriptor)
    valid_instance(descriptor)
    data = metadata_tostring_fix(descriptor, {"xs": "http://www.w3.org/2001/XMLSchema"})
    return data.decode("utf-8") if isinstance(data, bytes) else data
