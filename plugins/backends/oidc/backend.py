"""SATOSA backend for an OpenID Connect identity source (authorization code flow + PKCE).

``start_auth`` sends the usager to the provider with a fresh ``state``, ``nonce``
and PKCE verifier kept in the flow state (server-side, shared by all workers).
The callback checks ``state``, consumes it once in the shared store, redeems
the code, verifies the ID token (:mod:`.id_token`), reads UserInfo and hands
SATOSA an :class:`InternalData` whose subject is ``<source id>:<sub>``.

The ID token's ``acr`` is read through the source's partner file (``loa`` its ceiling,
``loa_mapping`` its own values and what an answer stating none reaches, see
:func:`idp.loa.level_reached`): a value nobody mapped, or a level below this login's
requirement, ends the login on our page (``niveau_insuffisant``); the answer then carries
the eIDAS URI of the level reached. (Without ``loa`` in the configuration — the backend's
own protocol tests — ``acr`` passes as the source sent it; ``idp.assemble`` always sets it.)

Every call to the source (discovery, JWKS, token, userinfo, logout discovery) verifies its
TLS against the partner file's ``tls_ca_file`` when there is one, the system store
otherwise (:class:`.fetch.Trust`); a failed handshake is ``source_indisponible``, logged
with the source, "TLS" and the store used.
"""

from __future__ import annotations

import datetime as dt
import hmac
import logging
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from satosa.backends.base import BackendModule
from satosa.context import Context
from satosa.exception import SATOSAAuthenticationError
from satosa.internal import AuthenticationInformation, InternalData
from satosa.response import Response, SeeOther

from idp import loa
from idp.app import flow_ref, write_with_flow
from idp.authn_requirements import requirements_of
from idp.dictionary.normalise import SourceAttributes
from idp.errors import FlowError
from idp.sso.logout import logout_hub
from idp.stores import Put, open_store
from plugins.micro_services.choix import back_to_choice

from .discovery import Discovery, ProviderMetadata
from .errors import InvalidSourceResponse, SourceUnavailable
from .fetch import Trust
from .id_token import Expected, verify_id_token
from .jwks import KeySet
from .logout import OidcSourceLogout
from .pkce import new_verifier, s256_challenge
from .token import exchange_code
from .userinfo import fetch_userinfo

logger = logging.getLogger("ncconnect.backend.oidc")

#: One-time marker of a pending authorization request, keyed by its ``state``.
PENDING_NAMESPACE = "oidc-pending"
UNSPECIFIED_ACR = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"
MAX_PARAM = 2048
#: Authorization errors that are the source's trouble, not the usager's answer: they end on
#: our page (retry or choose another account). ``access_denied`` is the citizen's cancel: back
#: to the choice of account (:func:`plugins.micro_services.choix.back_to_choice`). Any other
#: ``error`` (login_required, consent_required...) means "no": the service gets access_denied.
SOURCE_ERRORS_UNAVAILABLE = {"server_error", "temporarily_unavailable"}
SOURCE_ERRORS_MISCONFIGURED = {"invalid_request", "unauthorized_client",
                               "unsupported_response_type", "invalid_scope"}


