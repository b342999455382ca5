"""Which attributes an SP receives: what its partner file allows AND what its metadata requests."""

from __future__ import annotations

from typing import Any

from satosa.attribute_mapping import AttributeMapper

#: SATOSA attribute profile holding the ``urn:oid`` names.
SAML_PROFILE = "saml"


def released_attributes(converter: AttributeMapper, allowed: list[str],
                        requested_names: list[str] | None) -> list[str]:
    """Internal names, in the partner file's order.

    ``requested_names`` are the SAML names of the SP's AttributeConsumingService;
    None (no such service) means "everything allowed".
    """
    if requested_names is None:
        return list(allowed)
    requested = set(converter.to_internal_filter(SAML_PROFILE, requested_names))
    return [name for name in allowed if name in requested]


def saml_identity(converter: AttributeMapper, attributes: dict[str, Any],
                  released: list[str]) -> dict[str, list[str]]:
    """The released attributes that have values, keyed by their ``urn:oid`` name."""
    kept = {}
    for name in released:
        values = attributes.get(name)
        if values is None or values == [] or values == "":
            continue
        if not isinstance(values, list):
            values = [values]
        kept[name] = [str(v) for v in values]
    return converter.from_internal(SAML_PROFILE, kept)
