"""Portal roles: who may use ``/admin/``, as items of one collection in the shared store.

Each role holder is one item of the collection ``portal-roles`` / ``holders``, keyed by the
holder's NC Connect account key (a pseudonym, never a name), holding the role and dates, with
a TTL of ``portal.role_days``: every sign-in renews it, so a role nobody used for that long
lapses by itself (an access review by default). One collection rather than one record per
key, so that an administrator can list the holders; any worker reads the same items.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from idp.stores import Store

NAMESPACE = "portal-roles"
#: The collection's owner: every holder is an item of it.
OWNER = "holders"
ADMIN, DPO = "admin", "dpo"
ROLES = (ADMIN, DPO)
#: Who may read the diffusion report.
REPORT_READERS = frozenset(ROLES)


@dataclass(frozen=True)
class RoleHolder:
    account: str
    role: str
    granted_at: int
    #: When the role lapses unless its holder signs in again (epoch seconds).
    expires_at: int


class Roles:
    def __init__(self, store: Store, days: int) -> None:
        self.store = store
        self.ttl = int(days) * 86400

    def grant(self, account: str, role: str) -> RoleHolder:
        """Bind ``role`` to ``account`` (replacing any role it held), for the full lifetime."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        now = int(time.time())
        holder = RoleHolder(account, role, now, now + self.ttl)
        self.store.put_item(NAMESPACE, OWNER, account,
                            {"role": role, "granted_at": holder.granted_at,
                             "expires_at": holder.expires_at}, self.ttl)
        return holder

    def renew(self, holder: RoleHolder) -> RoleHolder:
        """A sign-in: the role's lifetime starts again (same role, same grant date)."""
        now = int(time.time())
        renewed = RoleHolder(holder.account, holder.role, holder.granted_at, now + self.ttl)
        self.store.put_item(NAMESPACE, OWNER, holder.account,
                            {"role": renewed.role, "granted_at": renewed.granted_at,
                             "expires_at": renewed.expires_at}, self.ttl)
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


def _holder(account: str, record: object) -> RoleHolder | None:
    """A holder from a stored item; ``None`` for an item this version cannot read."""
    if not isinstance(record, dict) or record.get("role") not in ROLES:
        return None
    granted, expires = record.get("granted_at"), record.get("expires_at")
    if not isinstance(granted, int) or not isinstance(expires, int):
        return None
    return RoleHolder(account, record["role"], granted, expires)
