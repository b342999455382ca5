"""Reading an AuthnRequest, from the raw parameters to the facts the frontend acts on.

Order matters: decode with bounds, find the issuer and refuse unknown SPs, check
the signature the SP's metadata demands, let pysaml2 parse and validate the
message (schema, destination, XML signature with metadata keys), then take the
ACS and requested attributes from the metadata. Every refusal is a
:class:`FlowError` (a page of ours): until all checks pass we do not know where
it would be safe to send anything.

``ForceAuthn``, ``IsPassive`` and ``RequestedAuthnContext`` become the request's
:class:`~idp.authn_requirements.Requirements`. The contexts are the eIDAS level URIs;
``Comparison`` ``exact`` (SAML's default) and ``minimum`` ask for one of the listed
levels (``exact`` also limits what the response may state to them), ``better`` for a
level above all of them, ``maximum`` caps what the response states. Any other class
reference, an ``AuthnContextDeclRef``, or ``better`` than ``high`` cannot be met: the
request is answered ``NoAuthnContext`` (``requirements`` is ``None``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass
from xml.etree.ElementTree import Element

from defusedxml.ElementTree import fromstring
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.samlp import AuthnRequest
from saml2.server import Server

from idp import loa, source_hint
from idp.authn_requirements import Requirements
from idp.errors import FlowError
from idp.partners.schema import LOA_LEVELS
from plugins.saml2.inflate import UndecodableMessage, post_message_xml, redirect_message_xml
from plugins.saml2.message_checks import (
    issue_instant_problem,
    repeated_params_problem,
    signature_algorithms_problem,
    tree_signature_algorithms_problem,
)
from plugins.saml2.redirect_signature import verify_redirect_signature

from . import sp_metadata
from .name_id import NameIdPolicy

#: SAML Bindings §3.4.3 / §3.5.3: RelayState MUST NOT exceed 80 bytes.
MAX_RELAY_STATE_BYTES = 80

#: An AuthnRequest is issued when the SP redirects the browser; older ones are refused.

#: The children of an AuthnRequest (SAML Core §3.2.1, §3.4.1), each allowed at most once.
_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SINGLE_CHILDREN = frozenset({
    f"{{{_SAML}}}Issuer", "{http://www.w3.org/2000/09/xmldsig#}Signature",
    f"{{{_SAMLP}}}Extensions", f"{{{_SAML}}}Subject", f"{{{_SAMLP}}}NameIDPolicy",
    f"{{{_SAML}}}Conditions", f"{{{_SAMLP}}}RequestedAuthnContext", f"{{{_SAMLP}}}Scoping"})


@dataclass(frozen=True)
class SSORequest:
    """A verified AuthnRequest, reduced to what the rest of the flow needs."""

    request_id: str
    sp: str
    acs: str
    relay_state: str
    requested_names: list[str] | None  # SAML names, None when the SP declares nothing
    force_authn: bool
    is_passive: bool
    name_id_policy: NameIdPolicy
    #: What the request demands of the authentication; ``None``: an authentication context
    #: NC Connect cannot provide.
    requirements: Requirements | None
    #: ``ProviderID``s of ``<Scoping><IDPList>``: the sources the SP names (a hint,
    #: :mod:`idp.source_hint`; bounded there, never a reason to refuse the request).
    idp_list: tuple[str, ...] = ()


def _refuse(why: str) -> FlowError:
    # ``why`` is ours, never text from the message (hostile, possibly personal).
    return FlowError("requete_invalide", detail=why)


def _decode(binding: str, encoded: str) -> bytes:
    try:
        if binding == BINDING_HTTP_REDIRECT:
            return redirect_message_xml(encoded)
        return post_message_xml(encoded)
    except UndecodableMessage as exc:
        raise _refuse(f"SAMLRequest {exc}") from exc


def _tree(xml: bytes) -> Element:
    """The request parsed once with defusedxml (no entity expansion, no external reference),
    before anything trusts it: the Issuer, the signature algorithms and the repeated children
    are read from this tree; pysaml2 parses it on its own afterwards, and the Issuer it reads
    must be the same."""
    try:
        return fromstring(xml)
    except Exception as exc:  # defusedxml/ElementTree raise many types for hostile XML
        raise _refuse("SAMLRequest is not well-formed XML") from exc


def _issuer(root: Element) -> str:
    """The Issuer, as pysaml2 reads it (the text of the ``saml:Issuer`` child)."""
    if root.tag != f"{{{_SAMLP}}}AuthnRequest":
        raise _refuse("SAMLRequest is not an AuthnRequest")
    issuers = root.findall(f"{{{_SAML}}}Issuer")
    issuer = (issuers[-1].text or "").strip() if issuers else ""
    if not issuer:
        raise _refuse("AuthnRequest without Issuer")
    return issuer


def _check_single_children(root: Element) -> None:
    """pysaml2 keeps the last of two ``NameIDPolicy`` (or ``RequestedAuthnContext``...) where
    the schema allows one, and the SP's software may have meant the first: refused."""
    children = Counter(child.tag for child in root)
    repeated = sorted(tag.rsplit("}", 1)[-1] for tag, n in children.items()
                      if n > 1 and tag in SINGLE_CHILDREN)
    if repeated:
        raise _refuse(f"AuthnRequest repeats {', '.join(repeated)}")


