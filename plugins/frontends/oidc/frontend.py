"""The OIDC provider frontend of NC Connect (SATOSA ``FrontendModule``).

This class only wires SATOSA's contract to the small modules that do the work:
:mod:`.authorize` (request validation), :mod:`.authn_response` (grant from the
source's answer), :mod:`.token`, :mod:`.userinfo`, :mod:`.discovery`,
:mod:`.id_token` and :mod:`.grants` (everything in the shared store), and
:mod:`.end_session` (RP-initiated logout, when single logout is configured).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from satosa.context import Context
from satosa.frontends.base import FrontendModule
from satosa.internal import InternalData
from satosa.response import Response

from idp import source_hint
from idp.app import repeated_params
from idp.authn_requirements import LevelNotMet, record, requirements_of
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
from idp.sso.session import service_sid_of
from idp.stores import open_store

from .authn_response import code_grant
from .authorize import UNMET, PendingAuthorization, validate_authorization_request
from .backchannel import BackchannelLogout
from .discovery import Endpoints, logout_metadata, provider_metadata
from .end_session import EndSession
from .errors import AuthorizationRefused
from .grants import GrantStore
from .id_token import IdTokenSigner, SigningKeys
from .responses import json_response, redirect_to_client
from .settings import FrontendSettings
from .token import TokenEndpoint
from .userinfo import UserinfoEndpoint

logger = logging.getLogger("ncconnect.oidc")

#: Public documents may be cached briefly by relying parties.
PUBLIC_CACHE = [("Cache-Control", "public, max-age=300")]

#: Why a login ended (:mod:`idp.refusals`) -> the OAuth error and its description.
REFUSAL_ERRORS: dict[str | None, tuple[str, str]] = {
    ACCESS_DENIED: ("access_denied", "the user or the identity source refused the login"),
    LOGIN_REQUIRED: ("login_required", "prompt=none: the user has no usable NC Connect session"),
    CONSENT_REQUIRED: ("consent_required", "prompt=none: the user must see the consent screen"),
    LEVEL_UNREACHABLE: (UNMET, "no identity source of this client reaches the level asked"),
    None: ("access_denied", "the identity source did not authenticate the user"),
}


class OIDCFrontend(FrontendModule):
    def __init__(self, auth_req_callback_func: Callable, internal_attributes: dict[str, Any],
                 conf: dict[str, Any], base_url: str, name: str) -> None:
        super().__init__(auth_req_callback_func, internal_attributes, base_url, name)
        self.settings = FrontendSettings.from_dict(conf)
        self.clients = self.settings.clients
        self.grants = GrantStore(open_store(self.settings.store_url), self.settings.lifetimes)
        self.signer = IdTokenSigner(SigningKeys.from_path(self.settings.signing_key_path),
                                    self.settings.issuer, self.settings.lifetimes.id_token)
        self.endpoints = Endpoints(self.settings.issuer, name)
        self.metadata = provider_metadata(self.endpoints, self.settings.scopes)
        self.token_endpoint = TokenEndpoint(self.clients, self.grants, self.signer,
                                            self.settings.lifetimes.access_token)
        self.userinfo_endpoint = UserinfoEndpoint(self.clients, self.grants)
        #: Whether an SSO-session micro-service answers ``prompt=none``; without one no login
        #: can happen without a page, and prompt=none is answered login_required at once.
        self.sso_sessions = bool(conf.get("sso_sessions", False))
        #: Single logout (:mod:`idp.sso.logout`), when the assembly configured it.
        self.end_session: EndSession | None = None
        if conf.get("logout"):
            hub = logout_hub(conf["logout"])
            hub.register_back_channel(BackchannelLogout(conf))
            self.end_session = EndSession(hub, self.clients, self.signer,
                                          self.endpoints.end_session)
            self.metadata |= logout_metadata(self.endpoints)

    def register_endpoints(self, backend_names: list[str]) -> list[tuple[str, Callable]]:
        # The identity source is chosen by a request micro-service, not by the path.
        return [
            (r"^\.well-known/openid-configuration$", self.discovery_endpoint),
            (f"^{self.name}/authorize$", self.authorization_endpoint),
            (f"^{self.name}/token$", self.token_endpoint),
            (f"^{self.name}/userinfo$", self.userinfo_endpoint),
            (f"^{self.name}/jwks$", self.jwks_endpoint),
        ] + ([(f"^{self.name}/logout$", self.end_session)] if self.end_session else [])

    # -- authorization ----------------------------------------------------------

    def authorization_endpoint(self, context: Context) -> Response:
        params = context.request if isinstance(context.request, dict) else {}
        forget_service(context)  # until this request's client is validated
        try:
            client, pending, requirements = validate_authorization_request(
                params, self.clients, self.settings.scopes, repeated_params(context))
        except AuthorizationRefused as refused:
            logger.info("authorization request refused",
                        extra={"error": refused.error, "reason": refused.description})
            return self._refuse(refused.redirect_uri, refused.error, refused.description,
                                refused.state)
        if requirements.passive and not self.sso_sessions:
            return self._refuse(pending.redirect_uri, "login_required",
                                "NC Connect keeps no session: prompt=none cannot succeed",
                                pending.state)
        context.state[self.name] = pending.to_state()
        record(context, requirements)
        # The error pages' way back: the registered redirect URI this request uses, exactly.
        remember_service(context, client.name, pending.redirect_uri)
        # FranceConnect's idp_hint: the source to go straight to, when the choice accepts it
        # (idp.source_hint); prompt=select_account asks for the page, so no hint then.
        hint = params.get("idp_hint")
        prompt = params.get("prompt")
        select = isinstance(prompt, str) and "select_account" in prompt.split()
        source_hint.record(context, [] if select or not isinstance(hint, str) else [hint])
        internal_req = InternalData(
            requester=client.client_id,
            requester_name=[{"lang": "fr", "text": client.name}],
            subject_type="pairwise",
        )
        # What this request asked for (and may have), by dictionary name: minimisation
        # releases nothing else.
        internal_req.attributes = sorted({self.settings.claim_names[c] for c in pending.claims
                                          if c in self.settings.claim_names})
        logger.info("authorization request accepted", extra={"client": client.service_id})
        return self.auth_req_callback_func(context, internal_req)

    def handle_authn_response(self, context: Context, internal_resp: InternalData) -> Response:
        pending = PendingAuthorization.from_state(context.state.get(self.name))
        client = self.clients.get(pending.client_id)
        if client is None or internal_resp.requester != pending.client_id:
            raise FlowError("session_expiree", detail="flow state names another client")
        try:
            grant = code_grant(pending, internal_resp, self.converter, requirements_of(context),
                               sid=service_sid_of(context, client.service_id))
        except LevelNotMet as exc:
            logger.error("response below the level required", extra={
                "client": client.service_id, "reason": str(exc)})
            del context.state[self.name]
            return self._refuse(pending.redirect_uri, UNMET, "the level asked was not reached",
                                pending.state)
        code = self.grants.issue_code(grant, context)
        del context.state[self.name]
        logger.info("authorization code issued", extra={"client": client.service_id})
        return redirect_to_client(pending.redirect_uri,
                                  {"code": code, "state": pending.state,
                                   "iss": self.settings.issuer})

    def handle_backend_error(self, exception: Any) -> Response:
        state = getattr(exception, "state", None)
        pending = PendingAuthorization.from_state(state.get(self.name) if state else None)
        if self.clients.get(pending.client_id) is None:
            raise FlowError("session_expiree", detail="flow state names an unknown client")
        error, description = REFUSAL_ERRORS[reason_of(exception)]
        logger.info("login ended without identity", extra={"error": error})
        return self._refuse(pending.redirect_uri, error, description, pending.state)

    def _refuse(self, redirect_uri: str, error: str, description: str,
                state: str | None) -> Response:
        return redirect_to_client(redirect_uri, {"error": error,
                                                 "error_description": description,
                                                 "state": state, "iss": self.settings.issuer})

    # -- public documents ---------------------------------------------------------

    def discovery_endpoint(self, context: Context) -> Response:
        return json_response(self.metadata, cache=PUBLIC_CACHE)

    def jwks_endpoint(self, context: Context) -> Response:
        return json_response(self.signer.public_jwks(), cache=PUBLIC_CACHE)
