"""Reading what an SP sends to our SingleLogoutService: a LogoutRequest or a LogoutResponse.

Defaults closed, in the order :mod:`.sso` follows for AuthnRequests: bounded decoding
(:mod:`.inflate`), the Issuer must be a registered SP, the message must be signed by it
— Redirect binding: the query signature, over the raw query, SHA-1 refused
(:mod:`.redirect_signature`); POST binding: an enveloped signature, verified by pysaml2 with
the SP's metadata keys only, algorithms pinned — then schema, ``Destination`` (our own
endpoint for that binding), ``IssueInstant`` within minutes, and a LogoutRequest's ID
used once across workers (a captured logout link cannot be replayed).

An SP registered with ``logout_requests: unsigned_confirm`` (``unsigned_ok``) may send its
messages unsigned: SimpleSAMLphp SPs have no key by default. Such a message is marked
``signed=False`` and every other check still applies; what an unsigned LogoutRequest may
end, and only after the citizen confirms, is the frontend's decision
(:mod:`.slo_confirm`). A signature that is *there* is always verified: a bad one is refused,
never read as "unsigned" (no downgrade). ``Signature`` or ``SigAlg`` in a Redirect query
count as a signature being there.

Whether the NameID and SessionIndex name a session of that SP is the frontend's
question (:mod:`idp.sso.session` links), not this module's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from saml2 import BINDING_HTTP_REDIRECT
from saml2.samlp import (
    STATUS_PARTIAL_LOGOUT,
    STATUS_SUCCESS,
    logout_request_from_string,
    logout_response_from_string,
)
from saml2.server import Server
from saml2.validate import valid_instance

from idp.errors import FlowError
from idp.stores import Store
from plugins.saml2.inflate import UndecodableMessage, post_message_xml, redirect_message_xml
from plugins.saml2.message_checks import (
    CLOCK_SKEW,
    MAX_AGE,
    issue_instant_problem,
    repeated_params_problem,
    signature_algorithms_problem,
    xml_signature_algorithms_problem,
)
from plugins.saml2.redirect_signature import verify_redirect_signature

from . import sp_metadata
from .sso import MAX_RELAY_STATE_BYTES

#: One-time LogoutRequest IDs (per SP), kept as long as a request is accepted.
SEEN_NAMESPACE = "saml-slo-seen"


@dataclass(frozen=True)
class SloRequest:
    """A verified LogoutRequest: the SP wants the citizen's session ended."""

    sp: str
    request_id: str
    name_id: str
    session_indexes: tuple[str, ...]
    binding: str
    relay_state: str
    #: Its NameID's ``Format`` (``None`` when it states none).
    name_id_format: str | None = None
    #: ``False``: accepted unsigned, from an SP registered ``unsigned_confirm``.
    signed: bool = True


@dataclass(frozen=True)
class SloResponse:
    """A verified LogoutResponse of an SP we sent a LogoutRequest to."""

    sp: str
    in_response_to: str
    success: bool
    binding: str
    signed: bool = True


def _refuse(why: str) -> FlowError:
    return FlowError("deconnexion_invalide", detail=f"SAML logout: {why}")


def _top_status(message: Any) -> tuple[str | None, str | None]:
    code = message.status.status_code if message.status is not None else None
    if code is None:
        return None, None
    second = code.status_code.value if code.status_code is not None else None
    return code.value, second


def _check_xml_signature(server: Server, xml: str, kind: str) -> Any:
    """POST binding: a signature must be there, verify with the issuer's metadata keys,
    and use algorithms we accept."""
    problem = xml_signature_algorithms_problem(xml)
    if problem:
        raise _refuse(f"{kind} {problem}")
    check = getattr(server.sec, f"correctly_signed_{kind}")
    try:
        message = check(xml, must=True)
    except Exception as exc:  # noqa: BLE001 - pysaml2 raises many types for a bad signature
        raise _refuse(f"{kind} signature missing or invalid ({type(exc).__name__})") from exc
    problem = signature_algorithms_problem(message)
    if problem:
        raise _refuse(f"{kind} {problem}")
    return message


def _unsigned_xml(xml: str, kind: str) -> Any | None:
    """POST binding: the message when it carries no enveloped signature, else ``None``."""
    reader = logout_request_from_string if kind == "logout_request" \
        else logout_response_from_string
    message = reader(xml)
    return message if message is not None and message.signature is None else None


def _verified(server: Server, sp: str, binding: str, params: dict[str, str],
              request_uri: str | None, xml: str, kind: str,
              unsigned_ok: bool) -> tuple[Any, bool]:
    """(the message, whether it was signed); a signature that is there must verify."""
    param = "SAMLRequest" if kind == "logout_request" else "SAMLResponse"
    query_signed = "Signature" in params or "SigAlg" in params
    if binding == BINDING_HTTP_REDIRECT and (query_signed or not unsigned_ok):
        certs = sp_metadata.signing_certs(server.metadata, sp)
        if not verify_redirect_signature(request_uri, params, certs, param):
            raise _refuse("Redirect-binding signature missing or invalid")
        reader = logout_request_from_string if kind == "logout_request" \
            else logout_response_from_string
        return reader(xml), True
    if unsigned_ok:
        bare = _unsigned_xml(xml, kind)
        if bare is not None:
            return bare, False
    # POST binding, or an enveloped signature in a Redirect message (Bindings §3.4.4.1 says
    # to strip it; being there, it is the signature that must verify).
    return _check_xml_signature(server, xml, kind), True


