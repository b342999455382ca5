"""SATOSA backend for a SAML 2.0 identity source.

``start_auth`` sends a signed AuthnRequest over HTTP-Redirect and records it as
outstanding in the *shared* store (any worker may receive the answer, and only
one may accept it). The ACS consumes that record once, has pysaml2 verify the
signatures against the IdP's metadata key, then re-checks what pysaml2 leaves
optional (:mod:`.response_checks`) and refuses any assertion ID seen before
(:mod:`.replay`).

The assertion's ``AuthnContextClassRef`` must state at least the eIDAS level the
registry gives this source (``loa``, see :func:`idp.loa.level_reached`): a lower
level, none, or a class that is not an eIDAS level ends the login on our page; the
answer then carries the registered level's URI. (Without ``loa`` in the
configuration — the backend's own protocol tests — the class passes as sent;
``idp.assemble`` always sets it.)

Which signature the answer must carry is the partner file's ``saml2.signature``
(:mod:`.signature_policy`): the assertion's by default, or, for a source that signs only
the Response (Shibboleth IdP, Keycloak), the Response's — enveloped, over the whole
Response, which must then hold its one assertion directly. Assertions may come encrypted
to our SP's encryption key (AES-GCM, RSA-OAEP only, checked before decryption:
:mod:`.encryption`); the assertion inside is then held to the same rule. A source
registered with ``saml2.name_id: transient`` is identified by the identity pivot rather
than its NameID (:mod:`.subject`). The NameID as issued and the ``SessionIndex`` go to
the SSO session for the source's logout (:mod:`.source_session`).
"""

from __future__ import annotations

import base64
import hmac
import logging
import secrets
import time
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.response import AuthnResponse
from saml2.samlp import STATUS_AUTHN_FAILED, STATUS_REQUEST_DENIED
from satosa.backends.base import BackendModule
from satosa.context import Context
from satosa.internal import AuthenticationInformation, InternalData
from satosa.response import Response, SeeOther

from idp import loa
from idp.app import flow_ref, repeated_params, write_with_flow
from idp.authn_requirements import requirements_of
from idp.dictionary.normalise import SourceAttributes
from idp.errors import FlowError
from idp.quoting import quoted
from idp.sso.logout import logout_hub
from idp.sso.session import SOURCE_SESSION_DECORATION
from idp.stores import Put, open_store
from plugins.micro_services.choix import back_to_choice
from plugins.saml2.crypto.context import crypto_of
from plugins.saml2.entity_keys import EntityKeys
from plugins.saml2.message_checks import repeated_params_problem

from .attributes import attributes_by_name
from .authn_request import redirect_request
from .client import make_client
from .encryption import decrypt_once
from .errors import InvalidSamlResponse
from .logout import (
    SamlSourceLogout,
    add_slo_endpoints,
    read_logout_response,
    slo_url,
    unverified_in_response_to,
)
from .metadata import sp_metadata_xml
from .replay import first_use
from .response_checks import Expected, check_verified
from .response_xml import STATUS_SUCCESS, ResponseShape, check_decrypted, decode, inspect
from .signature_policy import Signatures, check_parsed, check_policy, policy_of
from .source_session import record_of
from .sp_config import TIME_SLACK, build_sp_config
from .subject import subject_of

logger = logging.getLogger("ncconnect.backend.saml2")

#: AuthnRequests waiting for their response, keyed by request ID (shared by all workers).
OUTSTANDING_NAMESPACE = "saml-outstanding"
#: Statuses meaning "the usager or the IdP said no": back to the choice of account
#: (:func:`plugins.micro_services.choix.back_to_choice`); the service gets access_denied if the
#: citizen then goes back to it.
REFUSALS = {STATUS_REQUEST_DENIED, STATUS_AUTHN_FAILED}


