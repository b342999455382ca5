"""NC Connect's SAML 2.0 IdP frontend: SPs registered in the partner files log in here.

Endpoints (relative to the base URL, under the plugin name ``saml2``):
``metadata`` (our IdP metadata), ``sso/redirect`` and ``sso/post`` (AuthnRequest
in, via HTTP-Redirect or HTTP-POST), and, with single logout configured,
``slo/redirect`` and ``slo/post`` (LogoutRequest and LogoutResponse, :mod:`.slo`) and
``slo/confirmer`` (the citizen's answer about an unsigned LogoutRequest, :mod:`.slo_confirm`).
Responses always go back with HTTP-POST to an ACS taken from the SP's metadata,
signed (Response and Assertion, the assertion encrypted for SPs registered so,
:mod:`.encryption`), with the NameID format the request asks among those the partner
file allows (:mod:`.name_id`; anything else is answered ``InvalidNameIDPolicy``) and only
the attributes the SP is allowed *and* requests. The NameID sent is recorded in the SSO
session, where single logout finds it in both directions.

``ForceAuthn``, ``IsPassive`` and ``RequestedAuthnContext`` are kept as the request's
requirements (:mod:`idp.authn_requirements`) for the SSO session and the choice to
honour; a login that ends without an identity answers the SP with the status its
reason calls for (:mod:`idp.refusals`): ``NoPassive`` when a passive request would
need a page, ``NoAuthnContext`` when the level asked cannot be reached.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_UNSPECIFIED, NameID
from saml2.samlp import (
    STATUS_AUTHN_FAILED,
    STATUS_INVALID_NAMEID_POLICY,
    STATUS_NO_AUTHN_CONTEXT,
    STATUS_NO_PASSIVE,
    STATUS_REQUEST_DENIED,
)
from satosa.context import Context
from satosa.frontends.base import FrontendModule
from satosa.internal import InternalData
from satosa.response import Response

from idp import source_hint
from idp.app import repeated_params, write_with_flow
from idp.authn_requirements import LevelNotMet, record, requirements_of
from idp.autopost import autopost
from idp.errors import FlowError
from idp.pages import forget_service, remember_service
from idp.refusals import (
    ACCESS_DENIED,
    CONSENT_REQUIRED,
    LEVEL_UNREACHABLE,
    LOGIN_REQUIRED,
    reason_of,
)
from idp.sso.logout import logout_hub
from idp.sso.session import NOTED_SERVICE_DECORATION, SsoSession, service_sid_of
from plugins.micro_services.pairwise import pairwise_subject_of
from plugins.saml2.crypto.context import crypto_of
from plugins.saml2.entity_keys import EntityKeys

from . import response as saml_response
from .idp_config import build_server, slo_urls
from .metadata import CONTENT_TYPE, idp_metadata_xml
from .name_id import NameIdRefused, allowed_formats, build_name_id, choose_format
from .release import released_attributes, saml_identity
from .slo import SloRequest, SloResponse, read_slo_message
from .slo_confirm import UnsignedLogout
from .slo_send import SamlServiceLogout
from .sso import SSORequest, read_authn_request

logger = logging.getLogger("ncconnect.frontends.saml2")

#: Why a login ended (:mod:`idp.refusals`) -> second-level status under Responder.
REFUSAL_STATUS = {ACCESS_DENIED: STATUS_REQUEST_DENIED, LOGIN_REQUIRED: STATUS_NO_PASSIVE,
                  CONSENT_REQUIRED: STATUS_NO_PASSIVE, LEVEL_UNREACHABLE: STATUS_NO_AUTHN_CONTEXT}


class SAML2Frontend(FrontendModule):
    """SATOSA frontend; ``conf`` is exactly what ``idp.assemble._saml_frontend`` builds."""

    def __init__(self, auth_req_callback_func: Callable, internal_attributes: dict,
                 conf: dict[str, Any], base_url: str, name: str) -> None:
        super().__init__(auth_req_callback_func, internal_attributes, base_url, name)
        self.conf = conf
        self.entity_id: str = conf["entity_id"]
        self.sps: dict[str, dict[str, Any]] = conf["sps"]
        #: Our pysaml2 IdP, following the keyring (:mod:`plugins.saml2.entity_keys`): use
        #: :attr:`server`, which rebuilds its keys after a rotation.
        self._server = EntityKeys(build_server(conf, name, internal_attributes),
                                  crypto_of(conf), conf["key_path"])
        self._metadata: tuple[int, str] | None = None
        #: Whether an SSO-session micro-service answers IsPassive; without one no login can
        #: happen without a page, and IsPassive is answered NoPassive at once.
        self.sso_sessions = bool(conf.get("sso_sessions", False))
        #: SPs whose LogoutRequests may come unsigned, the citizen confirming them.
        self.unsigned_ok = frozenset(e for e, sp in self.sps.items()
                                     if sp.get("logout_requests") == "unsigned_confirm")
        #: Single logout (:mod:`idp.sso.logout`), when the assembly configured it.
        self.logout = logout_hub(conf["logout"]) if conf.get("logout") else None
        self.unsigned: UnsignedLogout | None = None
        if self.logout is not None:
            messages = SamlServiceLogout(conf, name)
            self.logout.register_front_channel(messages)
            self.unsigned = UnsignedLogout(
                self.logout, messages, f"{conf['base_url']}/{name}/slo/confirmer",
                {sp["service_id"]: sp["name"] for sp in self.sps.values()})

    @property
    def server(self) -> Any:
        return self._server.current()

    @property
    def metadata_xml(self) -> str:
        """Our metadata, with every signing certificate the keyring publishes (rebuilt when
        it changes)."""
        entity = self._server.current()
        if self._metadata is None or self._metadata[0] != self._server.generation:
            self._metadata = (self._server.generation, idp_metadata_xml(
                entity.config, self._server.signing_certs()))
        return self._metadata[1]

    # -- routing ---------------------------------------------------------------

    def register_endpoints(self, backend_names: list[str]) -> list[tuple[str, Callable]]:
        prefix = re.escape(self.name)
        return [
            (f"^{prefix}/metadata$", self.metadata_endpoint),
            (f"^{prefix}/sso/redirect$", self.sso_redirect_endpoint),
            (f"^{prefix}/sso/post$", self.sso_post_endpoint),
        ] + ([(f"^{prefix}/slo/redirect$", self.slo_redirect_endpoint),
              (f"^{prefix}/slo/post$", self.slo_post_endpoint),
              (f"^{prefix}/slo/confirmer$", self.slo_confirm_endpoint)] if self.logout else [])

    def metadata_endpoint(self, context: Context) -> Response:
        return Response(self.metadata_xml, content=CONTENT_TYPE,
                        headers=[("Cache-Control", "public, max-age=3600")])

    def sso_redirect_endpoint(self, context: Context) -> Response:
        if context.request_method not in ("GET", "HEAD"):
            raise FlowError("methode_non_autorisee", status=405, detail="SSO redirect needs GET")
        return self._start(context, BINDING_HTTP_REDIRECT)

    def sso_post_endpoint(self, context: Context) -> Response:
        if context.request_method != "POST":
            raise FlowError("methode_non_autorisee", status=405, detail="SSO post needs POST")
        return self._start(context, BINDING_HTTP_POST)

    # -- single logout -------------------------------------------------------------

    def slo_redirect_endpoint(self, context: Context) -> Response:
        if context.request_method not in ("GET", "HEAD"):
            raise FlowError("methode_non_autorisee", status=405, detail="SLO redirect needs GET")
        return self._slo(context, BINDING_HTTP_REDIRECT)

    def slo_post_endpoint(self, context: Context) -> Response:
        if context.request_method != "POST":
            raise FlowError("methode_non_autorisee", status=405, detail="SLO post needs POST")
        return self._slo(context, BINDING_HTTP_POST)

    def slo_confirm_endpoint(self, context: Context) -> Response:
        assert self.unsigned is not None
        return self.unsigned.answer(context)

    def _slo(self, context: Context, binding: str) -> Response:
        """A verified LogoutRequest ends the session it names (an unsigned one: this browser's,
        once the citizen confirms); a verified LogoutResponse answers one of our own
        LogoutRequests and lets the logout go on."""
        assert self.logout is not None and self.unsigned is not None
        message = read_slo_message(self.server, set(self.sps), binding, context.request or {},
                                   context.request_uri,
                                   slo_urls(self.conf["base_url"], self.name)[binding],
                                   self.logout.store, self.unsigned_ok,
                                   repeated_params(context))
        if isinstance(message, SloResponse):
            return self.logout.service_answered(context, message.in_response_to, message.sp,
                                                message.success)
        service_id = self.sps[message.sp]["service_id"]
        logger.info("SP-initiated logout", extra={"sp": message.sp, "binding": binding,
                                                  "signed": message.signed})
        named = self._sessions_named(context, message, service_id)
        finish = {"kind": "saml", "entity_id": message.sp, "request_id": message.request_id,
                  "relay_state": message.relay_state, "binding": binding}
        if not message.signed:
            return self.unsigned.ask(context, message, service_id, named, finish)
        return self.logout.logout(context, named, initiator=service_id, finish=finish,
                                  reason="saml_slo")

    def _sessions_named(self, context: Context, request: SloRequest,
                        service_id: str) -> list[SsoSession]:
        """The sessions the LogoutRequest names: by SessionIndex (the service's own session
        id, linked in the store), else this browser's; the NameID must be the one this SP
        received in that session. A session already over is no error (logout is
        idempotent); naming another SP's session, or another citizen, is."""
        assert self.logout is not None
        sessions = self.logout.sessions
        now = time.time()
        found: list[SsoSession] = []
        if request.session_indexes:
            for index in request.session_indexes:
                session, linked = sessions.by_service_sid(index, now)
                if linked is not None and linked != service_id:
                    raise FlowError("deconnexion_invalide",
                                    detail="SLO: SessionIndex of another service")
                if session is not None:
                    found.append(session)
        else:
            browser = self.logout.browser_session(context)
            if browser is not None and service_id in sessions.services(browser.sid):
                found.append(browser)
        for session in found:
            entry = sessions.services(session.sid).get(service_id) or {}
            if entry.get("subject") != request.name_id or not _same_format(
                    request.name_id_format, entry.get("name_id_format")):
                raise FlowError("deconnexion_invalide",
                                detail="SLO: NameID is not the one this SP received")
        return found

    # -- AuthnRequest ------------------------------------------------------------

    def _start(self, context: Context, binding: str) -> Response:
        forget_service(context)  # until this request's SP is verified
        request = read_authn_request(self.server, set(self.sps), binding, context.request or {},
                                     context.request_uri, repeated_params(context))
        sp = self.sps[request.sp]
        released = released_attributes(self.converter, sp["allowed_attributes"],
                                       request.requested_names)
        allowed = allowed_formats(sp)
        try:
            name_id_format = choose_format(request.name_id_policy, request.sp, allowed, released)
        except NameIdRefused as exc:
            logger.warning("NameIDPolicy refused", extra=exc.log_extra(request.sp, allowed))
            return self._error_to_sp(request.request_id, request.acs, request.relay_state,
                                     STATUS_INVALID_NAMEID_POLICY, context)
        if request.requirements is None:
            logger.info("authentication context refused", extra={"sp": request.sp})
            return self._error_to_sp(request.request_id, request.acs, request.relay_state,
                                     STATUS_NO_AUTHN_CONTEXT, context)
        if request.is_passive and not self.sso_sessions:
            logger.info("passive login refused", extra={"sp": request.sp})
            return self._error_to_sp(request.request_id, request.acs, request.relay_state,
                                     STATUS_NO_PASSIVE, context)

        context.state[self.name] = self._state_of(request, released, name_id_format)
        record(context, request.requirements)
        # The error pages' way back: the ACS taken from the SP's registered metadata.
        remember_service(context, sp["name"], request.acs)
        # <Scoping><IDPList>: the source to go straight to, when the choice accepts it.
        source_hint.record(context, request.idp_list)
        context.decorate(Context.KEY_FORCE_AUTHN, request.force_authn)
        internal_req = InternalData(requester=request.sp,
                                    requester_name=[{"lang": "fr", "text": sp["name"]}],
                                    subject_type="persistent")
        internal_req.attributes = released
        logger.info("SAML login started", extra={"sp": request.sp, "service": sp["service_id"],
                                                 "attributes": released})
        return self.auth_req_callback_func(context, internal_req)

    @staticmethod
    def _state_of(request: SSORequest, released: list[str],
                  name_id_format: str) -> dict[str, Any]:
        """What the answer needs, JSON-serialisable for the shared flow store."""
        return {"request_id": request.request_id, "sp": request.sp, "acs": request.acs,
                "relay_state": request.relay_state, "attributes": released,
                "name_id_format": name_id_format,
                "name_id_asked": request.name_id_policy.format}

    def _flow(self, state: Any) -> dict[str, Any]:
        data = state.get(self.name) if state is not None else None
        if not isinstance(data, dict) or not {"request_id", "sp", "acs"} <= data.keys():
            raise FlowError("session_expiree", detail="no SAML request in the flow state")
        if data["sp"] not in self.sps:  # partner deactivated while the usager logged in
            raise FlowError("sp_inconnu", detail="SP no longer registered")
        return data

    # -- answers -----------------------------------------------------------------

    def handle_authn_response(self, context: Context, internal_resp: InternalData) -> Response:
        flow = self._flow(context.state)
        sp = flow["sp"]
        released = list(flow.get("attributes") or [])
        identity = saml_identity(self.converter, internal_resp.attributes or {}, released)
        try:
            name_id = build_name_id(
                str(flow.get("name_id_format") or "persistent"),
                pairwise=pairwise_subject_of(internal_resp), idp=self.entity_id, sp=sp,
                attributes={k: v for k, v in (internal_resp.attributes or {}).items()
                            if k in released},
                asked=flow.get("name_id_asked"))
        except NameIdRefused as exc:
            logger.warning("NameIDPolicy refused",
                           extra=exc.log_extra(sp, allowed_formats(self.sps[sp])))
            context.state.pop(self.name, None)
            return self._error_to_sp(flow["request_id"], flow["acs"],
                                     flow.get("relay_state", ""), STATUS_INVALID_NAMEID_POLICY,
                                     context)
        auth_info = internal_resp.auth_info
        try:
            class_ref = requirements_of(context).state_level(auth_info.auth_class_ref)
        except LevelNotMet as exc:
            logger.error("response below the level required", extra={"sp": sp,
                                                                      "reason": str(exc)})
            context.state.pop(self.name, None)
            return self._error_to_sp(flow["request_id"], flow["acs"],
                                     flow.get("relay_state", ""), STATUS_NO_AUTHN_CONTEXT,
                                     context)
        service_id = self.sps[sp]["service_id"]
        xml = saml_response.success_response(
            self.server, request_id=flow["request_id"], acs=flow["acs"], sp=sp, name_id=name_id,
            identity=identity, auth_class_ref=class_ref, authn_instant=auth_info.timestamp,
            session_index=service_sid_of(context, service_id),
            encrypt=bool(self.sps[sp].get("encrypt_assertions")))
        self._record_name_id(context, service_id, name_id)
        context.state.pop(self.name, None)
        logger.info("SAML response sent", extra={"sp": sp, "attributes": sorted(identity)})
        return autopost(flow["acs"], self._fields(xml, flow.get("relay_state", "")), context)

    def _record_name_id(self, context: Context, service_id: str, name_id: NameID) -> None:
        """The session's entry for this SP (:class:`SsoServiceUse` noted it just before, in
        this same step) is noted again with the NameID sent, which single logout then names
        in both directions; both go to the store with the flow state, the later one kept."""
        noted = context.get_decoration(NOTED_SERVICE_DECORATION)
        if self.logout is None or not isinstance(noted, dict) \
                or noted.get("service_id") != service_id:
            return  # no SSO session: nothing will log this login out
        sessions = self.logout.sessions
        sessions.note_service(
            noted["sid"], service_id,
            {**noted["entry"], "subject": str(name_id.text), "name_id_format": str(name_id.format)},
            noted["ttl"], write=lambda puts: write_with_flow(context, sessions.store, *puts))

    def handle_backend_error(self, exception: Exception) -> Response:
        """The source refused or failed: the SP gets a signed error Response, on its ACS."""
        state = getattr(exception, "state", None)
        flow = self._flow(state)
        reason = reason_of(exception)
        if reason is not None:
            status = REFUSAL_STATUS[reason]
        else:
            denied = "access_denied" in str(exception)
            status = STATUS_REQUEST_DENIED if denied else STATUS_AUTHN_FAILED
        xml = saml_response.error_response(self.server, request_id=flow["request_id"],
                                           acs=flow["acs"], status_code=status)
        state.pop(self.name, None)
        logger.info("SAML error response sent", extra={"sp": flow["sp"], "status": status})
        return autopost(flow["acs"], self._fields(xml, flow.get("relay_state", "")), None)

    def _error_to_sp(self, request_id: str, acs: str, relay_state: str, status: str,
                     context: Context) -> Response:
        xml = saml_response.error_response(self.server, request_id=request_id, acs=acs,
                                           status_code=status)
        return autopost(acs, self._fields(xml, relay_state), context)

    @staticmethod
    def _fields(xml: str, relay_state: str) -> dict[str, str]:
        fields = {"SAMLResponse": saml_response.encode(xml)}
        if relay_state:
            fields["RelayState"] = relay_state
        return fields


def _same_format(asked: str | None, recorded: Any) -> bool:
    """A LogoutRequest's NameID Format, when it states one, is the one the SP received
    (entries recorded before formats were: persistent)."""
    if asked in (None, NAMEID_FORMAT_UNSPECIFIED):
        return True
    return asked == (recorded or NAMEID_FORMAT_PERSISTENT)