def _parse(server: Server, xml: bytes) -> AuthnRequest:
    try:
        # binding=None: the XML is already decoded; pysaml2 then validates the
        # schema, Destination and any embedded XML signature (metadata keys only).
        parsed = server.parse_authn_request(xml.decode("utf-8"), binding=None)
    except Exception as exc:  # pysaml2 raises many types (signature, schema, version...)
        raise _refuse(f"AuthnRequest rejected by pysaml2 ({type(exc).__name__})") from exc
    if parsed is None or parsed.message is None:
        raise _refuse("AuthnRequest rejected by pysaml2")
    return parsed.message


def _check_redirect_signature(server: Server, sp: str, params: dict[str, str],
                              request_uri: str | None) -> None:
    """Before any further parsing: the query signature, when required or present."""
    if sp_metadata.authn_requests_signed(server.metadata, sp) or "Signature" in params:
        if not verify_redirect_signature(request_uri, params,
                                         sp_metadata.signing_certs(server.metadata, sp)):
            raise _refuse("Redirect-binding signature missing or invalid")


def _check_xml_signature(server: Server, sp: str, binding: str, message: AuthnRequest) -> None:
    """After pysaml2 verified any enveloped signature: required ones present, algorithms pinned."""
    if (binding == BINDING_HTTP_POST and message.signature is None
            and sp_metadata.authn_requests_signed(server.metadata, sp)):
        raise _refuse("SP requires signed requests; this one is not signed")
    problem = signature_algorithms_problem(message) if message.signature is not None else None
    if problem:
        raise _refuse(f"AuthnRequest {problem}")


