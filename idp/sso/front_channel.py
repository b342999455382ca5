"""A SAML message carried by the citizen's browser: a signed URL, or a form to post.

Single logout sends messages to services and identity sources through the browser
(HTTP-Redirect, HTTP-POST); the orchestration needs them as data — to send at once, or
to offer behind a "Continuer" button on the page that tells the citizen which services
could not be reached — so they are built as :class:`Outgoing`, and turned into a
response only at the last moment.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from saml2 import BINDING_HTTP_REDIRECT
from satosa.response import Response, SeeOther

from ..autopost import autopost


@dataclass(frozen=True)
class Outgoing:
    binding: str
    #: The signed URL (Redirect binding), or the form's action (POST binding).
    url: str
    fields: dict[str, str] = field(default_factory=dict)
    #: The ID of a request we sent, to match the answer (``InResponseTo``).
    request_id: str | None = None

    @property
    def is_redirect(self) -> bool:
        return self.binding == BINDING_HTTP_REDIRECT

    @property
    def origin(self) -> str:
        return origin_of(self.url)

    def response(self, context: Any = None) -> Response:
        if self.is_redirect:
            return SeeOther(self.url)
        return autopost(self.url, self.fields, context)


def reachable(url: str, timeout: float = 2.0) -> bool:
    """Whether something listens where the browser is about to be sent.

    A service or source that is down would leave the citizen on the browser's own error
    page, in the middle of a logout: such a hop is skipped and reported instead. A TCP
    connection is all that is tried (no request is made on the citizen's behalf).
    """
    parts = urlsplit(url)
    if not parts.hostname:
        return False
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((parts.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def origin_of(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"
