"""Minimisation: a service receives what it may have, asked for, and the source gave — nothing else.

Deny by default, unlike SATOSA's ``AttributePolicy`` which lets an unknown
requester through with everything. Two halves, because SATOSA's micro-services
see either the request or the response:

* :class:`RecordRequestedAttributes` (request side) remembers, in the flow state,
  which dictionary attributes the frontend says this request asked for (OIDC
  scopes and ``claims``, SAML ``RequestedAttribute``);
* :class:`Minimisation` (response side) releases
  ``allowed by the registry ∩ asked in this request ∩ declared by the source`` (or by an
  administration directory, for a service that accepts enrichment),
  and writes the decision to the audit log as attribute *names* only.

A requester absent from the registry, or disabled since the login started,
gets an error page and no attribute.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import RequestMicroService, ResponseMicroService
from satosa.response import Response

from idp.audit.events import audit_event
from idp.errors import FlowError

STATE_KEY = "ncc_demande"


@dataclass(frozen=True)
class Decision:
    released: frozenset[str]
    withheld: frozenset[str]


def decide(allowed: Iterable[str], asked: Iterable[str], provided: Iterable[str],
           present: Iterable[str]) -> Decision:
    """The release rule, on names: ``present`` are the attributes the source actually sent."""
    released = frozenset(allowed) & frozenset(asked) & frozenset(provided) & frozenset(present)
    return Decision(released, frozenset(present) - released)


class RecordRequestedAttributes(RequestMicroService):
    """Keeps what this request asked for, for :class:`Minimisation` to honour later."""

    def process(self, context: Context, data: InternalData) -> Response:
        asked = data.attributes if isinstance(data.attributes, list | tuple) else []
        context.state[STATE_KEY] = {"requester": data.requester,
                                    "asked": sorted({a for a in asked if isinstance(a, str)})}
        return super().process(context, data)


class Minimisation(ResponseMicroService):
    def __init__(self, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: requester (client_id / SP entity id) -> {"service_id", "allowed"}; active services only.
        self.services: dict[str, dict[str, Any]] = dict(config["services"])
        #: source id -> the attributes its partner file declares it provides.
        self.sources: dict[str, list[str]] = dict(config["sources"])
        #: requester -> what administration directories provide to it (enrichment; services
        #: that opted out are absent).
        self.enriched: dict[str, list[str]] = dict(config.get("enriched") or {})

    def process(self, context: Context, data: InternalData) -> Response:
        service = self.services.get(data.requester)
        if service is None:
            audit_event("release_refused")
            raise FlowError("service_non_autorise", 403, "requester not in the registry")
        source = context.target_backend
        if source not in self.sources:
            raise FlowError("erreur_interne", 500, "minimisation: response from no known source")
        recorded = context.state.get(STATE_KEY) if context.state is not None else None
        if not isinstance(recorded, dict) or recorded.get("requester") != data.requester:
            raise FlowError("session_expiree", detail="minimisation: no request on record")
        attributes = data.attributes if isinstance(data.attributes, dict) else {}
        provided = [*self.sources[source], *self.enriched.get(data.requester, ())]
        decision = decide(service["allowed"], recorded.get("asked") or (), provided, attributes)
        data.attributes = {k: v for k, v in attributes.items() if k in decision.released}
        audit_event("attributes_released", service=service["service_id"], source=source,
                    released=sorted(decision.released), withheld=sorted(decision.withheld))
        return super().process(context, data)
