"""Attributes of the verified assertion, keyed by their ``Name`` exactly as the IdP sent it.

pysaml2's ``ava`` renames ``urn:oid:`` names to friendly names through its
attribute converters (``urn:oid:2.5.4.42`` becomes ``givenName``), and drops
names it does not know. Our attribute dictionary maps the ``urn:oid:`` names,
so we read the signed assertion's AttributeStatements ourselves.
"""

from __future__ import annotations

from typing import Any

MAX_VALUES = 50


def attributes_by_name(assertion: Any) -> dict[str, list[str]]:
    ava: dict[str, list[str]] = {}
    for statement in assertion.attribute_statement or []:
        for attribute in statement.attribute or []:
            if not attribute.name:
                continue
            values = [v.text for v in attribute.attribute_value or []
                      if isinstance(v.text, str)]
            ava.setdefault(attribute.name, []).extend(values[:MAX_VALUES])
    return ava
