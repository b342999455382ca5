"""Checks on the response pysaml2 has parsed and signature-verified, where it is lenient.

pysaml2 verifies the signatures against the IdP's metadata key (which ones must be
there: :mod:`.signature_policy`) and the time conditions it finds, but accepts a
response without ``Destination``, an assertion without ``AudienceRestriction``, and
does not compare the ``SubjectConfirmationData`` ``Recipient`` with our ACS. Everything a
browser-posted assertion must prove (SAML 2.0 Web Browser SSO profile §4.1.4)
is required here, against the values of *this* login.

The NameID is kept whole (:class:`.source_session.IssuedNameID`) with the
AuthnStatement's ``SessionIndex``: logout at the source sends them back as issued. A
transient NameID is accepted only from a source registered with ``saml2.name_id:
transient`` (the backend then identifies the citizen by the identity pivot).
"""

from __future__ import annotations

import calendar
import hmac
from dataclasses import dataclass
from typing import Any

from saml2.saml import NAMEID_FORMAT_TRANSIENT, SCM_BEARER
from saml2.time_util import str_to_time

from .errors import InvalidSamlResponse
from .source_session import MAX_FIELD, IssuedNameID

MAX_NAME_ID = 256
MAX_ID = 256


@dataclass(frozen=True)
class Expected:
    request_id: str
    acs_url: str
    sp_entity_id: str
    idp_entity_id: str
    now: float
    slack: int
    #: The source's ``saml2.name_id``: ``transient`` accepts transient NameIDs.
    name_id: str = "persistent"


@dataclass(frozen=True)
class VerifiedAssertion:
    assertion_id: str
    name_id: IssuedNameID
    #: The AuthnStatement's ``SessionIndex`` (what the source's logout wants back).
    session_index: str | None
    authn_class_ref: str | None
    authn_instant: str | None
    #: Latest NotOnOrAfter of the assertion (epoch seconds): how long a replay stays possible.
    valid_until: float


def _text(element: Any) -> str | None:
    text = getattr(element, "text", None)
    return text.strip() if isinstance(text, str) else None


def _same(a: str | None, b: str) -> bool:
    return a is not None and hmac.compare_digest(a.encode(), b.encode())


def _epoch(value: str | None, what: str) -> float:
    try:
        return float(calendar.timegm(str_to_time(value)))
    except (TypeError, ValueError) as exc:
        raise InvalidSamlResponse(f"{what} is not a valid time") from exc


def check_envelope(response: Any, exp: Expected) -> None:
    """Response-level fields (covered only by a Response signature, yet always required)."""
    if not _same(response.in_response_to, exp.request_id):
        raise InvalidSamlResponse("InResponseTo is not our request id")
    if not _same(response.destination, exp.acs_url):
        raise InvalidSamlResponse("Destination missing or not our ACS")
    if response.issuer is not None and not _same(_text(response.issuer), exp.idp_entity_id):
        raise InvalidSamlResponse("response Issuer is not the configured IdP")
    if response.signature is not None and response.issuer is None:
        # SAML profiles §4.1.4.2; pysaml2 picks the verification key by this Issuer.
        raise InvalidSamlResponse("signed Response without Issuer")


def check_conditions(assertion: Any, exp: Expected) -> float:
    """AudienceRestriction required and naming us; returns the Conditions' NotOnOrAfter (or 0)."""
    conditions = assertion.conditions
    if conditions is None or not conditions.audience_restriction:
        raise InvalidSamlResponse("assertion without AudienceRestriction")
    for restriction in conditions.audience_restriction:
        audiences = [_text(a) for a in restriction.audience or []]
        if exp.sp_entity_id not in audiences:
            raise InvalidSamlResponse("AudienceRestriction does not name our SP entity id")
    until = 0.0
    if conditions.not_on_or_after:
        until = _epoch(conditions.not_on_or_after, "Conditions NotOnOrAfter")
        if until <= exp.now - exp.slack:
            raise InvalidSamlResponse("assertion expired (Conditions NotOnOrAfter)")
    if conditions.not_before:
        if _epoch(conditions.not_before, "Conditions NotBefore") > exp.now + exp.slack:
            raise InvalidSamlResponse("assertion not yet valid (Conditions NotBefore)")
    return until


