"""Logging out at a SAML identity source (SP-initiated Single Logout, NC Connect being the SP).

When the citizen's own session ends, NC Connect sends the IdP a signed LogoutRequest
naming the NameID exactly as the IdP gave it at login (Format, NameQualifier,
SPNameQualifier, SPProvidedID, value) and the assertion's ``SessionIndex`` — what
Lasso-based IdPs (LemonLDAP::NG) match, answering "Unknown principal" to anything
else (:mod:`.source_session`) — through the browser — HTTP-Redirect if the
IdP's metadata offers it, else HTTP-POST — and the IdP answers at our
SingleLogoutService ``<base>/<source>/saml2/slo``, which our SP metadata now
publishes. Sources whose metadata has no SingleLogoutService are not logged out (the
citizen is told).

The answer is checked like everything from a source: the query signature (Redirect)
or the enveloped signature (POST), with the IdP's metadata keys only and pinned
algorithms, then Issuer, Destination and InResponseTo. ``Success`` — also with a
second-level ``PartialLogout`` (the IdP could not reach every other SP of its own
session: ours is over) — counts as logged out; any other status as not logged out.
Either way NC Connect's session ended before, and the logout goes on to its end page.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.samlp import STATUS_PARTIAL_LOGOUT, STATUS_SUCCESS, logout_response_from_string
from saml2.validate import valid_instance
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp.sso.front_channel import Outgoing, origin_of
from plugins.saml2.entity_keys import EntityKeys
from plugins.saml2.inflate import (
    UndecodableMessage,
    post_message_xml,
    redirect_message_xml,
)
from plugins.saml2.redirect_signature import verify_redirect_signature

from .client import make_client
from .errors import InvalidSamlResponse
from .response_xml import ALLOWED_DIGEST_METHODS, ALLOWED_SIGNATURE_METHODS
from .source_session import IssuedNameID, read_record
from .sp_config import build_sp_config

FRONT_BINDINGS = (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST)
REASON_USER = "urn:oasis:names:tc:SAML:2.0:logout:user"


def slo_url(acs_url: str) -> str:
    """``<base>/<source>/saml2/slo``, next to the ACS."""
    return acs_url.removesuffix("/acs") + "/slo"


def add_slo_endpoints(conf: SPConfig, url: str) -> None:
    """Publish our SingleLogoutService (Redirect and POST) in the SP metadata of this source."""
    endpoints = dict(conf.getattr("endpoints", "sp") or {})
    endpoints["single_logout_service"] = [(url, b) for b in FRONT_BINDINGS]
    conf.setattr("sp", "endpoints", endpoints)


def idp_slo(client: Saml2Client, idp: str) -> tuple[str, str] | None:
    """(binding, location) of the IdP's SingleLogoutService we can use, Redirect first."""
    for binding in FRONT_BINDINGS:
        try:
            found = client.metadata.single_logout_service(idp, binding, "idpsso")
        except Exception:  # noqa: BLE001 - pysaml2: UnsupportedBinding, UnknownSystemEntity
            found = None
        if found:
            return binding, found[0]["location"]
    return None


@dataclass(frozen=True)
class SourceAnswer:
    in_response_to: str
    success: bool


