"""From what one identity source sends to the dictionary's attributes, in canonical form.

Each source names and formats things its own way (``dateNaissance`` as
``14/05/1987``, sex as ``1``/``2``). Its partner file says how to read each
attribute it provides; this module applies that and the dictionary's format.
Anything the source was not declared to provide is ignored, and a value that
does not fit is dropped and logged by attribute name only, never by value.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .formats import FORMATS, fold
from .model import Dictionary

logger = logging.getLogger(__name__)

#: More values than this for one attribute is not an identity, it is a flood.
MAX_VALUES = 8


@dataclass(frozen=True)
class Reading:
    """How to read one attribute out of a source's claims or SAML attributes."""

    name: str
    format: str
    external: tuple[str, ...]
    member: str | None = None
    date_format: str | None = None
    values: Mapping[str, str] = field(default_factory=dict)

    def to_config(self) -> dict[str, Any]:
        return {"format": self.format, "external": list(self.external), "member": self.member,
                "date_format": self.date_format, "values": dict(self.values)}

    @classmethod
    def from_config(cls, name: str, conf: Mapping[str, Any]) -> Reading:
        return cls(name=name, format=conf["format"], external=tuple(conf["external"]),
                   member=conf.get("member"), date_format=conf.get("date_format"),
                   values=dict(conf.get("values") or {}))


def readings_for(dictionary: Dictionary, protocol: str,
                 declared: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The backend configuration for a source: ``declared`` is its partner file's
    ``attributes`` section as plain data (dictionary name -> {from, date_format, values})."""
    out = {}
    for name, how in declared.items():
        entry = dictionary.attributes[name]
        if protocol == "oidc":
            default: tuple[str, ...] = (entry.oidc.claim,)
            member = entry.oidc.member
        elif protocol == "ldap":
            # A directory's attribute names are its own: the partner file's ``from``, or an
            # attribute named like the dictionary's entry.
            default = (name,)
            member = None
        else:
            default = (*entry.saml_names, entry.saml.friendly)
            member = None
        source_name = how.get("from")
        out[name] = Reading(name=name, format=entry.format,
                            external=(source_name,) if source_name else default,
                            member=member, date_format=how.get("date_format"),
                            values=how.get("values") or {}).to_config()
    return out


class SourceAttributes:
    """The normaliser of one source, built from its backend configuration."""

    def __init__(self, source_id: str, readings: Mapping[str, Mapping[str, Any]]) -> None:
        self.source_id = source_id
        self.readings = [Reading.from_config(name, conf) for name, conf in readings.items()]

    def to_internal(self, external: Mapping[str, Any]) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for reading in self.readings:
            raw = _first_present(external, reading.external)
            if raw is None:
                continue
            kept = self._values(reading, raw)
            if kept:
                out[reading.name] = kept
        return out

    def _values(self, reading: Reading, raw: Any) -> list[str]:
        items = raw if isinstance(raw, list | tuple) else [raw]
        if len(items) > MAX_VALUES:
            self._drop(reading, "too many values")
            return []
        kept: list[str] = []
        for item in items:
            value = _one_value(item, reading.member)
            canonical = None if value is None else _normalise(reading, value)
            if canonical is None:
                self._drop(reading, "value does not fit the format")
            elif canonical not in kept:
                kept.append(canonical)
        return kept

    def _drop(self, reading: Reading, why: str) -> None:
        logger.warning("attribute value dropped", extra={
            "source": self.source_id, "attribute": reading.name, "format": reading.format,
            "reason": why})


def _first_present(external: Mapping[str, Any], names: tuple[str, ...]) -> Any:
    for name in names:
        if name in external and external[name] not in (None, "", []):
            return external[name]
    return None


def _one_value(item: Any, member: str | None) -> str | None:
    if isinstance(item, Mapping) and member is not None:
        item = item.get(member)
    if isinstance(item, bool) or item is None:
        return None
    if isinstance(item, int | float):
        return str(item)
    return item if isinstance(item, str) else None


def _normalise(reading: Reading, value: str) -> str | None:
    if reading.values:  # a code the mapping does not know may already be a canonical value
        mapped = reading.values.get(value)
        if mapped is None:
            mapped = {fold(k): v for k, v in reading.values.items()}.get(fold(value))
        value = mapped if mapped is not None else value
    if reading.date_format:
        try:
            value = dt.datetime.strptime(value.strip(), reading.date_format).date().isoformat()
        except ValueError:
            return None
    return FORMATS[reading.format](value)