def _optional(value: Any, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > MAX_FIELD:
        raise InvalidSamlResponse(f"{what} too long")
    return value


def issued_name_id(name_id: Any, exp: Expected) -> IssuedNameID:
    """The NameID as issued; a transient one only from a source registered as transient."""
    value = _text(name_id)
    if not value or len(value) > MAX_NAME_ID:
        raise InvalidSamlResponse("NameID missing or too long")
    if name_id.format == NAMEID_FORMAT_TRANSIENT and exp.name_id != "transient":
        # A transient NameID changes at every login: services would see a new person each time.
        raise InvalidSamlResponse("transient NameID refused: this source is registered with "
                                  "persistent identifiers (saml2.name_id: transient in its "
                                  "partner file, with the whole identity pivot, to accept it)")
    return IssuedNameID(
        value=value, format=_optional(name_id.format, "NameID Format"),
        name_qualifier=_optional(name_id.name_qualifier, "NameQualifier"),
        sp_name_qualifier=_optional(name_id.sp_name_qualifier, "SPNameQualifier"),
        sp_provided_id=_optional(name_id.sp_provided_id, "SPProvidedID"))


def check_subject(assertion: Any, exp: Expected) -> tuple[IssuedNameID, float]:
    """Bearer confirmation for our ACS and request; returns (NameID, its NotOnOrAfter)."""
    subject = assertion.subject
    if subject is None:
        raise InvalidSamlResponse("assertion without Subject")
    confirmations = subject.subject_confirmation or []
    if not confirmations:
        raise InvalidSamlResponse("assertion without SubjectConfirmation")
    until = 0.0
    for conf in confirmations:
        data = conf.subject_confirmation_data
        if conf.method != SCM_BEARER or data is None:
            raise InvalidSamlResponse("SubjectConfirmation is not bearer")
        if not _same(data.recipient, exp.acs_url):
            raise InvalidSamlResponse("SubjectConfirmationData Recipient is not our ACS")
        if not _same(data.in_response_to, exp.request_id):
            raise InvalidSamlResponse("SubjectConfirmationData InResponseTo is not our request")
        if not data.not_on_or_after:
            raise InvalidSamlResponse("SubjectConfirmationData without NotOnOrAfter")
        nooa = _epoch(data.not_on_or_after, "SubjectConfirmationData NotOnOrAfter")
        if nooa <= exp.now - exp.slack:
            raise InvalidSamlResponse("assertion expired (SubjectConfirmationData)")
        until = max(until, nooa)
    if subject.name_id is None:
        raise InvalidSamlResponse("NameID missing or too long")
    return issued_name_id(subject.name_id, exp), until


def check_assertion(assertion: Any, exp: Expected) -> VerifiedAssertion:
    # Which signature it needs (its own, or the Response's) is :mod:`.signature_policy`'s.
    if assertion is None:
        raise InvalidSamlResponse("assertion missing")
    if not _same(_text(assertion.issuer), exp.idp_entity_id):
        raise InvalidSamlResponse("assertion Issuer is not the configured IdP")
    if not assertion.id or len(assertion.id) > MAX_ID:
        raise InvalidSamlResponse("assertion ID missing or too long")
    conditions_until = check_conditions(assertion, exp)
    name_id, subject_until = check_subject(assertion, exp)
    statements = assertion.authn_statement or []
    if len(statements) != 1:
        raise InvalidSamlResponse("assertion must carry exactly one AuthnStatement")
    context = statements[0].authn_context
    class_ref = _text(context.authn_context_class_ref) if context is not None else None
    return VerifiedAssertion(
        assertion_id=assertion.id, name_id=name_id,
        session_index=_optional(statements[0].session_index, "SessionIndex"),
        authn_class_ref=class_ref,
        authn_instant=statements[0].authn_instant, valid_until=max(conditions_until,
                                                                   subject_until),
    )


def check_verified(response: Any, assertion: Any, exp: Expected) -> VerifiedAssertion:
    check_envelope(response, exp)
    return check_assertion(assertion, exp)
