"""The ``end_session_endpoint`` (``oidc/logout``, GET and POST): which session ends, and when.

* **A valid ``id_token_hint``** (:mod:`.logout`) names the session through its ``sid``
  (:mod:`idp.sso.session` links the service's session id to the session) and its
  pairwise ``sub``: that session ends at once, and the client that sent the hint is not
  told again over the back channel. When the hint's session is already over but this
  browser's session answered the same client for the same ``sub``, that one ends (the
  citizen signed in again since).
* **No valid hint**, or a hint naming no session of this browser: a third-party page
  must not be able to log the citizen out (logout CSRF), so when the browser still has
  a session the citizen is asked, on a French page, with a form bound to that session
  (CSRF token) and to the request, kept server-side for ten minutes. Without any session
  there is nothing to end.

Either way the logout itself is :meth:`idp.sso.logout.SingleLogout.logout`; the
browser goes back to the ``post_logout_redirect_uri`` only when :mod:`.logout` allowed
it.
"""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

from satosa.context import Context
from satosa.response import Response

from idp.autopost import FORM_ACTION_HEADER
from idp.errors import FlowError
from idp.pages import render
from idp.same_origin import posted_from
from idp.sso.logout import SingleLogout
from idp.sso.session import SsoSession

from .clients import ClientRegistry
from .id_token import IdTokenSigner
from .logout import EndSessionRequest, read_end_session_request

logger = logging.getLogger("ncconnect.oidc")

#: A logout the citizen is asked to confirm, by the form's ``demande`` field.
PENDING_NAMESPACE = "oidc-logout-pending"
PENDING_TTL = 600
CONFIRM_TEMPLATE = "deconnexion/confirmer.html"
KEPT_TEMPLATE = "deconnexion/maintenue.html"


class EndSession:
    def __init__(self, hub: SingleLogout, clients: ClientRegistry, signer: IdTokenSigner,
                 action: str) -> None:
        self.hub = hub
        self.clients = clients
        self.signer = signer
        self.action = action

    def __call__(self, context: Context) -> Response:
        if context.request_method not in ("GET", "HEAD", "POST"):
            raise FlowError("methode_non_autorisee", 405, "end_session needs GET or POST")
        params: dict[str, Any] = context.request if isinstance(context.request, dict) else {}
        if context.request_method == "POST" and "demande" in params:
            return self._confirmed(context, params)
        request = read_end_session_request(params, self.clients, self.signer.keys.published(),
                                           self.signer.issuer)
        finish = self._finish(request)
        browser = self.hub.browser_session(context)
        if request.hint is not None and request.client is not None:
            named = self._named_session(request, browser)
            if named is not None:
                logger.info("rp-initiated logout", extra={"client": request.client.service_id})
                return self.hub.logout(context, [named], initiator=request.client.service_id,
                                       finish=finish, reason="oidc_end_session")
        if browser is None:
            logger.info("rp-initiated logout without a session to end")
            return self.hub.logout(context, [], finish=finish, reason="oidc_end_session")
        return self._ask(context, browser, request, finish)

    @staticmethod
    def _finish(request: EndSessionRequest) -> dict[str, Any]:
        if request.redirect_uri is None:
            return {"kind": "page"}
        return {"kind": "oidc", "uri": request.redirect_uri, "state": request.state}

    def _named_session(self, request: EndSessionRequest,
                       browser: SsoSession | None) -> SsoSession | None:
        assert request.hint is not None and request.client is not None
        service_id = request.client.service_id
        sid, sub = request.hint.get("sid"), request.hint.get("sub")
        now = time.time()
        if isinstance(sid, str):
            session, linked = self.hub.sessions.by_service_sid(sid, now)
            if session is not None and linked == service_id \
                    and self._subject(session, service_id) == sub:
                return session
        if browser is not None and isinstance(sub, str) \
                and self._subject(browser, service_id) == sub:
            return browser
        return None

    def _subject(self, session: SsoSession, service_id: str) -> str | None:
        entry = self.hub.sessions.services(session.sid).get(service_id) or {}
        subject = entry.get("subject")
        return subject if isinstance(subject, str) else None

    # -- asking the citizen ---------------------------------------------------------

    def _ask(self, context: Context, browser: SsoSession, request: EndSessionRequest,
             finish: dict[str, Any]) -> Response:
        demande = secrets.token_urlsafe(32)
        self.hub.store.put(PENDING_NAMESPACE, demande, {
            "finish": finish, "key": browser.key,
            "service": request.client.name if request.client is not None else None,
        }, PENDING_TTL)
        logger.info("rp-initiated logout: the citizen is asked to confirm")
        page = render(CONFIRM_TEMPLATE, context, action=self.action, demande=demande,
                      csrf=self.hub.csrf_token(browser),
                      service=request.client.name if request.client is not None else None)
        targets = self.hub.form_targets([browser], browser.key, finish)
        if targets:
            page.headers.append((FORM_ACTION_HEADER, " ".join(targets)))
        return page

    def _confirmed(self, context: Context, params: dict[str, Any]) -> Response:
        demande = params.get("demande")
        valid_id = isinstance(demande, str) and 0 < len(demande) <= 64
        pending = self.hub.store.get(PENDING_NAMESPACE, demande) if valid_id else None
        browser = self.hub.browser_session(context)
        if pending is None or browser is None or pending.get("key") != browser.key:
            # Expired or answered, the session ended meanwhile, or another browser: the form
            # was shown for a session this browser does not hold.
            raise FlowError("deconnexion_expiree", detail="end_session: no pending confirmation")
        if not posted_from(context, self.action):
            raise FlowError("deconnexion_formulaire_invalide", 403,
                            "end_session: confirmation posted from another origin")
        if not self.hub.csrf_valid(browser, params.get("csrf")):
            raise FlowError("deconnexion_formulaire_invalide", 403,
                            "end_session: CSRF token invalid")
        if self.hub.store.take(PENDING_NAMESPACE, demande) is None:  # a double submit
            raise FlowError("deconnexion_expiree", detail="end_session: already answered")
        if params.get("confirmer") != "oui":
            logger.info("rp-initiated logout declined by the citizen")
            return render(KEPT_TEMPLATE, context, service=pending.get("service"))
        logger.info("rp-initiated logout confirmed by the citizen")
        return self.hub.logout(context, [browser], finish=pending["finish"],
                               reason="oidc_end_session_confirmed")
