"""Reading and withdrawing a citizen's consents, as the consent screen records them.

Contract with :mod:`plugins.micro_services.consent`: namespace ``consent``, owner the
citizen's account key, item the service id, value ``{"service_id", "attributes"
(names), "given_at", "expires_at"}`` (ISO 8601, UTC), TTL up to ``expires_at``.
Everything ``/mon-compte`` knows about that format is in this module, so a change
there is a change here only. (The screen adds fields of its own, ``shown`` and
``legal_basis``, which this page does not need.)

Withdrawing deletes the record: the next login at that service finds no consent and
shows the screen again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from idp.stores import Record, Store

NAMESPACE = "consent"


@dataclass(frozen=True)
class Consent:
    service_id: str
    attributes: tuple[str, ...]
    given_at: datetime | None
    expires_at: datetime | None


def consents_of(store: Store, citizen: str) -> list[Consent]:
    """The citizen's unexpired consents, in service-id order."""
    return [_consent(item, value) for item, value in store.items(NAMESPACE, citizen).items()]


def withdraw(store: Store, citizen: str, service_id: str) -> bool:
    """Forget the citizen's consent to ``service_id``; ``False`` when there was none."""
    if not service_id:
        return False
    return store.delete_item(NAMESPACE, citizen, service_id)


def _consent(item: str, value: Record) -> Consent:
    names = value.get("attributes")
    attributes = tuple(n for n in names if isinstance(n, str)) if isinstance(names, list) else ()
    return Consent(service_id=item, attributes=attributes,
                   given_at=parse_instant(value.get("given_at")),
                   expires_at=parse_instant(value.get("expires_at")))


def parse_instant(value: object) -> datetime | None:
    """An ISO 8601 instant (``Z`` or an offset); ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return at if at.tzinfo is not None else None
