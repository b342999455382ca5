"""What the demo SAML IdP and SP share: algorithms, bounded decoding, attribute names.

pysaml2's stock attribute converters rename attributes (friendly names in,
sometimes no NameFormat out); the demo peers use one converter that maps the
federation's friendly names to the exact ``urn:oid`` Names, NameFormat uri.
"""

from __future__ import annotations

import base64
import binascii
import shutil
import zlib

from saml2 import md
from saml2.attribute_converter import AttributeConverter
from saml2.config import Config
from saml2.extension.algsupport import DigestMethod, SigningMethod
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.saml import NAME_FORMAT_URI
from saml2.validate import valid_instance
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from .attributes import ATTRIBUTES

SIGN_ALG = SIG_RSA_SHA256
DIGEST_ALG = DIGEST_SHA256

#: Largest SAML message accepted, decoded (real ones are a few KiB).
MAX_XML_BYTES = 256 * 1024
MAX_ENCODED_CHARS = (MAX_XML_BYTES * 4) // 3 + 4


class UndecodableMessage(ValueError):
    """Not a message the binding can carry (no detail: it is hostile input)."""


def xmlsec_binary() -> str:
    path = shutil.which("xmlsec1")
    if path is None:
        raise RuntimeError("xmlsec1 is not installed (Debian: apt-get install xmlsec1)")
    return path


def b64decode_strict(text: str) -> bytes:
    if not text or len(text) > MAX_ENCODED_CHARS:
        raise UndecodableMessage("empty or oversized")
    try:
        return base64.b64decode("".join(text.split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UndecodableMessage("not base64") from exc


def redirect_xml(encoded: str) -> bytes:
    """Redirect binding: base64 then raw DEFLATE, inflated with a bound (no deflate bomb)."""
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(b64decode_strict(encoded), MAX_XML_BYTES + 1)
    except zlib.error as exc:
        raise UndecodableMessage("not deflate") from exc
    if len(out) > MAX_XML_BYTES or inflater.unconsumed_tail or not inflater.eof:
        raise UndecodableMessage("oversized or truncated")
    return out


def post_xml(encoded: str) -> bytes:
    """POST binding: base64 of the XML itself."""
    xml = b64decode_strict(encoded)
    if len(xml) > MAX_XML_BYTES:
        raise UndecodableMessage("oversized")
    return xml


def uri_converter() -> AttributeConverter:
    """Friendly name (givenName, sn...) <-> ``urn:oid`` Name, NameFormat uri."""
    converter = AttributeConverter(NAME_FORMAT_URI)
    converter.from_dict({
        "identifier": NAME_FORMAT_URI,
        "to": {friendly: urn for urn, friendly, _ in ATTRIBUTES.values()},
        "fro": {urn: friendly for urn, friendly, _ in ATTRIBUTES.values()},
    })
    return converter


def saml_identity(claims: dict[str, str]) -> dict[str, list[str]]:
    """A citizen's claims keyed by SAML friendly name, the input ``uri_converter`` expects."""
    return {ATTRIBUTES[claim][1]: [value] for claim, value in claims.items()
            if claim in ATTRIBUTES}


def metadata_document(config: Config) -> str:
    """Our entity's metadata, announcing only the algorithms we use.

    pysaml2 would list every algorithm xmlsec1 knows, MD5 and SHA-1 included.
    """
    entity = entity_descriptor(config)
    extensions = md.Extensions()
    extensions.add_extension_element(DigestMethod(algorithm=DIGEST_ALG))
    extensions.add_extension_element(SigningMethod(algorithm=SIGN_ALG))
    entity.extensions = extensions
    valid_instance(entity)
    xml = metadata_tostring_fix(entity, {"xs": "http://www.w3.org/2001/XMLSchema"})
    return xml.decode("utf-8") if isinstance(xml, bytes) else xml
