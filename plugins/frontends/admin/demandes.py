"""Service requests of partner organisations, in the shared store (never on disk).

A request is one item of the collection ``portal-requests`` / *organisation id*, keyed by a
random id, holding the form as the partner filled it in (strings: what the form shows
again), its status and the administrators' message. It lives one year after its last change
(:data:`TTL`). The administrators' queue is a second collection, ``portal-request-queue`` /
``all``, naming for each request its organisation (no content), so that the queue is read
without knowing the organisations in advance. A member reads and changes only the items of
their own organisation's collection: another organisation's request id finds nothing.

Statuses: ``draft`` (saved unchecked, seen by its organisation only) -> ``submitted`` ->
``changes_requested`` (the partner edits and submits again) | ``rejected`` | ``approved``
(the partner file is written). The client secret of an approved OIDC service is generated
once here (``secret_generated_at``); later ones from the service's page.

Kinds: ``new`` (a service to register) and ``change`` (a proposal for the approved service
``service_id``; applied at once when it needs no review, see
:func:`.formulaire.review_reasons`).
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field, replace
from typing import Any

from idp.stores import Store

NAMESPACE = "portal-requests"
QUEUE_NAMESPACE = "portal-request-queue"
QUEUE_OWNER = "all"
#: One year after the last change.
TTL = 365 * 86400
DRAFT, SUBMITTED, CHANGES_REQUESTED, APPROVED, REJECTED = (
    "draft", "submitted", "changes_requested", "approved", "rejected")
STATUSES = (DRAFT, SUBMITTED, CHANGES_REQUESTED, APPROVED, REJECTED)
#: The statuses in which the partner may still edit the form.
EDITABLE = (DRAFT, CHANGES_REQUESTED)
#: A request for a new service, or a change to an approved one.
NEW, CHANGE = "new", "change"
#: What an administrator may decide on a submitted request.
DECISIONS = {"modifier": CHANGES_REQUESTED, "refuser": REJECTED, "approuver": APPROVED}
_ID = re.compile(r"^[0-9a-f]{16}$")
ID_PATTERN = "[0-9a-f]{16}"


def well_formed(request_id: object) -> bool:
    return isinstance(request_id, str) and _ID.match(request_id) is not None


@dataclass(frozen=True)
class ServiceRequest:
    id: str
    organisation: str
    status: str
    #: The form's fields as typed (see :mod:`.formulaire`).
    form: dict[str, Any]
    created_at: int
    updated_at: int
    #: The administrators' message (changes requested, rejection).
    message: str = ""
    #: The partner id (and OIDC client id) of the approved service.
    service_id: str = ""
    secret_generated_at: int = 0
    history: tuple[dict, ...] = field(default_factory=tuple)
    kind: str = NEW

    def record(self) -> dict[str, Any]:
        return {"organisation": self.organisation, "status": self.status, "form": self.form,
                "created_at": self.created_at, "updated_at": self.updated_at,
                "message": self.message, "service_id": self.service_id,
                "secret_generated_at": self.secret_generated_at,
                "history": list(self.history), "kind": self.kind}


def _from_record(request_id: str, record: object) -> ServiceRequest | None:
    if not isinstance(record, dict) or record.get("status") not in STATUSES \
            or not isinstance(record.get("form"), dict) \
            or record.get("kind", NEW) not in (NEW, CHANGE):
        return None
    try:
        return ServiceRequest(
            request_id, str(record["organisation"]), record["status"], record["form"],
            int(record["created_at"]), int(record["updated_at"]), str(record.get("message", "")),
            str(record.get("service_id", "")), int(record.get("secret_generated_at", 0)),
            tuple(h for h in record.get("history", []) if isinstance(h, dict)),
            record.get("kind", NEW))
    except (KeyError, TypeError, ValueError):
        return None


class Requests:
    def __init__(self, store: Store) -> None:
        self.store = store

    def save(self, request: ServiceRequest) -> ServiceRequest:
        """Two writes, the queue's entry first: should the store fail between them, what is
        left is an entry naming an organisation whose request is not there (the queue reads
        nothing for it), never a submitted request the administrators' queue does not list.
        The partner, shown the "temporarily unavailable" page, submits again."""
        self.store.put_item(QUEUE_NAMESPACE, QUEUE_OWNER, request.id,
                            {"organisation": request.organisation}, TTL)
        self.store.put_item(NAMESPACE, request.organisation, request.id, request.record(), TTL)
        return request

    def submit(self, organisation: str, form: dict[str, Any], status: str = SUBMITTED,
               kind: str = NEW, service_id: str = "") -> ServiceRequest:
        """A new request (``status``: submitted, or a draft); a change names its service."""
        now = int(time.time())
        return self.save(ServiceRequest(secrets.token_hex(8), organisation, status, form,
                                        now, now, service_id=service_id,
                                        history=({"at": now, "status": status},), kind=kind))

    def change(self, request: ServiceRequest, status: str, **fields: Any) -> ServiceRequest:
        now = int(time.time())
        return self.save(replace(request, status=status, updated_at=now,
                                 history=(*request.history, {"at": now, "status": status}),
                                 **fields))

    def mark_secret(self, request: ServiceRequest) -> ServiceRequest:
        return self.save(replace(request, secret_generated_at=int(time.time()),
                                 updated_at=int(time.time())))

    def of(self, organisation: str, request_id: str) -> ServiceRequest | None:
        """The request ``request_id`` *of this organisation*; ``None`` for any other's."""
        if not well_formed(request_id):
            return None
        items = self.store.items(NAMESPACE, organisation)
        found = _from_record(request_id, items.get(request_id))
        return found if found is not None and found.organisation == organisation else None

    def of_organisation(self, organisation: str) -> list[ServiceRequest]:
        found = [_from_record(k, v) for k, v in self.store.items(NAMESPACE, organisation).items()]
        return sorted((r for r in found if r is not None), key=lambda r: -r.updated_at)

    def queue(self, statuses: tuple[str, ...] = (SUBMITTED,)) -> list[ServiceRequest]:
        """Every request in ``statuses``, oldest change first (the administrators' queue)."""
        organisations = {v.get("organisation") for v in
                         self.store.items(QUEUE_NAMESPACE, QUEUE_OWNER).values()
                         if isinstance(v, dict)}
        found = [r for o in organisations if isinstance(o, str)
                 for r in self.of_organisation(o) if r.status in statuses]
        return sorted(found, key=lambda r: r.updated_at)
