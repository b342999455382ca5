"""Replay cache of accepted assertion IDs, in the shared store: one use, on any worker.

The outstanding request is already consumed once per login; this second lock
holds even if an IdP answers two requests with the same assertion, for as long
as the assertion itself would be accepted.
"""

from __future__ import annotations

from idp.stores import Store

NAMESPACE = "saml-assertion-id"
#: Never keep an ID longer than this, whatever NotOnOrAfter the IdP wrote.
MAX_TTL = 24 * 3600


def first_use(store: Store, assertion_id: str, valid_until: float, now: float, slack: int,
              minimum_ttl: int) -> bool:
    """Record ``assertion_id``; ``False`` when it was already accepted once."""
    ttl = int(min(MAX_TTL, max(minimum_ttl, valid_until - now + slack))) + 1
    return store.add(NAMESPACE, assertion_id, {"seen": int(now)}, ttl)
