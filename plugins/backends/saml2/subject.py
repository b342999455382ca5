"""The subject the backend hands to the response chain: the NameID, or the identity pivot.

With a persistent NameID the subject is ``<source id>:<NameID>``, as for every source.
A source registered with ``saml2.name_id: transient`` (many Shibboleth and eIDAS
deployments) gives a new NameID at each login: nothing that lasts — pairwise
identifiers, the citizen's account key, hence consents, history and sessions in *Mon
espace* — may be derived from it. Such a login is identified by the identity pivot
(:mod:`idp.dictionary.pivot`), as :class:`~plugins.micro_services.pairwise.
PairwiseSubject` does whenever the pivot is complete; an answer without the whole
pivot, after normalisation, cannot identify anyone and is refused, naming the missing
attribute names (never values). The subject is then ``<source id>:pivot:<digest of the
pivot>``: stable, and holding no transient value, should anything ever fall back to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from idp.dictionary.model import PIVOT
from idp.dictionary.pivot import FRANCE, pivot_key
from idp.errors import FlowError

from .source_session import IssuedNameID

TRANSIENT = "transient"


def _single(value: Any) -> str | None:
    """One non-blank text value, as the pivot takes it (several values are no value)."""
    items = value if isinstance(value, list | tuple) else [value]
    texts = [v for v in items if isinstance(v, str) and v.strip()]
    return texts[0] if len(texts) == 1 else None


def missing_pivot(attributes: Mapping[str, Any]) -> list[str]:
    """Names of the pivot attributes the answer lacks, sorted. A birth place counts unless
    the birth country is known and not France (the pivot ignores it then)."""
    values = {name: _single(attributes.get(name)) for name in PIVOT}
    country = values["birthcountry"]
    return sorted(name for name in PIVOT if values[name] is None
                  and not (name == "birthplace" and country is not None and country != FRANCE))


def subject_of(source_id: str, name_id_policy: str, name_id: IssuedNameID,
               attributes: Mapping[str, Any]) -> str:
    """``internal.subject_id`` for this answer (``attributes``: normalised, internal names)."""
    if name_id_policy != TRANSIENT:
        return f"{source_id}:{name_id.value}"
    key = pivot_key(attributes)
    if key is None:
        missing = missing_pivot(attributes) or list(PIVOT)
        raise FlowError("identite_incomplete",
                        detail=f"{source_id}: transient NameID and an incomplete identity "
                               f"pivot (missing: {', '.join(missing)})")
    return f"{source_id}:pivot:{hashlib.sha256(key.encode('utf-8')).hexdigest()}"
