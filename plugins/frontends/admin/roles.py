"""Portal roles: who may use ``/admin/``, as items of one collection in the shared store.

Each role holder is one item of the collection ``portal-roles`` / ``holders``, keyed by the
holder's NC Connect account key (a pseudonym, never a name), holding the role and dates, with
a TTL of ``portal.role_days``: every sign-in renews it, so a role nobody used for that long
lapses by itself (an access review by default). One collection rather than one record per
key, so that an administrator can list the holders; any worker reads the same items.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from idp.partners.schema import ID_PATTERN
from idp.stores import Store

NAMESPACE = "portal-roles"
#: The collection's owner: every holder is an item of it.
OWNER = "holders"
ADMIN, DPO, PARTNER = "admin", "dpo", "partner"
ROLES = (ADMIN, DPO, PARTNER)
#: Who may use ``/admin/`` (a partner organisation's members use ``/partenaires/``).
STAFF = frozenset((ADMIN, DPO))
#: Who may read the diffusion report.
REPORT_READERS = STAFF


@dataclass(frozen=True)
class RoleHolder:
    account: str
    role: str
    granted_at: int
    #: When the role lapses unless its holder signs in again (epoch seconds).
    expires_at: int
    #: The partner organisation (``organisation_id`` of its partner files): role ``partner``.
    organisation: str | None = None

    def record(self) -> dict:
        return {"role": self.role, "granted_at": self.granted_at,
                "expires_at": self.expires_at,
                **({"organisation": self.organisation} if self.organisation else {})}


class Roles:
    def __init__(self, store: Store, days: int) -> None:
        self.store = store
        self.ttl = int(days) * 86400

    def grant(self, account: str, role: str, organisation: str | None = None) -> RoleHolder:
        """Bind ``role`` to ``account`` (replacing any role it held), for the full lifetime;
        ``partner`` needs its ``organisation``, the other roles have none."""
        check_role(role, organisation)
        now = int(time.time())
        holder = RoleHolder(account, role, now, now + self.ttl, organisation)
        self.store.put_item(NAMESPACE, OWNER, account, holder.record(), self.ttl)
        return holder

    def renew(self, holder: RoleHolder) -> RoleHolder:
        """A sign-in: the role's lifetime starts again (same role, same grant date)."""
        now = int(time.time())
        renewed = RoleHolder(holder.account, holder.role, holder.granted_at, now + self.ttl,
                             holder.organisation)
        self.store.put_item(NAMESPACE, OWNER, holder.account, renewed.record(), self.ttl)
        return renewed

    def of(self, account: str) -> RoleHolder | None:
        return next((h for h in self.holders() if h.account == account), None)

    def holders(self) -> list[RoleHolder]:
        """Every current holder (expired items are not returned by the store), by role then
        expiry."""
        now = time.time()
        found = []
        for account, record in self.store.items(NAMESPACE, OWNER).items():
            holder = _holder(account, record)
            if holder is not None and holder.expires_at > now:
                found.append(holder)
        return sorted(found, key=lambda h: (h.role, h.expires_at, h.account))


def check_role(role: str, organisation: str | None) -> None:
    """``partner`` is bound to one organisation id (a partner id's form); others to none."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: one of {', '.join(ROLES)}")
    if role == PARTNER and (organisation is None or not valid_organisation(organisation)):
        raise ValueError(f"the role partner needs an organisation id matching {ID_PATTERN} "
                         "(lowercase letters, digits, hyphens; a letter first), e.g. "
                         "commune-dumbea")
    if role != PARTNER and organisation is not None:
        raise ValueError(f"the role {role} is not bound to an organisation")


def valid_organisation(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(ID_PATTERN, value) is not None


def _holder(account: str, record: object) -> RoleHolder | None:
    """A holder from a stored item; ``None`` for an item this version cannot read."""
    if not isinstance(record, dict) or record.get("role") not in ROLES:
        return None
    granted, expires = record.get("granted_at"), record.get("expires_at")
    if not isinstance(granted, int) or not isinstance(expires, int):
        return None
    organisation = record.get("organisation")
    if (record["role"] == PARTNER) != valid_organisation(organisation):
        return None
    return RoleHolder(account, record["role"], granted, expires,
                      organisation if record["role"] == PARTNER else None)
