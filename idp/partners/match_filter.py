"""The match filter of an administration directory: an LDAP filter with dictionary attributes.

A directory's partner file says how the citizen is found in it, e.g.
``(&(ncNomNaissance={family_name})(ncDateNaissance={birthdate:%Y%m%d}))``. The shape of the
filter is the administrator's; the values come from what the identity source said about the
citizen, so each one is escaped (``escape_filter_chars``) before it is put in, and a value that
is missing or cannot be written in the directory's form means *no lookup*: a partial filter
could match someone else.

The spec is deliberately small: ``{name}`` (the attribute's first value, as normalised by
the dictionary) and ``{name:FORMAT}`` for a date, ``FORMAT`` being a ``strftime`` format
applied to the ISO date (``%Y%m%d`` for ``19870514``). No other braces are allowed.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from ldap3.utils.conv import escape_filter_chars

#: ``{name}`` or ``{name:%Y%m%d}``.
PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)(?::([^{}]+))?\}")
#: Longest value put in a filter: longer is no name, date or code of a real citizen.
MAX_VALUE = 256


@dataclass(frozen=True)
class Placeholder:
    name: str
    date_format: str | None


def placeholders(template: str) -> list[Placeholder]:
    return [Placeholder(m.group(1), m.group(2)) for m in PLACEHOLDER.finditer(template)]


def problems(template: str, formats: Mapping[str, str]) -> list[str]:
    """What is wrong with ``template`` (``formats``: dictionary attribute -> its format), as
    ``field: problem: fix`` fragments; empty when it can be used."""
    out: list[str] = []
    literal = PLACEHOLDER.sub("x", template)
    if "{" in literal or "}" in literal:
        out.append("a brace that is not '{attribute}' or '{attribute:%Y%m%d}': write each "
                   "dictionary attribute as {name}, or {name:FORMAT} for a date")
    if not _balanced(literal):
        out.append("unbalanced parentheses: the filter must be one parenthesised LDAP filter, "
                   "e.g. (&(sn={family_name})(givenName={given_name}))")
    found = placeholders(template)
    if not found:
        out.append("names no attribute: a filter without {attribute} would match anyone")
    for p in found:
        if p.name not in formats:
            out.append(f"{{{p.name}}} is not in the attribute dictionary (known: "
                       f"{', '.join(formats)})")
        elif p.date_format is not None and formats[p.name] != "date":
            out.append(f"{{{p.name}:{p.date_format}}}: {p.name} is not a date: write "
                       f"{{{p.name}}}")
        elif p.date_format is not None and not all(x in p.date_format
                                                   for x in ("%Y", "%m", "%d")):
            out.append(f"{{{p.name}:{p.date_format}}}: a date format needs %Y, %m and %d")
    return out


def _balanced(literal: str) -> bool:
    if not (literal.startswith("(") and literal.endswith(")")):
        return False
    depth = 0
    escaped = False
    for char in literal:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                return False
    return depth == 0


def fill(template: str, attributes: Mapping[str, Sequence[str] | str]) -> str | None:
    """The filter for this citizen, every value escaped; ``None`` when one attribute it names
    is missing or unusable (then nothing is looked up)."""
    values: dict[str, str] = {}
    for p in placeholders(template):
        value = _value(attributes.get(p.name), p.date_format)
        if value is None:
            return None
        values[f"{p.name}:{p.date_format}"] = escape_filter_chars(value)
    return PLACEHOLDER.sub(lambda m: values[f"{m.group(1)}:{m.group(2)}"], template)


def _value(raw: Sequence[str] | str | None, date_format: str | None) -> str | None:
    first = raw[0] if isinstance(raw, list | tuple) and raw else raw
    if not isinstance(first, str) or not first or len(first) > MAX_VALUE or "\x00" in first:
        return None
    if date_format is None:
        return first
    try:
        return dt.date.fromisoformat(first).strftime(date_format)
    except ValueError:
        return None
