"""Logging out at an OpenID Connect identity source (RP-initiated logout, at the source).

When the citizen's own session ends (their browser's), NC Connect also ends its login at
the source, if the source publishes an ``end_session_endpoint`` in its discovery
document: the browser is sent there with our ``client_id``, the registered return
address ``<base>/<source>/oidc/logout`` and a ``state`` naming the logout under way;
the source sends the browser back and the logout goes on (:mod:`idp.sso.logout`).

No ``id_token_hint``: NC Connect keeps no source ID token after the login (it would be
one more credential in the store); RP-Initiated Logout 1.0 §2 allows ``client_id`` in
its place. The discovery document is read with the backend's own checks (issuer
exact, https endpoints, the source's own CAs: ``tls_ca_file``) and cached per process
like the login's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from saml2 import BINDING_HTTP_REDIRECT

from idp.sso.front_channel import Outgoing
from idp.sso.logout import SourceLogoutFailed

from .discovery import METADATA_TTL, well_known_url
from .errors import InvalidSourceResponse, SourceUnavailable
from .fetch import Trust, call_json
from .urls import checked_url


def return_url(redirect_uri: str) -> str:
    """``<base>/<source>/oidc/logout``, next to the login callback."""
    return redirect_uri.removesuffix("/callback") + "/logout"


class OidcSourceLogout:
    def __init__(self, conf: Mapping[str, Any]) -> None:
        self.source_id = str(conf["source_id"])
        self.allow_http = bool(conf.get("allow_loopback_http", False))
        self.issuer = checked_url(conf["issuer"], self.allow_http, "configured issuer")
        self.client_id = str(conf["client_id"])
        self.trust = Trust.of(conf, self.source_id)
        self.return_url = return_url(str(conf["redirect_uri"]))
        self._lock = threading.Lock()
        self._endpoint: str | None = None
        self._fetched_at: float | None = None

    def end_session_endpoint(self) -> str | None:
        """The source's endpoint; ``None`` when it publishes none. Raises
        :class:`~.errors.SourceUnavailable` or :class:`~.errors.InvalidSourceResponse`."""
        with self._lock:
            if self._fetched_at is not None and time.monotonic() - self._fetched_at < METADATA_TTL:
                return self._endpoint
        reply = call_json("GET", well_known_url(self.issuer), what="discovery",
                          trust=self.trust)
        if reply.status != 200:
            raise InvalidSourceResponse(f"discovery: HTTP {reply.status}")
        if reply.data.get("issuer") != self.issuer:
            raise InvalidSourceResponse("discovery: issuer in metadata differs")
        raw = reply.data.get("end_session_endpoint")
        endpoint = checked_url(raw, self.allow_http, "discovery: end_session_endpoint") \
            if raw is not None else None
        with self._lock:
            self._endpoint, self._fetched_at = endpoint, time.monotonic()
        return endpoint

    def origin(self) -> str:
        """Where the logout sends the browser: the endpoint's origin when the document was
        read already, else the issuer's (no network call: pages that list it must not wait
        on a source that is down)."""
        with self._lock:
            endpoint = self._endpoint
        parts = urlsplit(endpoint or self.issuer)
        return f"{parts.scheme}://{parts.netloc}"

    def logout_url(self, state: str) -> str | None:
        """Where to send the browser, or ``None`` when the source offers no logout."""
        endpoint = self.end_session_endpoint()
        if endpoint is None:
            return None
        query = urlencode({"client_id": self.client_id,
                           "post_logout_redirect_uri": self.return_url, "state": state})
        return f"{endpoint}{'&' if '?' in endpoint else '?'}{query}"

    def outgoing(self, plan_id: str, subject: str) -> Outgoing | None:
        """The hop of :class:`idp.sso.logout.SourceLogout`: the plan id travels as ``state``."""
        try:
            url = self.logout_url(plan_id)
        except (SourceUnavailable, InvalidSourceResponse) as exc:
            raise SourceLogoutFailed(str(exc)) from exc
        return Outgoing(BINDING_HTTP_REDIRECT, url) if url is not None else None
