"""Where an attribute of this login came from, when it is not the identity source.

Enrichment (:mod:`.enrichment`) notes in the flow state, per attribute it added, the
directory and the organisation holding it; ``data.attributes`` carries values only, and the
consent screen (a page of its own, later) and the history read it back from here. Names and
organisations only, never a value.
"""

from __future__ import annotations

from satosa.context import Context

#: Flow-state key: attribute name -> {"directory": id, "organisation": who holds it}.
PROVENANCE_KEY = "ncc_provenance"


def provenance_of(context: Context) -> dict[str, dict[str, str]]:
    """attribute name -> {"directory", "organisation"} for what a directory added to this login."""
    found = context.state.get(PROVENANCE_KEY) if context.state is not None else None
    if not isinstance(found, dict):
        return {}
    return {k: v for k, v in found.items() if isinstance(k, str) and isinstance(v, dict)}