def read_authn_request(server: Server, known_sps: set[str], binding: str,
                       params: dict[str, str], request_uri: str | None,
                       repeated: frozenset[str] = frozenset()) -> SSORequest:
    """Verify the AuthnRequest in ``params`` (query or form) or raise :class:`FlowError`.
    ``repeated``: the request's parameter names that appeared more than once."""
    problem = repeated_params_problem(repeated)
    if problem:
        raise _refuse(problem)
    encoded = params.get("SAMLRequest") or ""
    if not encoded:
        raise _refuse("no SAMLRequest")
    relay_state = params.get("RelayState", "")
    if len(relay_state.encode("utf-8")) > MAX_RELAY_STATE_BYTES:
        raise _refuse("RelayState longer than 80 bytes")

    xml = _decode(binding, encoded)
    root = _tree(xml)
    sp = _issuer(root)
    if sp not in known_sps:
        raise FlowError("sp_inconnu", detail="AuthnRequest from an unregistered issuer")

    if binding == BINDING_HTTP_REDIRECT:
        _check_redirect_signature(server, sp, params, request_uri)
    problem = tree_signature_algorithms_problem(root)
    if problem:
        raise _refuse(f"AuthnRequest {problem}")
    message = _parse(server, xml)
    _check_single_children(root)
    if (message.issuer.text or "").strip() != sp:
        raise _refuse("Issuer changed between reads")
    _check_xml_signature(server, sp, binding, message)
    problem = issue_instant_problem(message.issue_instant, dt.datetime.now(dt.UTC))
    if problem:
        raise _refuse(f"AuthnRequest {problem}")
    if not message.id:
        raise _refuse("AuthnRequest without ID")

    if message.protocol_binding not in (None, BINDING_HTTP_POST):
        raise _refuse("response binding other than HTTP-POST requested")
    acs = sp_metadata.choose_acs(server.metadata, sp, message.assertion_consumer_service_url,
                                 message.assertion_consumer_service_index)
    if acs is None:
        raise _refuse("AssertionConsumerService not in the SP's metadata")

    force = str(message.force_authn).lower() == "true"
    passive = str(message.is_passive).lower() == "true"
    return SSORequest(
        request_id=message.id,
        sp=sp,
        acs=acs,
        relay_state=relay_state,
        requested_names=sp_metadata.requested_attribute_names(
            server.metadata, sp, message.attribute_consuming_service_index),
        force_authn=force,
        is_passive=passive,
        name_id_policy=_name_id_policy(message),
        requirements=requirements_of_request(message, force, passive),
        idp_list=_idp_list(message),
    )


def _idp_list(message: AuthnRequest) -> tuple[str, ...]:
    """The ``ProviderID``s of the request's ``<Scoping><IDPList>`` (one more than
    :data:`idp.source_hint.MAX_HINTS` at most: a longer list is ignored there)."""
    scoping = getattr(message, "scoping", None)
    idp_list = getattr(scoping, "idp_list", None)
    entries = getattr(idp_list, "idp_entry", None) or []
    if not isinstance(entries, list):
        return ()
    ids = [getattr(e, "provider_id", None) for e in entries[:source_hint.MAX_HINTS + 1]]
    return tuple(x if isinstance(x, str) else "" for x in ids)


def _name_id_policy(message: AuthnRequest) -> NameIdPolicy:
    policy = message.name_id_policy
    if policy is None:
        return NameIdPolicy()
    allow = str(policy.allow_create).strip().lower() if policy.allow_create is not None else None
    return NameIdPolicy(format=(policy.format or "").strip() or None,
                        sp_name_qualifier=(policy.sp_name_qualifier or "").strip() or None,
                        allow_create=None if allow is None else allow in ("true", "1"))


def requirements_of_request(message: AuthnRequest, force: bool,
                            passive: bool) -> Requirements | None:
    base = Requirements(force=force, passive=passive)
    requested = message.requested_authn_context
    if requested is None:
        return base
    if requested.authn_context_decl_ref:
        return None
    refs = [(ref.text or "").strip() for ref in requested.authn_context_class_ref]
    levels = [loa.level_of(ref) for ref in refs if ref in loa.URIS.values()]
    if not refs or len(levels) != len(refs):
        return None
    listed = [x for x in levels if x is not None]
    comparison = requested.comparison or "exact"
    if comparison == "exact":
        asked = loa.lowest(listed)
        return _with_level(base, asked, tuple(x for x in LOA_LEVELS if x in listed))
    if comparison == "minimum":
        return _with_level(base, loa.lowest(listed), LOA_LEVELS)
    if comparison == "better":
        top = loa.rank(loa.highest(listed))
        return None if top + 1 >= len(LOA_LEVELS) else _with_level(base, LOA_LEVELS[top + 1],
                                                                    LOA_LEVELS)
    if comparison == "maximum":
        cap = loa.rank(loa.highest(listed))
        return Requirements(force=force, passive=passive, claimable=LOA_LEVELS[:cap + 1])
    return None


def _with_level(base: Requirements, asked: str, claimable: tuple[str, ...]) -> Requirements:
    return Requirements(force=base.force, passive=base.passive, loa_min=asked, loa_asked=asked,
                        claimable=claimable)