def _iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class OIDCBackend(BackendModule):
    def __init__(self, auth_callback_func, internal_attributes: dict, config: dict[str, Any],
                 base_url: str, name: str) -> None:
        super().__init__(auth_callback_func, internal_attributes, base_url, name)
        self.config = config
        self.source_id: str = config["source_id"]
        self.attributes = SourceAttributes(self.source_id, config["attributes"])
        self.client_id: str = config["client_id"]
        self.client_secret: str = config["client_secret"]
        self.redirect_uri: str = config["redirect_uri"]
        self.alg: str = config["id_token_signing_alg"]
        self.flow_ttl: int = int(config["lifetimes"]["flow"])
        scope = list(config.get("scope") or [])
        self.scope = " ".join(["openid"] + [s for s in scope if s != "openid"])
        suffix = f"/{name}/oidc/callback"
        if not self.redirect_uri.endswith(suffix):
            raise ValueError(f"backend {name}: redirect_uri must end with {suffix}")
        allow_http = bool(config.get("allow_loopback_http", False))
        #: The source's own CAs (partner file ``tls_ca_file``), for every call made to it.
        self.trust = Trust.of(config, name)
        self.discovery = Discovery(config["issuer"], self.alg, allow_http, trust=self.trust)
        self.keys = KeySet(self.alg, trust=self.trust)
        self.store = open_store(config["store_url"])
        self.loa: str | None = config.get("loa")
        #: Single logout (:mod:`idp.sso.logout`): the source sends the browser back here.
        self.logout = logout_hub(config["logout"]) if config.get("logout") else None
        if self.logout is not None:
            self.logout.register_source(name, OidcSourceLogout(config))

    # -- SATOSA contract -------------------------------------------------------

    def register_endpoints(self) -> list:
        return [(f"^{self.name}/oidc/callback$", self.callback)] + (
            [(f"^{self.name}/oidc/logout$", self.logout_return)] if self.logout else [])

    def get_metadata_desc(self) -> list:
        return []

    def start_auth(self, context: Context, internal_request: InternalData) -> Response:
        meta = self._metadata()
        state, nonce, verifier = (secrets.token_urlsafe(32), secrets.token_urlsafe(32),
                                  new_verifier())
        context.state[self.name] = {"state": state, "nonce": nonce, "verifier": verifier}
        # Stored with the flow state that holds its nonce and verifier: one round trip.
        write_with_flow(context, self.store,
                        Put(PENDING_NAMESPACE, state, {"flow": flow_ref(context)},
                            self.flow_ttl))
        query = urlencode({
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": self.scope, "state": state,
            "nonce": nonce, "code_challenge": s256_challenge(verifier),
            "code_challenge_method": "S256",
        })
        sep = "&" if "?" in meta.authorization_endpoint else "?"
        logger.info("login sent to source", extra={"source": self.source_id})
        return SeeOther(f"{meta.authorization_endpoint}{sep}{query}")

    # -- callback --------------------------------------------------------------

    def callback(self, context: Context) -> Response:
        pending = context.state.get(self.name) if context.state is not None else None
        if not isinstance(pending, dict):
            raise FlowError("session_expiree", detail=f"{self.source_id}: callback without a "
                            "pending request")
        del context.state[self.name]
        params = context.request or {}
        state = params.get("state", "")
        if not hmac.compare_digest(state.encode(), pending["state"].encode()):
            raise FlowError("reponse_source_invalide", detail=f"{self.source_id}: state mismatch")
        # One-time use, across workers, before any network call.
        record = self.store.take(PENDING_NAMESPACE, state)
        if record is None:
            raise FlowError("reponse_rejouee", detail=f"{self.source_id}: callback already used")
        if record.get("flow") != flow_ref(context):
            raise FlowError("reponse_source_invalide",
                            detail=f"{self.source_id}: pending request of another flow")
        try:
            return self._complete(context, params, pending)
        except SourceUnavailable as exc:
            raise FlowError("source_indisponible", 502, f"{self.source_id}: {exc}") from exc
        except InvalidSourceResponse as exc:
            raise FlowError("reponse_source_invalide", detail=f"{self.source_id}: {exc}") from exc

    def _complete(self, context: Context, params: dict[str, str], pending: dict) -> Response:
        meta = self.discovery.metadata()
        iss = params.get("iss")
        if iss is not None or meta.iss_parameter_supported:
            if iss != meta.issuer:
                raise InvalidSourceResponse("authorization response: iss parameter mismatch")
        if "error" in params:
            return self._authorization_error(context, params["error"])
        code = params.get("code", "")
        if not code or len(code) > MAX_PARAM:
            raise InvalidSourceResponse("authorization response: code missing or too long")
        tokens = exchange_code(meta.token_endpoint, code=code, redirect_uri=self.redirect_uri,
                               verifier=pending["verifier"], client_id=self.client_id,
                               client_secret=self.client_secret, trust=self.trust)
        now = time.time()
        id_claims = verify_id_token(tokens.id_token, self.keys, Expected(
            issuer=meta.issuer, client_id=self.client_id, alg=self.alg, nonce=pending["nonce"],
            jwks_uri=meta.jwks_uri, now=now, access_token=tokens.access_token))
        claims = dict(id_claims)
        if meta.userinfo_endpoint:
            claims.update(fetch_userinfo(meta.userinfo_endpoint, tokens.access_token,
                                         id_claims["sub"], self.trust))
        logger.info("source login verified", extra={"source": self.source_id})
        return self.auth_callback_func(context, self._internal(
            meta, id_claims, claims, now, requirements_of(context).loa_min))

    def _authorization_error(self, context: Context, error: str) -> Response:
        label = error if error.isascii() and len(error) < 64 else "?"
        if error in SOURCE_ERRORS_UNAVAILABLE:
            raise SourceUnavailable(f"authorization response: error {label}")
        if error in SOURCE_ERRORS_MISCONFIGURED:
            raise InvalidSourceResponse(f"authorization response: error {label}")
        logger.info("source refused the login", extra={"source": self.source_id,
                                                       "error": label})
        if error == "access_denied":
            # The citizen cancelled at the source: back to the choice of account, where
            # "Revenir au service" still gives the service access_denied.
            return back_to_choice(context, self.name, self.base_url)
        raise SATOSAAuthenticationError(context.state, "access_denied")

    def _internal(self, meta: ProviderMetadata, id_claims: dict[str, Any],
                  claims: dict[str, Any], now: float, required: str) -> InternalData:
        acr = id_claims.get("acr")
        if self.loa is not None:
            acr = loa.URIS[loa.level_reached(self.source_id, self.loa, acr,
                                                 self.config.get("loa_mapping"), required)]
        auth_time = id_claims.get("auth_time")
        when = auth_time if isinstance(auth_time, int) and not isinstance(auth_time, bool) else now
        auth_info = AuthenticationInformation(
            acr if isinstance(acr, str) and acr else UNSPECIFIED_ACR, _iso(when), meta.issuer)
        internal = InternalData(auth_info=auth_info)
        internal.attributes = self.attributes.to_internal(claims)
        internal.subject_id = f"{self.source_id}:{id_claims['sub']}"
        return internal

    # -- logout at the source ----------------------------------------------------

    def logout_return(self, context: Context) -> Response:
        """The source ended its session and sent the browser back (its ``post_logout_redirect_uri``
        is this endpoint; ``state`` names the logout under way, :mod:`.logout`)."""
        assert self.logout is not None
        state = (context.request or {}).get("state", "")
        return self.logout.source_answered(context, self.source_id,
                                           plan_id=state if isinstance(state, str) else "")

    # -- helpers ---------------------------------------------------------------

    def _metadata(self) -> ProviderMetadata:
        # Unusable metadata makes the source as unavailable as a network failure does.
        try:
            return self.discovery.metadata()
        except (SourceUnavailable, InvalidSourceResponse) as exc:
            raise FlowError("source_indisponible", 502, f"{self.source_id}: {exc}") from exc
