"""eIDAS levels of assurance: their names, their URIs, their order, and how sources state them.

The registry gives each identity source the level its authentication reaches
(``loa``) and each service the least it accepts (``loa_min``), by name: ``low``,
``substantial``, ``high``. On the wire the levels are the eIDAS URIs
(``http://eidas.europa.eu/LoA/…``, OIDC ``acr`` and SAML ``AuthnContextClassRef``);
OIDC parties used to FranceConnect also write them ``eidas1`` / ``eidas2`` /
``eidas3``, which we read (requests and sources) and answer in when asked that way.

Anything else — SAML's ``PasswordProtectedTransport``, LemonLDAP::NG's ``loa-2``, a
typo — is *no level* unless the source's partner file maps it (``loa_mapping``): a
source's value nobody mapped, or a request that asks for a level we do not know, is
never read as "low".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from idp.errors import FlowError
from idp.partners.schema import LOA_LEVELS
from idp.quoting import quoted

LOW, SUBSTANTIAL, HIGH = LOA_LEVELS

#: Level -> eIDAS URI (the only form NC Connect states unless a service asked otherwise).
URIS: dict[str, str] = {level: f"http://eidas.europa.eu/LoA/{level}" for level in LOA_LEVELS}
#: FranceConnect-style OIDC values -> level.
EIDAS_ALIASES: dict[str, str] = {"eidas1": LOW, "eidas2": SUBSTANTIAL, "eidas3": HIGH}
#: How an OIDC service spelled the levels it asked for, so that ``acr`` answers in kind.
STYLE_URI = "uri"
STYLE_EIDAS = "eidas"

_BY_URI = {uri: level for level, uri in URIS.items()}


def rank(level: str) -> int:
    return LOA_LEVELS.index(level)


def reaches(level: str, minimum: str) -> bool:
    """Whether an authentication at ``level`` satisfies a requirement of ``minimum``."""
    return rank(level) >= rank(minimum)


def highest(levels: Iterable[str]) -> str:
    return max(levels, key=rank)


def lowest(levels: Iterable[str]) -> str:
    return min(levels, key=rank)


def level_of(value: object) -> str | None:
    """The level an ``acr`` / ``AuthnContextClassRef`` value names; ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    return _BY_URI.get(value) or EIDAS_ALIASES.get(value)


def style_of(value: str) -> str:
    return STYLE_EIDAS if value in EIDAS_ALIASES else STYLE_URI


def stated(level: str, style: str = STYLE_URI) -> str:
    """How a response states ``level``: the eIDAS URI, or ``eidasN`` for a service that asked so."""
    if style == STYLE_EIDAS:
        return f"eidas{rank(level) + 1}"
    return URIS[level]


def level_reached(source_id: str, ceiling: str, returned: object,
                  mapping: Mapping[str, Any] | None = None, required: str = LOW) -> str:
    """The level a source's answer reaches, or a refusal.

    ``returned`` is what the answer states (OIDC ``acr``, SAML ``AuthnContextClassRef``;
    ``None`` or empty when it states nothing). The source's partner file says what its own
    values mean (``loa_mapping.values``) and what an answer stating nothing reaches
    (``loa_mapping.unstated``); eIDAS URIs and ``eidas1..3`` are understood without a
    mapping. The registered ``loa`` is the ceiling: a source is believed up to it, never
    above (an answer claiming more reaches the ceiling). Lower is the level reached, which
    this login's ``required`` level (the service's minimum, raised by the request) is checked
    against: below it the citizen gets our page saying the level was not reached. A value
    nobody mapped is refused: NC Connect would otherwise vouch for a level it cannot read.
    """
    level = _mapped(source_id, ceiling, returned, mapping)
    if not reaches(level, required):
        raise FlowError("niveau_insuffisant", 403,
                        f"{source_id}: the answer reaches level {level}, this login requires "
                        f"{required}")
    return level


def _mapped(source_id: str, ceiling: str, returned: object,
            mapping: Mapping[str, Any] | None) -> str:
    mapping = mapping or {}
    if returned is None or returned == "":
        level = mapping.get("unstated")
        if level not in LOA_LEVELS:
            raise FlowError("niveau_insuffisant", 403,
                            f"{source_id}: the answer states no level of assurance: set "
                            "loa_mapping.unstated in its partner file if that is expected")
        return lowest([str(level), ceiling])
    values = mapping.get("values") or {}
    level = values.get(returned) if isinstance(returned, str) else None
    if level is None:
        level = level_of(returned)
    if level not in LOA_LEVELS:
        raise FlowError("niveau_insuffisant", 403,
                        f"{source_id}: the answer states level {quoted(returned)}, "
                        "which its partner file does not map: add it to loa_mapping.values")
    return lowest([str(level), ceiling])
