"""HTTP-POST binding without inline script: a form the browser submits for the usager.

The page loads ``/static/autopost.js`` (allowed by the CSP) and shows a button for
browsers without JavaScript. The CSP's ``form-action`` is narrowed to the one
origin the form posts to.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from satosa.response import Response

from .pages import render

#: Header read by the application to replace the default ``form-action 'self'``.
FORM_ACTION_HEADER = "X-NCC-Form-Action"


def autopost(action: str, fields: dict[str, str], context=None) -> Response:
    resp = render("autopost.html", context, action=action, fields=fields)
    parts = urlsplit(action)
    resp.headers.append((FORM_ACTION_HEADER, f"{parts.scheme}://{parts.netloc}"))
    return resp
