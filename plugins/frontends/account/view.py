"""What ``/mon-compte`` shows, in the citizen's words: local time, French labels, levels.

The store keeps names and UTC instants; the page speaks of *Prénoms*, *substantiel*
and Nouméa time (UTC+11 all year), in French or English like every page of the proxy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from idp.stores import Record
from plugins.micro_services.consent_view import Shown, localised

from .consents import Consent, parse_instant

NOUMEA = ZoneInfo("Pacific/Noumea")

MONTHS = {
    "fr": ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
           "septembre", "octobre", "novembre", "décembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
}

#: eIDAS levels of assurance, as the citizen reads them.
LOA_LABELS = {
    "fr": {"low": "faible", "substantial": "substantiel", "high": "élevé"},
    "en": {"low": "low", "substantial": "substantial", "high": "high"},
}


@dataclass(frozen=True)
class Instant:
    #: Machine-readable, for ``<time datetime>``.
    iso: str
    text: str


@dataclass(frozen=True)
class ConsentRow:
    service_id: str
    #: In the page's language where the partner file gives it (else French, ``lang="fr"``).
    service_name: Shown
    attributes: list[str]
    given: Instant | None
    expires: Instant | None


@dataclass(frozen=True)
class HistoryRow:
    at: Instant | None
    service_id: str
    service_name: Shown
    source_id: str
    source_name: Shown
    loa: str
    loa_label: str
    attributes: list[str]


@dataclass(frozen=True)
class Vocabulary:
    """Names the page needs that the records do not carry, from the registry and dictionary."""

    #: attribute name -> {"fr": label, "en": label}.
    attributes: Mapping[str, Mapping[str, str]]
    #: service id -> name (every registered service, active or not): a French string, or
    #: the registry's bilingual text (``{fr, en}`` or :class:`idp.partners.schema.Text`).
    services: Mapping[str, Any]
    #: source id -> display name, the same way; a record keeps the name it had then.
    sources: Mapping[str, Any] = field(default_factory=dict)

    def service_name(self, service_id: str, recorded: object, lang: str) -> Shown:
        """The service's name in ``lang``: the name a record kept, in English when the
        registry's name is still that one and has an English text."""
        return _named(self.services.get(service_id), recorded, service_id, lang)

    def source_name(self, source_id: str, recorded: object, lang: str) -> Shown:
        return _named(self.sources.get(source_id), recorded, source_id, lang)

    def attribute_labels(self, names: Iterable[str], lang: str) -> list[str]:
        """Labels in the dictionary's order (names first, then dates, contact...)."""
        order = {name: i for i, name in enumerate(self.attributes)}
        ordered = sorted(names, key=lambda n: (order.get(n, len(order)), n))
        return [self.attributes.get(n, {}).get(lang) or n for n in ordered]


def _named(known: Any, recorded: object, ident: str, lang: str) -> Shown:
    if recorded and (not known or localised(known, "fr").text != str(recorded)):
        return localised(str(recorded), lang)  # renamed since: the name it had then
    return localised(known or recorded or ident, lang)


def local_time(at: datetime, lang: str, with_time: bool = True) -> Instant:
    """``14 mars 2026 à 09:41`` / ``14 March 2026, 09:41``, in Nouméa time."""
    local = at.astimezone(NOUMEA)
    day = f"{local.day} {MONTHS[lang][local.month - 1]} {local.year}"
    if not with_time:
        return Instant(local.date().isoformat(), day)
    clock = f"{local:%H:%M}"
    text = f"{day} à {clock}" if lang == "fr" else f"{day}, {clock}"
    return Instant(local.isoformat(timespec="seconds"), text)


def consent_rows(consents: Iterable[Consent], words: Vocabulary, lang: str) -> list[ConsentRow]:
    return [ConsentRow(
        service_id=c.service_id,
        service_name=words.service_name(c.service_id, None, lang),
        attributes=words.attribute_labels(c.attributes, lang),
        given=local_time(c.given_at, lang) if c.given_at else None,
        expires=local_time(c.expires_at, lang, with_time=False) if c.expires_at else None,
    ) for c in consents]


def history_rows(entries: Iterable[Record], words: Vocabulary, lang: str) -> list[HistoryRow]:
    rows = []
    for e in entries:
        at = parse_instant(e.get("at"))
        loa = str(e.get("loa") or "")
        names = e.get("attributes")
        provided_by = e.get("provided_by") if isinstance(e.get("provided_by"), dict) else {}
        rows.append(HistoryRow(
            at=local_time(at, lang) if at else None,
            service_id=str(e.get("service_id") or ""),
            service_name=words.service_name(str(e.get("service_id") or ""),
                                            e.get("service_name"), lang),
            source_id=str(e.get("source_id") or ""),
            source_name=words.source_name(str(e.get("source_id") or ""),
                                          e.get("source_name"), lang),
            loa=loa,
            loa_label=LOA_LABELS[lang].get(loa, loa),
            attributes=_with_provenance(
                [n for n in names if isinstance(n, str)] if isinstance(names, list) else [],
                provided_by, words, lang),
        ))
    return rows



PROVIDED_BY = {"fr": "fourni par", "en": "provided by"}


def _with_provenance(names: list[str], provided_by: Mapping[str, object], words: Vocabulary,
                     lang: str) -> list[str]:
    """Labels in dictionary order; an attribute an administration directory supplied says
    which ("Adresse postale (fourni par la Province Sud)"), the others came from the source."""
    order = {name: i for i, name in enumerate(words.attributes)}
    out = []
    for name in sorted(names, key=lambda n: (order.get(n, len(order)), n)):
        label = words.attributes.get(name, {}).get(lang) or name
        who = provided_by.get(name)
        out.append(f"{label} ({PROVIDED_BY[lang]} {who})" if isinstance(who, str) and who
                   else label)
    return out
