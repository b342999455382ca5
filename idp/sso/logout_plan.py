"""A logout under way: what is left to do through the browser, and what has happened.

Ending the proxy session and telling services over the back channel happen in the one
request that starts the logout. What needs the browser — a LogoutRequest to a SAML SP,
the logout at the identity source — happens one hop at a time, and any worker (or
host) may receive the answer to a hop; so the plan lives in the shared store, under a
random id, for ten minutes. The answer to a SAML hop is matched by its
``InResponseTo`` (a one-time link from our request's ID to the plan); the answer of an
OIDC source by its ``state`` (the plan id).

Outcomes are kept as ids (services, sources), never as names or identifiers of the
citizen. A pending SAML hop needs a NameID and a SessionIndex: towards an SP, the ones that
SP received from us (pairwise or transient); towards the source, the ones the source
issued, exactly as it sent them. They go with the plan when it ends (ten minutes at most).
The hops (``steps`` and ``current``, which hold those NameIDs and subjects) are sealed under
the proxy's at-rest key (:mod:`idp.stores.sealing`): any worker must continue the plan, with
or without the citizen's cookie; the outcomes (ids) stay readable.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass, field
from typing import Any

from ..stores import Store
from ..stores.sealing import AtRestKey, Unsealable

NAMESPACE = "sso-logout"
#: A SAML request we sent through the browser (its ID) -> the plan waiting for the answer.
STEP_NAMESPACE = "sso-logout-step"
TTL = 600


@dataclass
class LogoutPlan:
    id: str
    #: How the logout ends: ``{"kind": "page" | "compte" | "oidc" | "saml", ...}``.
    finish: dict[str, Any]
    #: Browser hops still to make, in order (SAML SPs first, the identity source last).
    steps: list[dict[str, Any]] = field(default_factory=list)
    #: The hop under way (with ``request_id`` for SAML), waiting for its answer.
    current: dict[str, Any] | None = None
    #: Service ids told of the logout, not reached, without any logout channel.
    informed: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    untold: list[str] = field(default_factory=list)
    #: Identity source id -> "done" | "failed" | "untold".
    sources: dict[str, str] = field(default_factory=dict)

    @classmethod
    def new(cls, finish: dict[str, Any]) -> LogoutPlan:
        return cls(id=secrets.token_urlsafe(32), finish=finish)

    @property
    def complete(self) -> bool:
        """Every service and source told: nothing to warn the citizen about."""
        return not self.failed and not self.untold and all(
            v == "done" for v in self.sources.values())

    def save(self, store: Store, at_rest: AtRestKey | None = None) -> None:
        record = asdict(self)
        hops = {"steps": record.pop("steps"), "current": record.pop("current")}
        record["sealed"] = (at_rest or AtRestKey.ephemeral()).seal(NAMESPACE, self.id, hops)
        store.put(NAMESPACE, self.id, record, TTL)

    def delete(self, store: Store) -> None:
        store.delete(NAMESPACE, self.id)

    @classmethod
    def load(cls, store: Store, plan_id: str,
             at_rest: AtRestKey | None = None) -> LogoutPlan | None:
        if not plan_id or len(plan_id) > 64:
            return None
        record = store.get(NAMESPACE, plan_id)
        if record is None:
            return None
        try:
            hops = (at_rest or AtRestKey.ephemeral()).unseal(NAMESPACE, plan_id,
                                                             record.pop("sealed", None))
            return cls(**record, steps=list(hops["steps"]), current=hops["current"])
        except (TypeError, KeyError, Unsealable):
            return None  # an older version's plan, or a damaged one: the logout ends here

    def wait_for(self, store: Store, request_id: str) -> None:
        store.put(STEP_NAMESPACE, request_id, {"plan": self.id}, TTL)

    @classmethod
    def answered(cls, store: Store, request_id: str,
                 at_rest: AtRestKey | None = None) -> LogoutPlan | None:
        """The plan a SAML answer belongs to; the link is used once."""
        if not request_id or len(request_id) > 256:
            return None
        link = store.take(STEP_NAMESPACE, request_id)
        plan = cls.load(store, str(link.get("plan", "")), at_rest) if link else None
        if plan is None or not plan.current or plan.current.get("request_id") != request_id:
            return None
        return plan