class SAML2Backend(BackendModule):
    def __init__(self, auth_callback_func, internal_attributes: dict, config: dict[str, Any],
                 base_url: str, name: str) -> None:
        super().__init__(auth_callback_func, internal_attributes, base_url, name)
        self.config = config
        self.source_id: str = config["source_id"]
        self.attributes = SourceAttributes(self.source_id, config["attributes"])
        self.idp_entity_id: str = config["idp_entity_id"]
        self.sp_entity_id: str = config["sp_entity_id"]
        self.acs_url: str = config["acs_url"]
        self.flow_ttl: int = int(config["lifetimes"]["flow"])
        suffix = f"/{name}/saml2/acs"
        if not self.acs_url.endswith(suffix):
            raise ValueError(f"backend {name}: acs_url must end with {suffix}")
        self.sp_config = build_sp_config(config)
        #: Single logout (:mod:`idp.sso.logout`): our SP metadata then publishes a
        #: SingleLogoutService, where the IdP answers our LogoutRequests.
        self.logout = logout_hub(config["logout"]) if config.get("logout") else None
        self.slo_url = slo_url(self.acs_url)
        if self.logout is not None:
            add_slo_endpoints(self.sp_config, self.slo_url)
            self.logout.register_source(name, SamlSourceLogout(config))
        #: Our pysaml2 SP, following the keyring (:mod:`plugins.saml2.entity_keys`): use
        #: :attr:`client`, which rebuilds its keys after a rotation.
        self._client = EntityKeys(make_client(self.sp_config), crypto_of(config),
                                  config["key_path"], decrypts=True)
        self._metadata: tuple[int, str] | None = None
        self.store = open_store(config["store_url"])
        self.loa: str | None = config.get("loa")
        #: ``saml2.name_id`` of the partner file: ``persistent`` (default) or ``transient``.
        self.name_id_policy = str(config.get("name_id") or "persistent")
        #: ``saml2.signature``: ``assertion`` (default) or ``response`` (:mod:`.signature_policy`).
        self.signature_policy = policy_of(config)

    @property
    def client(self) -> Any:
        return self._client.current()

    @property
    def metadata_xml(self) -> str:
        """Our SP metadata, with the keyring's certificates (rebuilt when it changes)."""
        self._client.current()
        if self._metadata is None or self._metadata[0] != self._client.generation:
            self._metadata = (self._client.generation, sp_metadata_xml(self.sp_config))
        return self._metadata[1]

    # -- SATOSA contract -------------------------------------------------------

    def register_endpoints(self) -> list:
        return [
            (f"^{self.name}/saml2/acs$", self.acs),
            (f"^{self.name}/saml2/metadata$", self.metadata),
        ] + ([(f"^{self.name}/saml2/slo$", self.slo)] if self.logout else [])

    def get_metadata_desc(self) -> list:
        return []

    def metadata(self, context: Context) -> Response:
        return Response(self.metadata_xml, content="application/samlmetadata+xml")

    def start_auth(self, context: Context, internal_request: InternalData) -> Response:
        relay_state = secrets.token_urlsafe(32)
        request = redirect_request(self.client, self.idp_entity_id, self.acs_url, relay_state)
        # Stored with the flow state that names the request: one round trip.
        write_with_flow(context, self.store,
                        Put(OUTSTANDING_NAMESPACE, request.request_id,
                            {"flow": flow_ref(context), "source": self.source_id},
                            self.flow_ttl))
        context.state[self.name] = {"request_id": request.request_id, "relay_state": relay_state}
        logger.info("login sent to source", extra={"source": self.source_id})
        return SeeOther(request.location)

    # -- logout at the source ----------------------------------------------------

    def slo(self, context: Context) -> Response:
        """The IdP's LogoutResponse to our LogoutRequest (:mod:`.logout`). One that cannot be
        verified still lets the citizen's logout go on, with this source reported as not
        logged out: NC Connect's own session ended long before."""
        assert self.logout is not None
        binding = BINDING_HTTP_POST if context.request_method == "POST" \
            else BINDING_HTTP_REDIRECT
        params = context.request or {}
        repeated = repeated_params_problem(repeated_params(context))
        try:
            if repeated:
                raise InvalidSamlResponse(repeated)
            answer = read_logout_response(self.client, self.idp_entity_id, binding, params,
                                          context.request_uri, self.slo_url)
        except InvalidSamlResponse as exc:
            logger.warning("source logout answer refused",
                           extra={"source": self.source_id, "reason": str(exc)})
            unverified = unverified_in_response_to(binding, params)
            if unverified is None:
                raise FlowError("deconnexion_invalide",
                                detail=f"{self.source_id}: {exc}") from exc
            return self.logout.source_answered(context, self.source_id, request_id=unverified,
                                               success=False)
        return self.logout.source_answered(context, self.source_id,
                                           request_id=answer.in_response_to,
                                           success=answer.success)

    # -- assertion consumer service ---------------------------------------------

    def acs(self, context: Context) -> Response:
        pending = context.state.get(self.name) if context.state is not None else None
        if not isinstance(pending, dict):
            raise FlowError("session_expiree", detail=f"{self.source_id}: SAML response without "
                            "a pending request")
        if context.request_method != "POST":
            raise FlowError("requete_invalide", detail=f"{self.source_id}: ACS needs HTTP-POST")
        del context.state[self.name]
        repeated = repeated_params_problem(repeated_params(context))
        if repeated:
            raise FlowError("reponse_source_invalide", detail=f"{self.source_id}: {repeated}")
        params = context.request or {}
        relay_state = params.get("RelayState", "")
        if not hmac.compare_digest(relay_state.encode(), pending["relay_state"].encode()):
            raise FlowError("reponse_source_invalide",
                            detail=f"{self.source_id}: RelayState mismatch")
        try:
            xml = decode(params.get("SAMLResponse", ""))
        except InvalidSamlResponse as exc:
            raise FlowError("reponse_source_invalide", detail=f"{self.source_id}: {exc}") from exc
        request_id = pending["request_id"]
        record = self.store.take(OUTSTANDING_NAMESPACE, request_id)
        if record is None:
            raise FlowError("reponse_rejouee", detail=f"{self.source_id}: request already "
                            "answered or expired")
        try:
            if record.get("flow") != flow_ref(context):
                raise InvalidSamlResponse("outstanding request belongs to another flow")
            return self._complete(context, xml, request_id)
        except InvalidSamlResponse as exc:
            raise FlowError("reponse_source_invalide", detail=f"{self.source_id}: {exc}") from exc

    def _complete(self, context: Context, xml: bytes, request_id: str) -> Response:
        shape = inspect(xml)
        if shape.status != STATUS_SUCCESS:
            return self._refusal(context, shape, request_id)
        assertion_signed = shape.assertion_signed
        if shape.encrypted:
            # Opened once here and checked before pysaml2 decrypts anything (:mod:`.encryption`).
            assertion_signed = check_decrypted(decrypt_once(self.client, xml))
        signed = Signatures(response=shape.response_signed, assertion=bool(assertion_signed))
        check_policy(self.signature_policy, signed)
        response = self._verify_signature(xml, request_id)
        # What pysaml2 made of it, decrypted included: the same shape, the same signatures.
        if shape.encrypted and check_decrypted(response.xmlstr) != signed.assertion:
            raise InvalidSamlResponse("decrypted assertion differs from the one checked")
        check_parsed(response.response, response.assertion, signed)
        now = time.time()
        verified = check_verified(response.response, response.assertion, Expected(
            request_id=request_id, acs_url=self.acs_url, sp_entity_id=self.sp_entity_id,
            idp_entity_id=self.idp_entity_id, now=now, slack=TIME_SLACK,
            name_id=self.name_id_policy))
        if not first_use(self.store, verified.assertion_id, verified.valid_until, now,
                         TIME_SLACK, self.flow_ttl):
            raise FlowError("reponse_rejouee", detail=f"{self.source_id}: assertion already used")
        class_ref = verified.authn_class_ref
        if self.loa is not None:
            class_ref = loa.URIS[loa.level_reached(self.source_id, self.loa, class_ref,
                                                       self.config.get("loa_mapping"),
                                                       requirements_of(context).loa_min)]
        auth_info = AuthenticationInformation(class_ref, verified.authn_instant,
                                              self.idp_entity_id)
        internal = InternalData(auth_info=auth_info)
        internal.attributes = self.attributes.to_internal(attributes_by_name(response.assertion))
        internal.subject_id = subject_of(self.source_id, self.name_id_policy, verified.name_id,
                                         internal.attributes)
        context.decorate(SOURCE_SESSION_DECORATION,
                         record_of(verified.name_id, verified.session_index))
        logger.info("source login verified", extra={"source": self.source_id})
        return self.auth_callback_func(context, internal)

    def _verify_signature(self, xml: bytes, request_id: str) -> AuthnResponse:
        try:
            response = self.client.parse_authn_request_response(
                base64.b64encode(xml).decode("ascii"), BINDING_HTTP_POST,
                outstanding={request_id: self.source_id})
        except Exception as exc:  # noqa: BLE001 - pysaml2 signals refusals with bare Exception
            raise InvalidSamlResponse(f"response refused by pysaml2 ({type(exc).__name__})") \
                from exc
        if not isinstance(response, AuthnResponse) or response.assertion is None:
            raise InvalidSamlResponse("response could not be verified")
        return response

    def _refusal(self, context: Context, shape: ResponseShape, request_id: str) -> Response:
        """A non-Success status: ours to honour only if it answers this very request."""
        if shape.in_response_to != request_id or shape.destination != self.acs_url:
            raise InvalidSamlResponse("error status not addressed to this request")
        if shape.issuer is not None and shape.issuer != self.idp_entity_id:
            raise InvalidSamlResponse("error status from another issuer")
        if shape.status in REFUSALS or shape.sub_status in REFUSALS:
            logger.info("source refused the login", extra={"source": self.source_id,
                                                           "status": quoted(shape.sub_status)})
            # The citizen cancelled (or failed) at the source: back to the choice of account,
            # where "Revenir au service" still gives the service access_denied.
            return back_to_choice(context, self.name, self.base_url)
        raise InvalidSamlResponse(f"status {quoted(shape.status)} / {quoted(shape.sub_status)}")
