"""``multipart/form-data`` bodies: the one form of ours that sends a file (the partner
portal's logo) posts its fields this way.

Parsed by werkzeug's form parser within the body already read and bounded by
``max_body_bytes``; fields come out like a urlencoded form's (strings, the first of a
repeated name kept and the name added to ``repeated``, at most ``max_fields``), files as
:class:`Upload` in the context decoration :data:`FILES_DECORATION`. A body that does not
parse is an empty form, as a broken urlencoded one is: the page's own checks say what is
missing, never a 500.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from werkzeug.exceptions import HTTPException
from werkzeug.formparser import parse_form_data

FILES_DECORATION = "ncc.files"


@dataclass(frozen=True)
class Upload:
    #: The name the browser gave (never used as a path).
    filename: str
    data: bytes


def parse_multipart(body: bytes, content_type: str, repeated: set[str],
                    max_fields: int) -> tuple[dict[str, str], dict[str, Upload]]:
    environ = {"REQUEST_METHOD": "POST", "CONTENT_TYPE": content_type,
               "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body)}
    try:
        _, form, files = parse_form_data(environ, max_form_memory_size=len(body) + 1,
                                         max_form_parts=max_fields, silent=False)
    except (HTTPException, ValueError):
        return {}, {}
    fields: dict[str, str] = {}
    for name in form:
        values = form.getlist(name)
        if len(values) > 1:
            repeated.add(name)
        fields[name] = values[0]
    uploads: dict[str, Upload] = {}
    for name in files:
        found = files.getlist(name)
        if len(found) > 1:
            repeated.add(name)
        first = found[0]
        uploads[name] = Upload(first.filename or "", first.read())
    return fields, uploads
