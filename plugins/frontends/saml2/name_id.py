"""Which NameID an SP receives: the format its request asks for, among those its partner file
allows (``saml2.name_id_formats``).

* **persistent**: the citizen's pairwise identifier for this SP (``PairwiseSubject``), the same
  at every login; derived, never stored, so it always exists (``AllowCreate="false"`` is met).
* **transient**: 256 random bits from :mod:`secrets`, new at every login and never reused. The
  SP cannot link two logins through it; single logout still can, because the frontend records
  it in the SSO session's entry for the SP (:meth:`idp.sso.session.SessionStore.
  note_service`), which LogoutRequests in both directions are matched against.
* **email**: the citizen's email address, only when the partner file lists the format (the
  registry allows that only to a service that may receive ``email``) *and* the address is
  among the attributes released to the SP in this login (requested by its metadata, not
  unticked on the consent screen). A format is never a side door to an attribute.

A request without ``NameIDPolicy``, or asking ``unspecified``, gets the first listed format.
``AllowCreate`` never makes a difference: persistent identifiers are derived, the other two
are not "created" identifiers (the SAML 2.0 errata: AllowCreate is not to be used with
transient identifiers). An ``SPNameQualifier`` must be the SP itself: we know no affiliations.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from saml2.saml import (
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
    NameID,
)

#: Partner-file names of the formats -> their SAML URIs.
FORMATS: dict[str, str] = {"persistent": NAMEID_FORMAT_PERSISTENT,
                           "transient": NAMEID_FORMAT_TRANSIENT,
                           "email": NAMEID_FORMAT_EMAILADDRESS}
#: What ``SamlServiceTech.name_id_formats`` defaults to (an SP configured without the field).
DEFAULT_FORMATS = ("persistent", "transient")
#: The dictionary attribute an email NameID carries.
EMAIL_ATTRIBUTE = "email"
#: Random bytes in a transient NameID: 256 bits (SAML Core §8.3.8 and §1.3.4: a chance of
#: collision at most 2^-128, should be 2^-160).
TRANSIENT_BYTES = 32
#: Longest requested format echoed into a log line (the value is the SP's, possibly junk).
MAX_LOGGED_FORMAT = 200


@dataclass(frozen=True)
class NameIdPolicy:
    """The AuthnRequest's ``NameIDPolicy``, as asked (all ``None`` when there is none)."""

    format: str | None = None
    sp_name_qualifier: str | None = None
    allow_create: bool | None = None


class NameIdRefused(Exception):
    """The SP cannot have the NameID it asks for: answered ``InvalidNameIDPolicy``.

    ``why`` and ``asked`` name no personal data: the admin's log line shows them with the
    formats the partner file allows.
    """

    def __init__(self, why: str, asked: str | None) -> None:
        super().__init__(why)
        self.why = why
        self.asked = (asked or "")[:MAX_LOGGED_FORMAT] or None

    def log_extra(self, sp: str, allowed: Sequence[str]) -> dict[str, Any]:
        return {"sp": sp, "asked": self.asked or "(none)", "allowed": list(allowed),
                "reason": self.why}


def allowed_formats(sp_conf: Mapping[str, Any]) -> list[str]:
    """The partner file's formats for this SP, in its order (the first is the default)."""
    listed = [str(f) for f in sp_conf.get("name_id_formats") or DEFAULT_FORMATS]
    unknown = [f for f in listed if f not in FORMATS]
    if unknown:  # the schema refuses them; a hand-built configuration must too
        raise ValueError(f"unknown NameID format(s) {unknown}: known: {sorted(FORMATS)}")
    return listed


def choose_format(policy: NameIdPolicy, sp: str, allowed: Sequence[str],
                  released: Sequence[str]) -> str:
    """The partner-file name of the format to answer with, or raise :class:`NameIdRefused`.

    ``released``: internal names of the attributes this login may release to the SP.
    """
    asked = policy.format
    if asked in (None, "", NAMEID_FORMAT_UNSPECIFIED):
        chosen = allowed[0]
    else:
        matches = [name for name in allowed if FORMATS[name] == asked]
        if not matches:
            raise NameIdRefused("format not allowed by the partner file", asked)
        chosen = matches[0]
    if policy.sp_name_qualifier not in (None, "", sp):
        raise NameIdRefused("SPNameQualifier is not the SP's entity id", asked)
    if chosen == "email" and EMAIL_ATTRIBUTE not in released:
        raise NameIdRefused("email format but email is not released to the SP", asked)
    return chosen


def build_name_id(chosen: str, *, pairwise: str, attributes: Mapping[str, Any], idp: str,
                  sp: str, asked: str | None = None) -> NameID:
    """The NameID for the answer; raises :class:`NameIdRefused` when an email NameID has no
    address to carry (the citizen unticked it, or the source sent none). ``asked``: the
    request's format, for that refusal's log line."""
    if chosen == "persistent":
        return NameID(format=NAMEID_FORMAT_PERSISTENT, text=pairwise, name_qualifier=idp,
                      sp_name_qualifier=sp)
    if chosen == "transient":
        return NameID(format=NAMEID_FORMAT_TRANSIENT, text=new_transient(), name_qualifier=idp,
                      sp_name_qualifier=sp)
    values = attributes.get(EMAIL_ATTRIBUTE)
    first = values[0] if isinstance(values, list) and values else values
    if not isinstance(first, str) or not first.strip():
        raise NameIdRefused("email format but the citizen's email is not released", asked)
    # Qualifiers belong to persistent and transient identifiers (SAML Core §8.3.7, §8.3.8).
    return NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=first.strip())


def new_transient() -> str:
    return secrets.token_urlsafe(TRANSIENT_BYTES)


def name_id_as_sent(value: str, name_id_format: str | None, idp: str, sp: str) -> NameID:
    """The NameID the SP received at login, rebuilt from what the session recorded, for the
    LogoutRequest we send it (SAML Core §3.7.1: the identifier as the SP knows it)."""
    if name_id_format == NAMEID_FORMAT_EMAILADDRESS:
        return NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=value)
    chosen = NAMEID_FORMAT_TRANSIENT if name_id_format == NAMEID_FORMAT_TRANSIENT \
        else NAMEID_FORMAT_PERSISTENT
    return NameID(format=chosen, text=value, name_qualifier=idp, sp_name_qualifier=sp)
