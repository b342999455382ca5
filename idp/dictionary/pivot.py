"""The identity pivot: what makes one person the same person whichever source they pick.

Like FranceConnect, a partner's identifier for a citizen is derived from the
pivot (birth name, given names, birth date, sex, birth place and country) when
the source gives it complete, so choosing another source does not make the
citizen a stranger to the service. Two spellings that differ only in case,
accents, hyphens or spacing are the same person; anything else is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .formats import fold
from .model import PIVOT

#: COG code of France: a birth place (commune) is part of the pivot only for people born there.
FRANCE = "99100"


def _single(value: Any) -> str | None:
    items = value if isinstance(value, list | tuple) else [value]
    texts = [v for v in items if isinstance(v, str) and v.strip()]
    return texts[0] if len(texts) == 1 else None


def pivot_key(attributes: Mapping[str, Any]) -> str | None:
    """The canonical pivot of normalised attributes, or None when it is incomplete.

    A birth place is required for people born in France (New Caledonia included)
    and ignored otherwise, as in FranceConnect, where it is empty for births abroad.
    """
    values = {name: _single(attributes.get(name)) for name in PIVOT}
    born_in_france = values["birthcountry"] == FRANCE
    if not born_in_france:
        values["birthplace"] = ""
    if any(v is None for v in values.values()):
        return None
    parts = [fold(values[name] or "") for name in PIVOT]
    return "pivot\x1f" + "\x1f".join(parts)


def subject_basis(attributes: Mapping[str, Any], source_subject: str) -> str:
    """What the pairwise identifier is computed from: the pivot, or the source's own subject
    (``<source id>:<subject at the source>``, as the backends write it)."""
    key = pivot_key(attributes)
    return key if key is not None else f"source\x1f{source_subject}"
