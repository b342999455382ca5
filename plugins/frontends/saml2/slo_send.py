"""What our IdP sends for single logout: LogoutRequests to SPs, LogoutResponses back to one.

Built, for the single-logout orchestration (:mod:`idp.sso.logout`), from the SAML
frontend's own configuration: our entity id, key and certificate, and every SP's
registered metadata, whose SingleLogoutService is the only place a message goes.

Front channel only: SAML SPs usually keep their session in the browser's cookie, so a
LogoutRequest reaches them *through the browser* — HTTP-Redirect when the SP offers it
(the query signed RSA-SHA256), else HTTP-POST (enveloped signature). An SP whose
metadata offers neither (SOAP only, or no SingleLogoutService) cannot be told, and the
citizen is told so. Every message is signed; NameID and SessionIndex are exactly those the
SP received at login (the session records the NameID's value and format: a transient or email
NameID is sent back as such, with the qualifiers it carried).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.s_utils import sid as new_message_id
from saml2.saml import NAMEID_FORMAT_ENTITY, Issuer
from saml2.samlp import (
    STATUS_PARTIAL_LOGOUT,
    STATUS_REQUEST_DENIED,
    STATUS_RESPONDER,
    STATUS_SUCCESS,
    LogoutResponse,
    Status,
    StatusCode,
)
from saml2.time_util import instant

from idp.sso.front_channel import Outgoing, origin_of
from plugins.saml2.crypto.context import crypto_of, install
from plugins.saml2.entity_keys import EntityKeys

from . import sp_metadata
from .idp_config import DIGEST_ALG, SIGN_ALG, ProxyIdP, idp_config_dict
from .name_id import name_id_as_sent

#: Browser-carried bindings, in order of preference (a redirect needs no page of ours).
FRONT_BINDINGS = (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST)
#: SAML Core §3.7.1: the principal asked to log out.
REASON_USER = "urn:oasis:names:tc:SAML:2.0:logout:user"


class SamlServiceLogout:
    def __init__(self, conf: Mapping[str, Any], name: str = "saml2") -> None:
        self.entity_id = str(conf["entity_id"])
        # Metadata and keys only: attribute conversion plays no part in logout.
        server = install(ProxyIdP(config=IdPConfig().load(idp_config_dict(dict(conf), name))),
                         crypto_of(conf))
        #: Signs with the keyring's active key (:mod:`plugins.saml2.entity_keys`).
        self._server = EntityKeys(server, crypto_of(conf), str(conf["key_path"]))
        self.by_service = {str(sp["service_id"]): entity for entity, sp in conf["sps"].items()}

    @property
    def server(self) -> ProxyIdP:
        return self._server.current()

    def _endpoints(self, entity_id: str) -> dict[str, dict[str, str]]:
        try:
            return sp_metadata.slo_endpoints(self.server.metadata, entity_id)
        except KeyError:
            return {}

    def _front(self, entity_id: str, prefer: str | None = None) -> tuple[str, dict] | None:
        endpoints = self._endpoints(entity_id)
        order = ([prefer] if prefer in FRONT_BINDINGS else []) + list(FRONT_BINDINGS)
        for binding in order:
            if binding in endpoints:
                return binding, endpoints[binding]
        return None

    def entity_of(self, service_id: str) -> str | None:
        return self.by_service.get(service_id)

    def can_tell(self, service_id: str) -> bool:
        entity = self.entity_of(service_id)
        return entity is not None and self._front(entity) is not None

    def origins(self, service_id: str) -> set[str]:
        """Where single logout may send the browser for this SP (request and response
        locations): a page of ours that starts the journey lists them in its CSP."""
        entity = self.entity_of(service_id)
        found: set[str] = set()
        for binding, endpoint in (self._endpoints(entity) if entity else {}).items():
            if binding in FRONT_BINDINGS:
                found |= {origin_of(endpoint["location"]),
                          origin_of(endpoint["response_location"])}
        return found

    def logout_request(self, service_id: str, name_id: str, session_index: str | None,
                       name_id_format: str | None = None) -> Outgoing:
        """The signed LogoutRequest for one SP of an ended session (``can_tell`` first);
        ``name_id_format`` as recorded at login (``None``: a persistent one, as recorded before
        other formats existed)."""
        entity = self.entity_of(service_id)
        chosen = self._front(entity) if entity else None
        if entity is None or chosen is None:
            raise LookupError(f"SP of service {service_id} has no front-channel logout")
        binding, endpoint = chosen
        destination = endpoint["location"]
        subject = name_id_as_sent(name_id, name_id_format, self.entity_id, entity)
        indexes = [session_index] if session_index else None
        sign_xml = binding == BINDING_HTTP_POST
        request_id, message = self.server.create_logout_request(
            destination, entity, name_id=subject, reason=REASON_USER, sign=sign_xml,
            session_indexes=indexes, sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG)
        return self._carry(binding, destination, str(message), "SAMLRequest", "", request_id)

    def logout_response(self, entity_id: str, in_response_to: str, relay_state: str,
                        prefer: str | None, partial: bool, denied: bool = False
                        ) -> Outgoing | None:
        """The signed LogoutResponse to the SP that asked; ``None`` when its metadata gives no
        front-channel SingleLogoutService to answer on. ``denied``: the citizen chose to stay
        signed in (``Responder/RequestDenied``: nothing was ended)."""
        chosen = self._front(entity_id, prefer)
        if chosen is None:
            return None
        binding, endpoint = chosen
        destination = endpoint["response_location"]
        inner = StatusCode(value=STATUS_REQUEST_DENIED if denied else STATUS_PARTIAL_LOGOUT) \
            if partial or denied else None
        response = LogoutResponse(
            id=new_message_id(), version="2.0", issue_instant=instant(),
            destination=destination, in_response_to=in_response_to,
            issuer=Issuer(text=self.entity_id, format=NAMEID_FORMAT_ENTITY),
            status=Status(status_code=StatusCode(
                value=STATUS_RESPONDER if denied else STATUS_SUCCESS, status_code=inner)))
        text = str(response)
        if binding == BINDING_HTTP_POST:
            text = str(self.server.sign(response, sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG))
        return self._carry(binding, destination, text, "SAMLResponse", relay_state, None)

    def _carry(self, binding: str, destination: str, xml: str, param: str, relay_state: str,
               request_id: str | None) -> Outgoing:
        if binding == BINDING_HTTP_REDIRECT:
            info = self.server.apply_binding(
                BINDING_HTTP_REDIRECT, xml, destination, relay_state,
                response=param == "SAMLResponse", sign=True, sigalg=SIGN_ALG)
            location = dict(info["headers"])["Location"]
            return Outgoing(binding, location, request_id=request_id)
        fields = {param: base64.b64encode(xml.encode("utf-8")).decode("ascii")}
        if relay_state:
            fields["RelayState"] = relay_state
        return Outgoing(binding, destination, fields, request_id)
