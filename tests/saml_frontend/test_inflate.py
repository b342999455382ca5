"""The bounded decoding of SAMLRequest parameters, on its own (the app tests go through it too)."""

from __future__ import annotations

import base64
import zlib

import pytest

from plugins.saml2.inflate import (
    MAX_XML_BYTES,
    UndecodableMessage,
    inflate_bounded,
    post_message_xml,
    redirect_message_xml,
)


def _deflate(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return comp.compress(data) + comp.flush()


def test_message_of_exactly_the_limit_inflates():
    assert inflate_bounded(_deflate(b"x" * MAX_XML_BYTES)) == b"x" * MAX_XML_BYTES


def test_one_byte_over_the_limit_is_refused():
    with pytest.raises(UndecodableMessage, match="beyond the limit"):
        inflate_bounded(_deflate(b"x" * (MAX_XML_BYTES + 1)))


def test_128_mib_bomb_is_refused_after_inflating_at_most_the_limit():
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    chunk = b"\0" * (1024 * 1024)
    bomb = b"".join(comp.compress(chunk) for _ in range(128)) + comp.flush()
    assert len(bomb) < 256 * 1024  # a tiny message
    with pytest.raises(UndecodableMessage, match="beyond the limit"):
        inflate_bounded(bomb)


def test_truncated_deflate_stream_is_refused():
    with pytest.raises(UndecodableMessage, match="truncated"):
        inflate_bounded(_deflate(b"<AuthnRequest/>" * 50)[:-4])


def test_zlib_wrapped_stream_is_not_raw_deflate():
    with pytest.raises(UndecodableMessage):
        redirect_message_xml(base64.b64encode(zlib.compress(b"<a/>")).decode())


def test_post_message_tolerates_line_breaks_only():
    encoded = base64.encodebytes(b"<AuthnRequest/>" * 10).decode()
    assert "\n" in encoded
    assert post_message_xml(encoded) == b"<AuthnRequest/>" * 10
    with pytest.raises(UndecodableMessage, match="not base64"):
        post_message_xml(encoded.replace("\n", "*"))


def test_oversized_post_message_is_refused_before_decoding():
    with pytest.raises(UndecodableMessage, match="oversized"):
        post_message_xml("A" * (MAX_XML_BYTES * 2))
