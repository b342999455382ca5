"""A logo uploaded through the partner portal: checked before it is kept, written next to
the partner file at approval.

The registry's own checks (:func:`idp.partners.registry._logo_problems`: a PNG, SVG or JPEG
file of at most :data:`~idp.partners.registry.MAX_LOGO_BYTES`) apply to every logo; an
upload comes from outside, so its content must also be what its name says (the file's
signature, not only its extension), and an SVG must be a picture, not a document: no
script, no event handler, no embedded HTML, no reference to anything outside itself. The
proxy serves logos under its CSP, which already stops scripts; refusing them here keeps the
partner folder free of active content whoever serves it later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePath

from defusedxml import ElementTree
from defusedxml.common import DefusedXmlException

from .registry import LOGO_TYPES, MAX_LOGO_BYTES

SVG_NS = "{http://www.w3.org/2000/svg}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
_FORBIDDEN_SVG = {"script", "foreignObject", "iframe", "object", "embed", "handler"}
_SIGNATURES = {".png": (b"\x89PNG\r\n\x1a\n",), ".jpg": (b"\xff\xd8\xff",)}


@dataclass(frozen=True)
class Logo:
    #: ``.png``, ``.svg`` or ``.jpg``: the extension of the file written at approval.
    suffix: str
    data: bytes


def checked_logo(filename: str, data: bytes) -> Logo:
    """The upload as a logo, or ``ValueError`` saying what is wrong and what to send."""
    suffix = PurePath(filename or "").suffix.lower()
    suffix = ".jpg" if suffix == ".jpeg" else suffix
    if suffix not in LOGO_TYPES:
        raise ValueError(f"must be a {', '.join(sorted(LOGO_TYPES))} file (this one is "
                         f"{suffix or 'without an extension'})")
    if not data:
        raise ValueError("is empty: choose the logo's file again")
    if len(data) > MAX_LOGO_BYTES:
        raise ValueError(f"is {len(data)} bytes, more than {MAX_LOGO_BYTES}: send a smaller "
                         "image")
    if suffix == ".svg":
        _check_svg(data)
    elif not data.startswith(_SIGNATURES[suffix]):
        raise ValueError(f"is not a {suffix[1:].upper()} image (its content does not match "
                         "its name): export it again as " + suffix[1:].upper())
    return Logo(suffix, data)


def _check_svg(data: bytes) -> None:
    try:
        root = ElementTree.fromstring(data, forbid_dtd=True)
    except (ElementTree.ParseError, DefusedXmlException, ValueError) as exc:
        raise ValueError("is not a well-formed SVG image without a DTD") from exc
    if root.tag != f"{SVG_NS}svg":
        raise ValueError("is not an SVG image (its root element is not <svg>)")
    for element in root.iter():
        name = element.tag.rpartition("}")[2] if isinstance(element.tag, str) else ""
        if name in _FORBIDDEN_SVG:
            raise ValueError(f"holds a <{name}> element: a logo is a picture, remove it")
        if name == "style" and re.search(r"@import|url\(\s*['\"]?(?!#)", element.text or ""):
            raise ValueError("refers to another file or address in a style: embed "
                             "everything in the SVG")
        for attribute, value in element.attrib.items():
            local = attribute.rpartition("}")[2]
            if local.lower().startswith("on"):
                raise ValueError(f"holds an event handler ({local}): remove it")
            if (attribute == XLINK_HREF or local == "href") and not value.startswith("#"):
                raise ValueError("refers to another file or address: embed everything in "
                                 "the SVG")
            if re.search(r"url\(\s*['\"]?(?!#)", value):
                raise ValueError("refers to another file or address in a style: embed "
                                 "everything in the SVG")
