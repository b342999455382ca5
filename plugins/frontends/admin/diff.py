"""What a request changes in the registry, field by field, for the administrators' review.

The two sides are partner files as YAML data: the service's current file (none for a new
service) and the file the request would write (:func:`.formulaire.proposed_file`). Nested
fields are flattened to dotted names (``oidc.redirect_uris``, ``attributes.email.optional``)
so that one row says one thing. Secret hashes are never shown: they say nothing to a
reviewer and a partner must never see another's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

ADDED, REMOVED, CHANGED = "added", "removed", "changed"


@dataclass(frozen=True)
class DiffRow:
    field: str
    before: str
    after: str
    kind: str


def _flat(data: Any, prefix: str = "") -> dict[str, str]:
    if isinstance(data, dict):
        out: dict[str, str] = {}
        for key, value in data.items():
            if "secret" in str(key):
                continue
            out |= _flat(value, f"{prefix}.{key}" if prefix else str(key))
        return out
    if isinstance(data, list):
        return {prefix: ", ".join(str(x) for x in data)}
    return {prefix: "" if data is None else str(data)}


def registry_diff(current: dict[str, Any] | None, proposed: dict[str, Any]) -> list[DiffRow]:
    """The rows that differ, in the proposed file's order, removed fields last."""
    before, after = _flat(current or {}), _flat(proposed)
    rows = [DiffRow(k, before.get(k, ""), v, CHANGED if k in before else ADDED)
            for k, v in after.items() if before.get(k) != v]
    rows += [DiffRow(k, v, "", REMOVED) for k, v in before.items() if k not in after]
    return rows