class SamlSourceLogout:
    def __init__(self, conf: Mapping[str, Any]) -> None:
        self.source_id = str(conf["source_id"])
        self.idp = str(conf["idp_entity_id"])
        self.sp_entity_id = str(conf["sp_entity_id"])
        sp_config = build_sp_config(dict(conf))
        add_slo_endpoints(sp_config, slo_url(str(conf["acs_url"])))
        #: Signs with the keyring's active key (:mod:`plugins.saml2.entity_keys`).
        self._client = EntityKeys(make_client(sp_config), sp_config.crypto, str(conf["key_path"]),
                                  decrypts=True)
        self.endpoint = idp_slo(self.client, self.idp)

    @property
    def client(self) -> Saml2Client:
        return self._client.current()

    def origin(self) -> str | None:
        return origin_of(self.endpoint[1]) if self.endpoint else None

    def outgoing(self, plan_id: str, subject: str,
                 source_session: Mapping[str, Any] | None = None) -> Outgoing | None:
        """The hop of :class:`idp.sso.logout.SourceLogout`, matched by our request's ID.

        ``source_session``: the NameID and SessionIndex kept at login. A session recorded
        before they were kept has only ``subject`` (``<source>:<NameID>``): the NameID is
        then rebuilt as persistent with the usual qualifiers, without a SessionIndex."""
        recorded = read_record(source_session)
        if recorded is not None:
            return self.logout_request(*recorded)
        prefix = f"{self.source_id}:"
        if not subject.startswith(prefix) or subject.startswith(f"{prefix}pivot:"):
            return None
        return self.logout_request(IssuedNameID(
            value=subject.removeprefix(prefix), format=NAMEID_FORMAT_PERSISTENT,
            name_qualifier=self.idp, sp_name_qualifier=self.sp_entity_id), None)

    def logout_request(self, name_id: IssuedNameID,
                       session_index: str | None) -> Outgoing | None:
        """The signed LogoutRequest for the NameID the IdP gave (and its session); ``None`` if
        it has no SingleLogoutService."""
        if self.endpoint is None:
            return None
        binding, destination = self.endpoint
        sign_xml = binding == BINDING_HTTP_POST
        request_id, message = self.client.create_logout_request(
            destination, self.idp, name_id=name_id.to_name_id(), reason=REASON_USER,
            sign=sign_xml, session_indexes=[session_index] if session_index else None,
            sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        if binding == BINDING_HTTP_REDIRECT:
            info = self.client.apply_binding(binding, str(message), destination, "",
                                             sign=True, sigalg=SIG_RSA_SHA256)
            return Outgoing(binding, dict(info["headers"])["Location"], request_id=request_id)
        encoded = base64.b64encode(str(message).encode("utf-8")).decode("ascii")
        return Outgoing(binding, destination, {"SAMLRequest": encoded}, request_id)


def read_logout_response(client: Saml2Client, idp: str, binding: str, params: dict[str, str],
                         request_uri: str | None, destination: str) -> SourceAnswer:
    """The IdP's verified LogoutResponse; :class:`InvalidSamlResponse` for anything else."""
    encoded = params.get("SAMLResponse") or ""
    try:
        raw = redirect_message_xml(encoded) if binding == BINDING_HTTP_REDIRECT \
            else post_message_xml(encoded)
        xml = raw.decode("utf-8")
    except (UndecodableMessage, UnicodeDecodeError) as exc:
        raise InvalidSamlResponse(f"LogoutResponse undecodable ({exc})") from exc
    if binding == BINDING_HTTP_REDIRECT:
        certs = [cert for _name, cert in client.metadata.certs(idp, "idpsso", "signing")]
        if not verify_redirect_signature(request_uri, params, certs, "SAMLResponse"):
            raise InvalidSamlResponse("LogoutResponse query signature missing or invalid")
        try:
            message = logout_response_from_string(xml)
        except Exception as exc:  # noqa: BLE001 - hostile XML raises many types
            raise InvalidSamlResponse("LogoutResponse is not well-formed") from exc
    else:
        try:
            message = client.sec.correctly_signed_logout_response(xml, must=True)
        except Exception as exc:  # noqa: BLE001 - pysaml2 raises many types
            raise InvalidSamlResponse("LogoutResponse signature missing or invalid") from exc
        info = message.signature.signed_info
        algs = {ref.digest_method.algorithm if ref.digest_method else None
                for ref in info.reference}
        method = info.signature_method.algorithm if info.signature_method else None
        if method not in ALLOWED_SIGNATURE_METHODS or not algs <= ALLOWED_DIGEST_METHODS:
            raise InvalidSamlResponse("LogoutResponse signed with an algorithm we refuse")
    if message is None:
        raise InvalidSamlResponse("not a LogoutResponse")
    try:
        valid_instance(message)
    except Exception as exc:  # noqa: BLE001 - NotValid and friends
        raise InvalidSamlResponse("LogoutResponse not schema-valid") from exc
    issuer = (message.issuer.text or "").strip() if message.issuer is not None else ""
    if issuer != idp or message.destination != destination or not message.in_response_to:
        raise InvalidSamlResponse("LogoutResponse issuer, destination or InResponseTo wrong")
    code = message.status.status_code if message.status is not None else None
    second = code.status_code.value if code is not None and code.status_code else None
    success = code is not None and code.value == STATUS_SUCCESS \
        and second in (None, STATUS_PARTIAL_LOGOUT)
    return SourceAnswer(message.in_response_to, success)


def unverified_in_response_to(binding: str, params: dict[str, str]) -> str | None:
    """The ``InResponseTo`` of an answer that failed verification, to report the source as not
    logged out and carry on; never used to accept anything."""
    try:
        raw = redirect_message_xml(params.get("SAMLResponse") or "") \
            if binding == BINDING_HTTP_REDIRECT else post_message_xml(
                params.get("SAMLResponse") or "")
        message = logout_response_from_string(raw.decode("utf-8"))
    except Exception:  # noqa: BLE001 - hostile input: no answer to match
        return None
    return message.in_response_to if message is not None and message.in_response_to else None
