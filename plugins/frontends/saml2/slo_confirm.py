"""Unsigned LogoutRequests, from SPs registered ``logout_requests: unsigned_confirm``.

Anyone can forge an unsigned LogoutRequest: a third-party page can make the browser send
one. So it may only ever end the session *this browser* holds (its cookie), and only after
the citizen confirms on our French page — the page, and the protections, of an OIDC logout
without ``id_token_hint`` (:mod:`plugins.frontends.oidc.end_session`):

* the form carries a CSRF token bound to the session (:meth:`idp.sso.logout.SingleLogout.
  csrf_token`) and a one-time ``demande`` id naming the request, kept server-side for ten
  minutes with the answer the SP is owed (``saml-logout-pending``);
* the confirming POST must come from the browser holding that very session, and from our own
  origin (:mod:`idp.same_origin`: ``Sec-Fetch-Site`` and ``Origin``). The page also sets
  ``Referrer-Policy: same-origin`` for itself (ours is ``no-referrer`` everywhere, under which
  browsers send ``Origin: null`` with a POST), so a browser states our origin.

Before the page: what the request names must fit this browser's session — the NameID this SP
received in it, and a SessionIndex, when given, naming it (:meth:`SAML2Frontend.
_sessions_named` checks both, as for a signed request). A request naming another session is
refused; one naming nothing this browser holds ends nothing, and the SP is answered at once.

Confirmed: the logout runs as for a signed request and ends with the LogoutResponse to the SP.
Declined: nothing ends; the citizen is told so, and the SP's LogoutResponse
(``Responder/RequestDenied``) waits behind a "Continuer" button.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from typing import Any

from satosa.context import Context
from satosa.response import Response

from idp.autopost import FORM_ACTION_HEADER
from idp.errors import FlowError
from idp.pages import render
from idp.same_origin import posted_from
from idp.sso.front_channel import origin_of
from idp.sso.logout import SingleLogout
from idp.sso.session import SsoSession

from .slo import SloRequest
from .slo_send import SamlServiceLogout

logger = logging.getLogger("ncconnect.frontends.saml2")

#: A LogoutRequest the citizen is asked to confirm, by the form's ``demande`` field.
PENDING_NAMESPACE = "saml-logout-pending"
PENDING_TTL = 600
CONFIRM_TEMPLATE = "deconnexion/confirmer.html"
KEPT_TEMPLATE = "deconnexion/maintenue.html"
MAX_DEMANDE = 64


class UnsignedLogout:
    def __init__(self, hub: SingleLogout, messages: SamlServiceLogout, action: str,
                 names: Mapping[str, str]) -> None:
        self.hub = hub
        self.messages = messages
        #: Where the confirmation form posts (our ``slo/confirmer`` endpoint).
        self.action = action
        self.own_origin = origin_of(action)
        #: Service id -> the name the citizen knows the service by.
        self.names = dict(names)

    def ask(self, context: Context, request: SloRequest, service_id: str,
            named: list[SsoSession], finish: dict[str, Any]) -> Response:
        """The confirmation page for ``named`` (the sessions the request names), or the
        answer to the SP at once when it names none."""
        browser = self.hub.browser_session(context)
        if any(browser is None or session.key != browser.key for session in named):
            raise FlowError("deconnexion_invalide",
                            detail="SAML logout: an unsigned LogoutRequest names a session "
                                   "this browser does not hold")
        if browser is None or not named:
            logger.info("unsigned SP-initiated logout: no session of this browser to end",
                        extra={"sp": request.sp})
            return self.hub.logout(context, [], initiator=service_id, finish=finish,
                                   reason="saml_slo_unsigned")
        demande = secrets.token_urlsafe(32)
        self.hub.store.put(PENDING_NAMESPACE, demande, {
            "finish": finish, "key": browser.key, "service_id": service_id}, PENDING_TTL)
        logger.info("unsigned SP-initiated logout: the citizen is asked to confirm",
                    extra={"sp": request.sp})
        page = render(CONFIRM_TEMPLATE, context, action=self.action, demande=demande,
                      csrf=self.hub.csrf_token(browser), service=self.names.get(service_id),
                      referrer_same_origin=True)
        targets = self.hub.form_targets([browser], browser.key, finish)
        if targets:
            page.headers.append((FORM_ACTION_HEADER, " ".join(targets)))
        return page

    def answer(self, context: Context) -> Response:
        """The citizen's answer, posted by the confirmation form."""
        if context.request_method != "POST":
            raise FlowError("methode_non_autorisee", 405, "SAML logout confirmation needs POST")
        params: dict[str, Any] = context.request if isinstance(context.request, dict) else {}
        demande = params.get("demande")
        valid_id = isinstance(demande, str) and 0 < len(demande) <= MAX_DEMANDE
        pending = self.hub.store.get(PENDING_NAMESPACE, demande) if valid_id else None
        browser = self.hub.browser_session(context)
        if pending is None or browser is None or pending.get("key") != browser.key:
            # Expired or answered, the session ended meanwhile, or another browser.
            raise FlowError("deconnexion_expiree", detail="SAML logout: no pending confirmation")
        if not posted_from(context, self.own_origin):
            raise FlowError("deconnexion_formulaire_invalide", 403,
                            "SAML logout confirmation posted from another origin")
        if not self.hub.csrf_valid(browser, params.get("csrf")):
            raise FlowError("deconnexion_formulaire_invalide", 403,
                            "SAML logout confirmation: CSRF token invalid")
        if self.hub.store.take(PENDING_NAMESPACE, demande) is None:  # a double submit
            raise FlowError("deconnexion_expiree", detail="SAML logout: already answered")
        finish = dict(pending["finish"])
        service_id = str(pending["service_id"])
        if params.get("confirmer") != "oui":
            logger.info("unsigned SP-initiated logout declined by the citizen",
                        extra={"sp": finish.get("entity_id")})
            return self._kept(context, finish, service_id)
        logger.info("unsigned SP-initiated logout confirmed by the citizen",
                    extra={"sp": finish.get("entity_id")})
        return self.hub.logout(context, [browser], initiator=service_id, finish=finish,
                               reason="saml_slo_unsigned_confirmed")

    def _kept(self, context: Context, finish: Mapping[str, Any], service_id: str) -> Response:
        """Nothing ended: the page says so; the SP's ``RequestDenied`` is behind "Continuer"."""
        outgoing = self.messages.logout_response(
            str(finish["entity_id"]), str(finish["request_id"]),
            str(finish.get("relay_state") or ""), finish.get("binding"), partial=False,
            denied=True)
        link = outgoing.url if outgoing is not None and outgoing.is_redirect else None
        form = outgoing if outgoing is not None and not outgoing.is_redirect else None
        page = render(KEPT_TEMPLATE, context, service=self.names.get(service_id), link=link,
                      form=form)
        if form is not None:
            page.headers.append((FORM_ACTION_HEADER, form.origin))
        return page
