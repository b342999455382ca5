"""Portal roles: who may use ``/admin/`` and ``/partenaires/``, as items of one collection in
the shared store.

A person may hold several roles (an administrator who is also a partner organisation's
member, or ``admin`` and ``dpo``). Each role held is one item of the collection
``portal-roles`` / ``holders``, keyed ``<account key>:<role>`` (the account key is the
holder's NC Connect pseudonym, never a name), holding the role and dates, with a TTL of
``portal.role_days``: one item per role so that each has its own lifetime, its own renewal and
can be revoked alone. Every sign-in renews every role of its person, so a role nobody used for
that long lapses by itself (an access review by default). A person holds at most one
``partner`` role: its item key carries no organisation, so binding a second organisation
replaces the first. One collection rather than one record per key, so that an administrator
can list the holders; any worker reads the same items.

Items written before several roles existed are keyed by the bare account key and have no
``account`` field. They are still read (their holder keeps the role after an upgrade), and
rewritten under the new key, with their remaining lifetime, the next time that person signs in
or is granted a role (:meth:`Roles.migrate`).
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from idp.partners.schema import ID_PATTERN
from idp.stores import Store

NAMESPACE = "portal-roles"
#: The collection's owner: every role held is an item of it.
OWNER = "holders"
ADMIN, DPO, PARTNER = "admin", "dpo", "partner"
#: Also the order of precedence: where a space admits several roles a person holds, the
#: first of them is the one the space works with (an ``admin`` who is also ``dpo`` is admin).
ROLES = (ADMIN, DPO, PARTNER)
#: Who may use ``/admin/`` (a partner organisation's members use ``/partenaires/``).
STAFF = frozenset((ADMIN, DPO))
#: Who may read the diffusion report.
REPORT_READERS = STAFF
#: A row reference as a form posts it (:func:`row_reference`).
_REFERENCE = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class RoleHolder:
    account: str
    role: str
    granted_at: int
    #: When the role lapses unless its holder signs in again (epoch seconds).
    expires_at: int
    #: The partner organisation (``organisation_id`` of its partner files): role ``partner``.
    organisation: str | None = None
    #: The store item holding it: ``<account>:<role>``, or the bare account key of an item
    #: written before several roles existed.
    item: str = ""

    @property
    def key(self) -> str:
        """Where this role is stored from now on (whatever :attr:`item` it was read from)."""
        return item_key(self.account, self.role)

    def record(self) -> dict:
        return {"account": self.account, "role": self.role, "granted_at": self.granted_at,
                "expires_at": self.expires_at,
                **({"organisation": self.organisation} if self.organisation else {})}


def item_key(account: str, role: str) -> str:
    return f"{account}:{role}"


def row_reference(item: str) -> str:
    """What a page names a role's store item by: the start of its key's SHA-256. The holders'
    table shows only the start of each account key, and a revocation form must not put the
    whole key in the page either."""
    return hashlib.sha256(item.encode("utf-8")).hexdigest()[:32]


def well_formed_reference(value: object) -> bool:
    """Whether ``value`` can be a :func:`row_reference` (a posted field is checked with this
    before it is looked up among the current holders)."""
    return isinstance(value, str) and _REFERENCE.fullmatch(value) is not None


class Roles:
    def __init__(self, store: Store, days: int) -> None:
        self.store = store
        self.ttl = int(days) * 86400

    def grant(self, account: str, role: str, organisation: str | None = None
              ) -> tuple[RoleHolder, RoleHolder | None]:
        """Add ``role`` to ``account``'s roles (the others stay), for the full lifetime;
        ``partner`` needs its ``organisation``, the other roles have none. What it replaced:
        the same role held before (a ``partner`` role of another organisation, most
        notably), or ``None``."""
        check_role(role, organisation)
        self.migrate(account)
        before = next((h for h in self.roles_of(account) if h.role == role), None)
        now = int(time.time())
        holder = RoleHolder(account, role, now, now + self.ttl, organisation,
                            item_key(account, role))
        self.store.put_item(NAMESPACE, OWNER, holder.item, holder.record(), self.ttl)
        return holder, before

    def renew(self, holder: RoleHolder) -> RoleHolder:
        """A sign-in: the role's lifetime starts again (same role, same grant date)."""
        now = int(time.time())
        renewed = RoleHolder(holder.account, holder.role, holder.granted_at, now + self.ttl,
                             holder.organisation, holder.key)
        self.store.put_item(NAMESPACE, OWNER, renewed.item, renewed.record(), self.ttl)
        if holder.item and holder.item != renewed.item:
            self.store.delete_item(NAMESPACE, OWNER, holder.item)  # a legacy item, moved
        return renewed

    def migrate(self, account: str) -> None:
        """Rewrite ``account``'s items of the single-role format (keyed by the bare account
        key) under their new keys, with the lifetime they had left; a role already held under
        its new key wins."""
        items = self.store.items(NAMESPACE, OWNER)
        for holder in self.holders():
            if holder.account != account or holder.item == holder.key:
                continue
            left = holder.expires_at - int(time.time())
            if holder.key not in items and left > 0:
                self.store.put_item(NAMESPACE, OWNER, holder.key, holder.record(), left)
            self.store.delete_item(NAMESPACE, OWNER, holder.item)

    def by_reference(self, reference: str) -> RoleHolder | None:
        """The current role whose store item :func:`row_reference` names ``reference``."""
        return next((h for h in self.holders() if row_reference(h.item) == reference), None)

    def revoke(self, item: str) -> RoleHolder | None:
        """Delete the role stored as ``item`` (an item key of :meth:`holders`): what it was,
        or ``None`` when no current role is stored there."""
        holder = next((h for h in self.holders() if h.item == item), None)
        if holder is None or not self.store.delete_item(NAMESPACE, OWNER, item):
            return None
        return holder

    def roles_of(self, account: str) -> list[RoleHolder]:
        """Every current role of ``account``, in the order of :data:`ROLES`. One item per role:
        should a legacy item and a new one name the same role, the new one is kept."""
        found: dict[str, RoleHolder] = {}
        for holder in self.holders():
            if holder.account == account and (holder.role not in found
                                               or holder.item == holder.key):
                found[holder.role] = holder
        return sorted(found.values(), key=lambda h: ROLES.index(h.role))

    def in_space(self, account: str, space_roles: Iterable[str]) -> RoleHolder | None:
        """The role with which ``account`` enters a space admitting ``space_roles``: the first
        of its roles there in the order of :data:`ROLES`, or ``None``."""
        admitted = frozenset(space_roles)
        return next((h for h in self.roles_of(account) if h.role in admitted), None)

    def holders(self) -> list[RoleHolder]:
        """Every current role held, one per item (expired items are not returned by the
        store), by role then expiry."""
        now = time.time()
        found = []
        for item, record in self.store.items(NAMESPACE, OWNER).items():
            holder = _holder(item, record)
            if holder is not None and holder.expires_at > now:
                found.append(holder)
        return sorted(found, key=lambda h: (ROLES.index(h.role), h.expires_at, h.account))


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


def _holder(item: str, record: object) -> RoleHolder | None:
    """A holder from a stored item; ``None`` for an item this version cannot read. An item of
    the current format names its account in the record and is keyed ``<account>:<role>``; an
    item without ``account`` is of the single-role format, keyed by the account key."""
    if not isinstance(record, dict) or record.get("role") not in ROLES:
        return None
    granted, expires = record.get("granted_at"), record.get("expires_at")
    if not isinstance(granted, int) or not isinstance(expires, int):
        return None
    organisation = record.get("organisation")
    if (record["role"] == PARTNER) != valid_organisation(organisation):
        return None
    account = record.get("account", item)
    if not isinstance(account, str) or not account or (
            "account" in record and item != item_key(account, record["role"])):
        return None
    return RoleHolder(account, record["role"], granted, expires,
                      organisation if record["role"] == PARTNER else None, item)
