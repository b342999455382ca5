"""One-time enrolment links: ``ncconnect admin add --role admin|dpo`` prints one.

The link carries a random 256-bit token (``jeton``); the store keeps only the token's SHA-256,
with the role to bind, for the link's lifetime (``portal.invitation_hours`` or ``--hours``).
Opening the link starts a sign-in through NC Connect; at the answer the record is *taken*
(:meth:`idp.stores.Store.take`: atomic, so two browsers — or two workers — can never both
use it) and its role added to the roles of the account key that signed in (the others stay;
a ``partner`` invitation replaces a partner role of another organisation: one organisation per
person, :meth:`.roles.Roles.grant`). A sign-in below the required level leaves it in place:
the person may try again with a stronger account.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from idp.stores import Store

from .roles import PARTNER, check_role, valid_organisation

NAMESPACE = "portal-invitation"
#: Where the link leads, below the proxy's base URL.
PATH = "admin/inscription"
PARAMETER = "jeton"
#: ``secrets.token_urlsafe(32)``: 43 characters of the URL-safe base64 alphabet.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class Invitation:
    token: str
    role: str
    expires_at: int
    #: The partner organisation a ``partner`` invitation binds to.
    organisation: str | None = None

    @property
    def key(self) -> str:
        return invitation_key(self.token)

    def link(self, base_url: str) -> str:
        return f"{base_url}/{PATH}?{urlencode({PARAMETER: self.token})}"


def invitation_key(token: str) -> str:
    """Where an invitation is stored: the SHA-256 of its token (the token is never stored)."""
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def well_formed(token: object) -> bool:
    return isinstance(token, str) and _TOKEN.match(token) is not None


def reference(key: str) -> str:
    """What the audit stream names an invitation by: the start of its store key."""
    return key[:12]


def invite(store: Store, role: str, ttl_seconds: int,
           organisation: str | None = None) -> Invitation:
    """Store a new invitation to ``role`` (of ``organisation``, for ``partner``) for
    ``ttl_seconds``; the caller shows its link."""
    check_role(role, organisation)
    if ttl_seconds < 1:
        raise ValueError("an invitation lives at least one second")
    invitation = Invitation(secrets.token_urlsafe(32), role, int(time.time()) + ttl_seconds,
                            organisation)
    store.put(NAMESPACE, invitation.key,
              {"role": role, "expires_at": invitation.expires_at,
               **({"organisation": organisation} if organisation else {})}, ttl_seconds)
    return invitation


def pending(store: Store, key: str) -> bool:
    """Whether the invitation stored under ``key`` may still be used (not taken, not expired)."""
    return _role(store.get(NAMESPACE, key)) is not None


def redeem(store: Store, key: str) -> tuple[str, str | None] | None:
    """Take the invitation (once, across workers): the role it binds and its organisation
    (``partner``), or ``None`` when it was used or has expired."""
    return _role(store.take(NAMESPACE, key))


def _role(record: object) -> tuple[str, str | None] | None:
    if not isinstance(record, dict):
        return None
    role, organisation = record.get("role"), record.get("organisation")
    try:
        check_role(role, organisation)  # type: ignore[arg-type]
    except ValueError:
        return None
    expires = record.get("expires_at")
    if not isinstance(expires, int) or expires <= time.time():
        return None
    return role, organisation if role == PARTNER and valid_organisation(organisation) else None
