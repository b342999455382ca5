"""Turning a ``SAMLRequest`` parameter into XML bytes, with every size bounded.

pysaml2 inflates Redirect-binding messages with an unbounded ``zlib.decompress``:
a few kilobytes of deflate can expand to gigabytes (a "deflate bomb"). We decode
and inflate ourselves, stop at :data:`MAX_XML_BYTES`, and hand pysaml2 the XML.
"""

from __future__ import annotations

import base64
import binascii
import zlib

#: Largest AuthnRequest accepted, once decoded and inflated (real ones are a few KiB).
MAX_XML_BYTES = 256 * 1024

#: Largest base64 text accepted (POST binding carries the XML itself, base64-encoded).
MAX_ENCODED_CHARS = (MAX_XML_BYTES * 4) // 3 + 4

_WHITESPACE = str.maketrans("", "", " \t\r\n")


class UndecodableMessage(ValueError):
    """The parameter is not a message this binding can carry (no details: it is hostile input)."""


def b64decode_strict(text: str) -> bytes:
    """Standard base64, line breaks tolerated (some SPs wrap POST bodies), nothing else."""
    if not text or len(text) > MAX_ENCODED_CHARS:
        raise UndecodableMessage("empty or oversized")
    try:
        return base64.b64decode(text.translate(_WHITESPACE), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise UndecodableMessage("not base64") from exc


def inflate_bounded(data: bytes, limit: int = MAX_XML_BYTES) -> bytes:
    """Raw DEFLATE (RFC 1951), as the Redirect binding mandates, refusing more than ``limit``."""
    inflater = zlib.decompressobj(-15)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise UndecodableMessage("not deflate") from exc
    if len(out) > limit or inflater.unconsumed_tail:
        raise UndecodableMessage("inflates beyond the limit")
    if not inflater.eof:
        raise UndecodableMessage("truncated deflate stream")
    return out


def redirect_message_xml(saml_request: str) -> bytes:
    """XML of a Redirect-binding ``SAMLRequest``: base64, then raw DEFLATE."""
    return inflate_bounded(b64decode_strict(saml_request))


def post_message_xml(saml_request: str) -> bytes:
    """XML of a POST-binding ``SAMLRequest``: base64 of the XML itself, never deflated."""
    xml = b64decode_strict(saml_request)
    if len(xml) > MAX_XML_BYTES:
        raise UndecodableMessage("oversized")
    return xml
