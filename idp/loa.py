"""eIDAS levels of assurance: their names, their URIs, their order, and how sources state them.

The registry gives each identity source the level its authentication reaches
(``loa``) and each service the least it accepts (``loa_min``), by name: ``low``,
``substantial``, ``high``. On the wire the levels are the eIDAS URIs
(``http://eidas.europa.eu/LoA/…``, OIDC ``acr`` and SAML ``AuthnContextClassRef``);
OIDC parties used to FranceConnect also write them ``eidas1`` / ``eidas2`` /
``eidas3``, which we read (requests and sources) and answer in when asked that way.

Anything else — SAML's ``PasswordProtectedTransport``, ``unspecified``, a typo — is
*no level*: a source that states none, or a request that asks for one we do not
know, is never read as "low".
"""

from __future__ import annotations

from collections.abc import Iterable

from idp.errors import FlowError
from idp.partners.schema import LOA_LEVELS

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


def level_reached(source_id: str, declared: str, returned: object) -> str:
    """The level a source's answer reaches, or a refusal.

    The registry is the trust anchor: a source is believed up to the level it is
    registered for, never above (an answer claiming more still counts as
    ``declared``). Below it — or no eIDAS level at all, or a value we cannot read —
    the answer is refused: NC Connect would otherwise vouch for a level the citizen
    did not reach. Demo and production sources must therefore state their level.
    """
    level = level_of(returned)
    if level is None:
        raise FlowError("niveau_insuffisant", 403,
                        f"{source_id}: the answer states no eIDAS level of assurance")
    if not reaches(level, declared):
        raise FlowError("niveau_insuffisant", 403,
                        f"{source_id}: the answer states level {level}, below the "
                        f"registered {declared}")
    return declared
