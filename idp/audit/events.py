"""Audit events: one call per fact, the same names everywhere (:data:`EVENTS`).

Every event carries the login id and, once the citizen is known, their account key (both
added by the stream's filter from :mod:`idp.correlation`); callers add ids of partners and
attribute *names*, never a value. The general logs never see these lines
(:mod:`.stream`).
"""

from __future__ import annotations

import logging
from typing import Any

AUDIT_LOGGER = "ncconnect.audit"

#: What the audit stream records, and what each event's fields are.
EVENTS = {
    "login_started": "a service asked for a login (service, protocol)",
    "source_chosen": "the login went to an identity source (service, source, by: choice, "
                     "hint, single source, sso)",
    "source_answered": "the source authenticated the citizen (source, loa)",
    "sso_reused": "the login was answered from the citizen's SSO session (service, source, "
                  "loa)",
    "attributes_released": "attributes released and withheld by minimisation (service, "
                           "source, released, withheld: names)",
    "attributes_added": "attributes added from a directory (service, directory, added: names)",
    "directory_unavailable": "a directory could not be asked (service, directory, outcome)",
    "consent_given": "the citizen accepted on the consent or information screen (service, "
                     "released, withheld, remember)",
    "consent_remembered": "a remembered consent covered the login (service, released, "
                          "withheld)",
    "consent_refused": "the citizen refused (service, withheld)",
    "consent_required": "a passive request needed the screen (service)",
    "consent_withdrawn": "the citizen withdrew a remembered consent in Mon espace (service)",
    "release_refused": "the service is unknown to the registry: nothing released",
    "login_completed": "the service received its answer (service, source, loa, path)",
    "login_refused": "the login ended without an answer to the service (service, reason)",
    "session_ended": "an SSO session ended (how: logout, account, replaced; services)",
    "logout_notice": "a service was told of a logout (service, channel, outcome)",
    "invitation_created": "ncconnect admin add stored a one-time enrolment link to the "
                          "administration portal (role, hours, invitation: start of its hash)",
    "role_granted": "an enrolment link added a portal role to the roles of the account key "
                    "that signed in (role, via, invitation, loa; partner: organisation, and "
                    "replaced_organisation when it replaced a partner role of another one)",
    "role_renewed": "a portal role holder signed in: the lifetime of each of their roles "
                    "starts again, one event per role (role, loa; partner: organisation)",
    "role_revoked": "a portal role was revoked before it lapsed, by an administrator from "
                    "/admin/ or by ncconnect admin revoke (role, holder: first 8 characters "
                    "of the account key, via: console or command; partner: organisation)",
    "member_invited": "an administrator created, from /admin/, a one-time enrolment link to "
                      "the role partner of an organisation (role, organisation, hours, "
                      "invitation: start of its hash)",
    "request_submitted": "a partner organisation's member submitted a service request, new or "
                         "edited (organisation, request, kind: new or change, again; a "
                         "change: service, fields changed by name, review needed)",
    "request_saved": "a partner organisation's member saved a request as a draft, unchecked "
                     "(organisation, request, kind, service)",
    "request_changes_requested": "an administrator asked for changes to a service request "
                                 "(organisation, request)",
    "request_rejected": "an administrator rejected a service request (organisation, request)",
    "request_approved": "a service request was approved and its partner file written: by "
                        "an administrator, or at once for a change needing no review "
                        "(organisation, request, kind, service; retried: the approval of a file "
                        "already written, after a store outage)",
    "secret_generated": "a partner's member generated the client secret of an approved "
                        "service, shown once (organisation, request, service)",
    "secret_regenerated": "a partner's member replaced the client secret of their service; "
                          "the previous one works for the overlap (organisation, service, "
                          "overlap_hours)",
    "service_disabled": "an administrator disabled a service from /admin/ (service)",
    "service_enabled": "an administrator enabled a service again from /admin/ (service)",
    "portal_refused": "a sign-in to the administration portal was refused (reason: no_role, "
                      "level, invitation_used_or_expired)",
}

audit = logging.getLogger(AUDIT_LOGGER)


def audit_event(event: str, level: int = logging.INFO, **fields: Any) -> None:
    """Record ``event`` (one of :data:`EVENTS`) with ``fields`` (ids and names only)."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}")
    audit.log(level, event, extra={"event": event, "audit": fields})