def _decode(binding: str, encoded: str) -> str:
    try:
        raw = redirect_message_xml(encoded) if binding == BINDING_HTTP_REDIRECT \
            else post_message_xml(encoded)
        return raw.decode("utf-8")
    except (UndecodableMessage, UnicodeDecodeError) as exc:
        raise _refuse(f"message undecodable ({exc})") from exc


def _issuer(xml: str, kind: str) -> str:
    reader = logout_request_from_string if kind == "logout_request" \
        else logout_response_from_string
    try:
        message = reader(xml)
    except Exception as exc:  # noqa: BLE001 - defusedxml/ElementTree raise many types
        raise _refuse("message is not well-formed XML") from exc
    if message is None:
        raise _refuse(f"not a {kind}")
    issuer = (message.issuer.text or "").strip() if message.issuer is not None else ""
    if not issuer:
        raise _refuse("message without Issuer")
    return issuer


def read_slo_message(server: Server, known_sps: set[str], binding: str,
                     params: dict[str, str], request_uri: str | None, destination: str,
                     seen: Store, unsigned_ok: frozenset[str] = frozenset(),
                     repeated: frozenset[str] = frozenset()) -> SloRequest | SloResponse:
    """Verify what arrived at our SingleLogoutService, or raise :class:`FlowError`.
    ``unsigned_ok``: the SPs that may send unsigned messages; ``repeated``: the request's
    parameter names that appeared more than once."""
    problem = repeated_params_problem(repeated)
    if problem:
        raise _refuse(problem)
    kinds = [k for k in ("SAMLRequest", "SAMLResponse") if params.get(k)]
    if len(kinds) != 1:
        raise _refuse("need exactly one of SAMLRequest and SAMLResponse")
    param = kinds[0]
    kind = "logout_request" if param == "SAMLRequest" else "logout_response"
    relay_state = params.get("RelayState", "")
    if len(relay_state.encode("utf-8")) > MAX_RELAY_STATE_BYTES:
        raise _refuse("RelayState longer than 80 bytes")
    xml = _decode(binding, params[param])
    sp = _issuer(xml, kind)
    if sp not in known_sps:
        raise FlowError("sp_inconnu", detail="SAML logout message from an unregistered issuer")

    message, signed = _verified(server, sp, binding, params, request_uri, xml, kind,
                                sp in unsigned_ok)
    try:
        valid_instance(message)
    except Exception as exc:  # noqa: BLE001 - pysaml2's NotValid and friends
        raise _refuse(f"{kind} not valid against the schema") from exc
    if (message.issuer.text or "").strip() != sp:
        raise _refuse("Issuer changed between reads")
    if message.destination != destination:
        raise _refuse("Destination missing or not this endpoint")
    now = dt.datetime.now(dt.UTC)
    problem = issue_instant_problem(message.issue_instant, now)
    if problem:
        raise _refuse(f"{kind} {problem}")
    if not message.id:
        raise _refuse("message without ID")

    if kind == "logout_response":
        if not message.in_response_to:
            raise _refuse("LogoutResponse without InResponseTo")
        top, second = _top_status(message)
        return SloResponse(sp=sp, in_response_to=message.in_response_to, binding=binding,
                           success=top == STATUS_SUCCESS and second in (None,
                                                                        STATUS_PARTIAL_LOGOUT),
                           signed=signed)
    if message.not_on_or_after:
        try:
            until = dt.datetime.fromisoformat(message.not_on_or_after)
        except ValueError as exc:
            raise _refuse("NotOnOrAfter unreadable") from exc
        if (until if until.tzinfo else until.replace(tzinfo=dt.UTC)) <= now - CLOCK_SKEW:
            raise _refuse("LogoutRequest expired (NotOnOrAfter)")
    name_id = (message.name_id.text or "").strip() if message.name_id is not None else ""
    if not name_id:
        raise _refuse("LogoutRequest without a NameID (encrypted identifiers are not accepted)")
    if not seen.add(SEEN_NAMESPACE, f"{sp}\x1f{message.id}"[:512], {"at": now.isoformat()},
                    int((MAX_AGE + 2 * CLOCK_SKEW).total_seconds())):
        raise _refuse("LogoutRequest already received (replay)")
    indexes = tuple((si.text or "").strip() for si in message.session_index if si.text)
    name_id_format = (message.name_id.format or "").strip() or None
    return SloRequest(sp=sp, request_id=message.id, name_id=name_id, session_indexes=indexes,
                      binding=binding, relay_state=relay_state, name_id_format=name_id_format,
                      signed=signed)
