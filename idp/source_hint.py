"""A service's hint of the identity source to use: OIDC ``idp_hint``, SAML ``<Scoping><IDPList>``.

FranceConnect lets a service that already knows its citizen's account send them straight to
it (``idp_hint``); SAML says the same with the ``ProviderID`` of an ``<IDPEntry>`` in the
AuthnRequest's ``<Scoping><IDPList>``. The frontends read the raw values here, bounded, and
keep them in the flow state; the choice micro-service (:mod:`plugins.micro_services.choix`)
decides what they mean:

* a hint names a source by its partner id (``compte-nc``), or, for a SAML source, by its
  ``entity_id`` (what a SAML service naturally writes in ``ProviderID``);
* when the hints name exactly one source the service accepts and that reaches the level this
  request requires, the choice page is skipped and the citizen goes straight to it;
* anything else — another service's source, an unknown name, a source below the level asked,
  several accepted sources, garbage — is ignored: the page shows as usual. A hint never
  widens what the service may use and never causes an error.

Hostile values are bounded before they are stored: at most :data:`MAX_HINTS` values of at
most :data:`MAX_LENGTH` characters, printable, without spaces; a request carrying more values
than that has its hint ignored entirely.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

#: Flow-state key of the hint (always written by the frontends, so that a hint never
#: outlives its request in a browser's flow).
STATE_KEY = "ncc_indice_source"
MAX_HINTS = 10
MAX_LENGTH = 512


def clean(values: Iterable[Any]) -> tuple[str, ...]:
    """The usable hint values: strings, stripped, bounded, printable; ``()`` when there are
    more than :data:`MAX_HINTS` of them (a list that long is no hint of a service's)."""
    out: list[str] = []
    for count, value in enumerate(values):
        if count >= MAX_HINTS:
            return ()
        if not isinstance(value, str):
            continue
        value = value.strip()
        if not value or len(value) > MAX_LENGTH or not value.isprintable() or " " in value:
            continue
        if value not in out:
            out.append(value)
    return tuple(out)


def record(context: Any, values: Iterable[Any]) -> None:
    """Keep this request's hint in the flow state (frontends, at request time); no hint
    clears any earlier request's."""
    state = getattr(context, "state", None)
    if state is None:
        return
    hints = clean(values)
    if hints:
        state[STATE_KEY] = list(hints)
    elif state.get(STATE_KEY) is not None:
        del state[STATE_KEY]


def take(context: Any) -> tuple[str, ...]:
    """This request's hint values, read once (the choice, when the request reaches it): a hint
    never applies to a later request of the same browser; ``()`` when the request gave none."""
    state = getattr(context, "state", None)
    data = state.pop(STATE_KEY, None) if state is not None else None
    return clean(data) if isinstance(data, list) else ()
