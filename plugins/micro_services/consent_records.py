"""Remembered consent choices ("Se souvenir de mon choix"), filed under the citizen's account.

One record per (citizen, service), an item of the citizen's ``consent`` collection in the
shared store, so it expires on its own date (``remember_days``) without a cleanup job and
``/mon-compte`` can list and withdraw it (:mod:`plugins.frontends.account.consents` reads
the same fields). A record keeps attribute *names* only — never a value:

* ``service_id``; ``given_at`` and ``expires_at`` (ISO 8601, UTC);
* ``attributes``: what the usager let through — the mandatory ones and the optional ones
  left ticked;
* ``shown``: every attribute the screen listed (mandatory and optional), and the
  ``legal_basis`` it was shown under.

A later login is covered by the record — and skips the screen — when it would release
nothing the usager has not seen under the same legal basis, and every attribute it needs
was accepted. Anything new, or a changed basis, asks again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from idp.stores import Store

#: Namespace of the citizens' collections of remembered choices (owner = account key).
CONSENT_NAMESPACE = "consent"

DAY = 86400


@dataclass(frozen=True)
class ConsentRecord:
    service_id: str
    legal_basis: str
    shown: frozenset[str]
    #: Stored as ``attributes``, the name ``/mon-compte`` reads.
    accepted: frozenset[str]
    #: ISO 8601 UTC instants, for the usager's own space; the store's TTL enforces expiry.
    given_at: str
    expires_at: str

    def covers(self, released: Iterable[str], mandatory: Iterable[str], legal_basis: str) -> bool:
        """Whether this login may skip the screen: nothing unseen, nothing needed unaccepted."""
        released, mandatory = frozenset(released), frozenset(mandatory)
        return (legal_basis == self.legal_basis and released <= self.shown
                and (released & mandatory) <= self.accepted)

    def to_dict(self) -> dict[str, Any]:
        return {"service_id": self.service_id, "attributes": sorted(self.accepted),
                "given_at": self.given_at, "expires_at": self.expires_at,
                "shown": sorted(self.shown), "legal_basis": self.legal_basis}

    @classmethod
    def from_dict(cls, data: Any) -> ConsentRecord | None:
        """None for anything that is not a record we wrote: an unreadable record covers nothing."""
        if not isinstance(data, dict):
            return None
        names = (data.get("shown"), data.get("attributes"))
        texts = (data.get("service_id"), data.get("legal_basis"), data.get("given_at"),
                 data.get("expires_at"))
        if not all(isinstance(n, list) and all(isinstance(x, str) for x in n) for n in names) \
                or not all(isinstance(t, str) for t in texts):
            return None
        return cls(data["service_id"], data["legal_basis"], frozenset(data["shown"]),
                   frozenset(data["attributes"]), data["given_at"], data["expires_at"])


def new_record(service_id: str, legal_basis: str, shown: Iterable[str], accepted: Iterable[str],
               days: int, now: dt.datetime | None = None) -> ConsentRecord:
    now = now or dt.datetime.now(dt.UTC)
    until = now + dt.timedelta(days=days)
    return ConsentRecord(service_id, legal_basis, frozenset(shown), frozenset(accepted),
                         now.isoformat(timespec="seconds"), until.isoformat(timespec="seconds"))


def remembered(store: Store, citizen: str, service_id: str) -> ConsentRecord | None:
    """The citizen's unexpired record for this service, if any."""
    return ConsentRecord.from_dict(store.items(CONSENT_NAMESPACE, citizen).get(service_id))


def remember(store: Store, citizen: str, record: ConsentRecord, days: int) -> None:
    store.put_item(CONSENT_NAMESPACE, citizen, record.service_id, record.to_dict(), days * DAY)


def forget(store: Store, citizen: str, service_id: str) -> None:
    store.delete_item(CONSENT_NAMESPACE, citizen, service_id)


def kept(released: Iterable[str], optional: Iterable[str], ticked: Iterable[str]) -> frozenset[str]:
    """What goes to the service: every mandatory attribute, and the optional ones ticked."""
    optional, ticked = frozenset(optional), frozenset(ticked)
    return frozenset(a for a in released if a not in optional or a in ticked)
