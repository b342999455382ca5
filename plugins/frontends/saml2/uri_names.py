"""A pysaml2 attribute converter that emits our ``urn:oid`` names exactly as the dictionary says.

SATOSA's converter already maps internal names to their ``urn:oid`` names (the
"saml" profile). pysaml2's stock converters expect *friendly* names as input and,
for a key they do not know, emit an ``<Attribute>`` with no ``NameFormat`` at all.
This converter knows every ``urn:oid`` name of the dictionary, keeps it verbatim
(``Name`` is case-sensitive), marks it ``attrname-format:uri``, and drops anything
else rather than sending an attribute in an undeclared format.
"""

from __future__ import annotations

from typing import Any

from saml2 import saml
from saml2.attribute_converter import AttributeConverter
from saml2.s_utils import do_ava
from saml2.saml import NAME_FORMAT_URI


class UriNameConverter(AttributeConverter):
    """Identity mapping over a fixed set of URI attribute names, NameFormat uri."""

    def __init__(self, names: list[str]) -> None:
        super().__init__(NAME_FORMAT_URI)
        self._to = {n.lower(): n for n in names}
        self._fro = dict(self._to)

    def to_(self, attrvals: dict[str, Any]) -> list[saml.Attribute]:
        attributes = []
        for key, value in attrvals.items():
            name = self._to.get(key.lower())
            if name is None:
                continue
            attributes.append(saml.Attribute(name=name, name_format=NAME_FORMAT_URI,
                                             attribute_value=do_ava(value)))
        return attributes


def saml_names(internal_attributes: dict) -> list[str]:
    """Every ``saml`` profile name declared in SATOSA's ``INTERNAL_ATTRIBUTES``."""
    names: list[str] = []
    for mapping in internal_attributes.get("attributes", {}).values():
        names.extend(mapping.get("saml", []))
    return names
