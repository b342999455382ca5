"""What ``/mon-compte`` shows, in the citizen's words: local time, French labels, levels.

The store keeps names and UTC instants; the page speaks of *Prénoms*, *substantiel*
and Nouméa time (UTC+11 all year), in French or English like every page of the proxy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from idp.stores import Record

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
    service_name: str
    attributes: list[str]
    given: Instant | None
    expires: Instant | None


@dataclass(frozen=True)
class HistoryRow:
    at: Instant | None
    service_id: str
    service_name: str
    source_id: str
    source_name: str
    loa: str
    loa_label: str
    attributes: list[str]


@dataclass(frozen=True)
class Vocabulary:
    """Names the page needs that the records do not carry, from the registry and dictionary."""

    #: attribute name -> {"fr": label, "en": label}.
    attributes: Mapping[str, Mapping[str, str]]
    #: service id -> name (every registered service, active or not).
    services: Mapping[str, str]

    def attribute_labels(self, names: Iterable[str], lang: str) -> list[str]:
        """Labels in the dictionary's order (names first, then dates, contact...)."""
        order = {name: i for i, name in enumerate(self.attributes)}
        ordered = sorted(names, key=lambda n: (order.get(n, len(order)), n))
        return [self.attributes.get(n, {}).get(lang) or n for n in ordered]


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
        service_name=words.services.get(c.service_id, c.service_id),
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
            service_name=str(e.get("service_name") or e.get("service_id") or ""),
            source_id=str(e.get("source_id") or ""),
            source_name=str(e.get("source_name") or e.get("source_id") or ""),
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
