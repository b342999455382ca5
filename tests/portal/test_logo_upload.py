"""A logo uploaded through the partner portal is checked by content, not only by name
(``idp.partners.logo_upload``), and a multipart body is read like any form
(``idp.uploads``)."""

from __future__ import annotations

import pytest

from idp.partners.logo_upload import checked_logo
from idp.partners.registry import MAX_LOGO_BYTES
from idp.uploads import parse_multipart

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
       b'<circle cx="5" cy="5" r="4" fill="#005078"/></svg>')


def test_a_png_named_png_is_a_logo():
    assert checked_logo("mairie.PNG", PNG).suffix == ".png"


def test_a_jpeg_extension_is_written_as_jpg():
    assert checked_logo("logo.jpeg", b"\xff\xd8\xff\xe0" + b"\0" * 16).suffix == ".jpg"


@pytest.mark.parametrize("name", ["logo.gif", "logo", "logo.png.exe", "logo.html"])
def test_another_type_is_refused_by_its_name(name):
    with pytest.raises(ValueError, match="must be a"):
        checked_logo(name, PNG)


def test_a_file_whose_content_is_not_its_type_is_refused():
    with pytest.raises(ValueError, match="content does not match"):
        checked_logo("logo.png", b"<html><script>alert(1)</script></html>")


def test_a_logo_above_the_registrys_size_is_refused():
    with pytest.raises(ValueError, match="send a smaller image"):
        checked_logo("logo.png", PNG + b"\0" * MAX_LOGO_BYTES)


def test_an_empty_file_is_refused():
    with pytest.raises(ValueError, match="is empty"):
        checked_logo("logo.png", b"")


def test_a_plain_svg_is_a_logo():
    assert checked_logo("logo.svg", SVG).suffix == ".svg"


@pytest.mark.parametrize("svg, problem", [
    (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "<script>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "event handler"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><foreignObject/></svg>', "<foreignObject>"),
    (b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
     b'<image x:href="https://tracker.example/p.png"/></svg>', "another file or address"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(https://x.example/a)"/>'
     b'</svg>', "in a style"),
    (b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import url(https://x.example/a.css);'
     b'</style></svg>', "in a style"),
    (b'<!DOCTYPE svg [<!ENTITY e "x">]><svg xmlns="http://www.w3.org/2000/svg">&e;</svg>',
     "without a DTD"),
    (b'<html xmlns="http://www.w3.org/1999/xhtml"/>', "root element"),
])
def test_an_svg_with_active_or_external_content_is_refused(svg, problem):
    with pytest.raises(ValueError, match=problem):
        checked_logo("logo.svg", svg)


def multipart(*parts: tuple[str, str | None, bytes]) -> bytes:
    out = b""
    for name, filename, data in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"'
                                                     if filename is not None else "")
        out += f"--B\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + data + b"\r\n"
    return out + b"--B--\r\n"


def test_a_multipart_form_gives_its_fields_and_its_file():
    repeated: set[str] = set()
    fields, files = parse_multipart(
        multipart(("csrf", None, b"t"), ("service_name", None, "Païta".encode()),
                  ("logo", "l.png", PNG)), "multipart/form-data; boundary=B", repeated, 100)
    assert fields == {"csrf": "t", "service_name": "Païta"}
    assert files["logo"].filename == "l.png" and files["logo"].data == PNG
    assert repeated == set()


def test_a_repeated_field_keeps_the_first_and_is_named():
    repeated: set[str] = set()
    fields, _ = parse_multipart(multipart(("csrf", None, b"a"), ("csrf", None, b"b")),
                                "multipart/form-data; boundary=B", repeated, 100)
    assert fields["csrf"] == "a" and repeated == {"csrf"}


@pytest.mark.parametrize("body, ctype", [
    (b"not multipart at all", "multipart/form-data; boundary=B"),
    (multipart(("a", None, b"1")), "multipart/form-data"),  # no boundary
])
def test_a_broken_multipart_body_is_an_empty_form(body, ctype):
    assert parse_multipart(body, ctype, set(), 100) == ({}, {})


def test_more_parts_than_allowed_is_an_empty_form():
    body = multipart(*[(f"f{i}", None, b"x") for i in range(20)])
    assert parse_multipart(body, "multipart/form-data; boundary=B", set(), 10) == ({}, {})
