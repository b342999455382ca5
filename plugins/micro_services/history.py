"""Connection history: the citizen's own record of where they signed in, with what, and how.

The citizen reads it in *Mon espace NC Connect* (``/mon-compte``); the RGPD gives them
the right to know which service received which data about them. A response
micro-service, last in the chain (after minimisation and consent), so it sees a login
that actually goes to the service and the attributes actually released.

One entry per successful login, filed under the citizen's account key (see
:func:`plugins.micro_services.pairwise.citizen_of`) in the store's ``history``
collections. An entry holds attribute *names*, never values: the history must not
become a second copy of the citizen's identity. Each entry carries the retention as
its TTL, so the store deletes it by itself when the retention period is over.

The identity source is noted on the request side (:class:`RecordSource`, after the
choice): when a step of the response chain resumes from its own page (the consent
screen), SATOSA's ``target_backend`` no longer names the source that answered.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import RequestMicroService, ResponseMicroService
from satosa.response import Response

from idp import login_trail
from idp.app import write_with_flow
from idp.errors import FlowError
from idp.stores import Put, Record, Store, open_store
from plugins.micro_services.pairwise import citizen_of
from plugins.micro_services.provenance import provenance_of

logger = logging.getLogger("ncconnect.history")

#: Store namespace of the citizens' connection histories (owner: account key).
NAMESPACE = "history"
#: Flow-state key holding the identity source the request was sent to (the application's
#: login trail reads it too).
SOURCE_STATE_KEY = login_trail.SOURCE_STATE_KEY


def entry_id(at: datetime) -> str:
    """Sortable and unique: UTC time to the microsecond, then a random tail for ties."""
    return f"{at.astimezone(UTC):%Y%m%dT%H%M%S%fZ}-{secrets.token_hex(4)}"


def history_entry(at: datetime, service: Mapping[str, str], source_id: str,
                  source: Mapping[str, str], acr: str | None,
                  released: Mapping[str, Any],
                  provenance: Mapping[str, Mapping[str, str]] | None = None) -> Record:
    """What one login leaves in the history: names and levels, no attribute value;
    ``provided_by`` names, per released attribute an administration directory supplied, the
    organisation that holds it (the rest came from the source)."""
    provenance = provenance or {}
    return {
        "at": at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "service_id": service["service_id"],
        "service_name": service["name"],
        "source_id": source_id,
        "source_name": source["name"],
        "loa": source["loa"],
        "acr": acr if isinstance(acr, str) else None,
        "attributes": sorted(str(name) for name in released),
        "provided_by": {str(name): str(provenance[name].get("organisation") or "")
                        for name in sorted(released) if name in provenance},
    }


def history_of(store: Store, citizen: str) -> list[Record]:
    """The citizen's unexpired entries, newest first."""
    return [entry for _, entry in sorted(store.items(NAMESPACE, citizen).items(), reverse=True)]


class RecordSource(RequestMicroService):
    """Notes the chosen source in the flow state; runs after the choice, before the backend."""

    def process(self, context: Context, data: InternalData) -> Response:
        context.state[SOURCE_STATE_KEY] = context.target_backend
        return super().process(context, data)


def source_of(context: Context) -> str | None:
    """The source of this login: the one the request went to, which must be the one that
    answered when the response comes straight from a backend's endpoint."""
    recorded = context.state.get(SOURCE_STATE_KEY) if context.state is not None else None
    answering = context.target_backend
    if isinstance(recorded, str) and isinstance(answering, str) and recorded != answering:
        raise FlowError("erreur_interne", 500, "history: response from another source")
    source = recorded if isinstance(recorded, str) else answering
    return source if isinstance(source, str) else None


class ConnectionHistory(ResponseMicroService):
    """Records every login that reaches this point; ``config`` comes from ``idp.assemble``."""

    def __init__(self, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = open_store(config["store_url"])
        #: Retention, in seconds (``lifetimes.history_days``).
        self.ttl = int(config["ttl"])
        #: requester -> {"service_id", "name"}.
        self.services: dict[str, dict[str, str]] = dict(config["services"])
        #: source id -> {"name", "loa"}.
        self.sources: dict[str, dict[str, str]] = dict(config["sources"])

    def process(self, context: Context, data: InternalData) -> Response:
        service = self.services.get(data.requester)
        if service is None:
            raise FlowError("service_non_autorise", 403, "history: requester not in the registry")
        source_id = source_of(context)
        source = self.sources.get(source_id) if source_id is not None else None
        if source is None:
            raise FlowError("erreur_interne", 500, "history: response from no known source")
        released = data.attributes if isinstance(data.attributes, dict) else {}
        acr = data.auth_info.auth_class_ref if data.auth_info is not None else None
        now = datetime.now(UTC)
        # Written with the flow state (usually its deletion, the login being over): one
        # round trip, and only if the login's response is sent.
        write_with_flow(context, self.store,
                        Put(NAMESPACE, citizen_of(context),
                            history_entry(now, service, source_id, source, acr, released,
                                          provenance_of(context)),
                            self.ttl, item=entry_id(now)))
        logger.info("connection recorded", extra={"service": service["service_id"],
                                                  "source": source_id})
        return super().process(context, data)
