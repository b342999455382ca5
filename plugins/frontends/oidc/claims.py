"""Which identity claims a client asked for, may receive, and in what form.

A client receives the intersection of what it asked for (scopes, and the
``claims`` request parameter of OIDC Core §5.5) and what its partner file
allows. Only names from the ``claims`` parameter are honoured: ``value`` and
``essential`` hints do not change what NC Connect releases.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

#: Bound on the JSON ``claims`` parameter; a legitimate one lists a dozen names.
MAX_CLAIMS_PARAMETER = 4096
_MAX_NAME = 64


@dataclass(frozen=True)
class ClaimsRequest:
    userinfo: frozenset[str]
    id_token: frozenset[str]


def _names(member: Any, where: str) -> frozenset[str]:
    if member is None:
        return frozenset()
    if not isinstance(member, dict):
        raise ValueError(f"claims.{where} must be a JSON object")
    for name, spec in member.items():
        if len(name) > _MAX_NAME:
            raise ValueError(f"claims.{where}: claim name too long")
        if spec is not None and not isinstance(spec, dict):
            raise ValueError(f"claims.{where}: each claim must be null or an object")
    return frozenset(member)


def parse_claims_parameter(raw: str | None) -> ClaimsRequest:
    """Parse the ``claims`` parameter; :class:`ValueError` when it is not the spec's shape."""
    if raw is None:
        return ClaimsRequest(frozenset(), frozenset())
    if len(raw) > MAX_CLAIMS_PARAMETER:
        raise ValueError("claims parameter too long")
    try:
        doc = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise ValueError("claims parameter is not JSON") from exc
    if not isinstance(doc, dict):
        raise ValueError("claims parameter must be a JSON object")
    return ClaimsRequest(_names(doc.get("userinfo"), "userinfo"),
                         _names(doc.get("id_token"), "id_token"))


def scope_claims(scopes: Iterable[str], scope_map: Mapping[str, Iterable[str]]) -> set[str]:
    """Claims carried by the requested scopes; unknown scopes are ignored (RFC 6749 §3.3)."""
    out: set[str] = set()
    for s in scopes:
        out.update(scope_map.get(s, ()))
    return out


def _claim_value(value: Any) -> Any:
    """SATOSA keeps attribute values as lists; OIDC claims are single values when single.
    A structured claim (``address``) arrives as an object of such lists."""
    if isinstance(value, dict):
        members = {k: _claim_value(v) for k, v in value.items() if isinstance(k, str)}
        kept_members = {k: v for k, v in members.items() if v is not None}
        return kept_members or None
    items = value if isinstance(value, list | tuple) else [value]
    kept = [v for v in items if isinstance(v, str | int | float | bool) and v != ""]
    if not kept:
        return None
    return kept[0] if len(kept) == 1 else kept


def release(external: Mapping[str, Any], names: Iterable[str]) -> dict[str, Any]:
    """The claim values for ``names`` out of ``external`` (already in the openid profile)."""
    out: dict[str, Any] = {}
    for name in sorted(set(names)):
        if name in external:
            value = _claim_value(external[name])
            if value is not None:
                out[name] = value
    return out
