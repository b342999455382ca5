"""The diffusion report: which service receives which attribute of the usager, and why.

It is what a data-protection officer asks for: per service its organisation,
purpose and legal basis; per attribute who receives it, whether the usager may
refuse it, the partner's justification and the attribute's sensitivity; per
administration directory (``kind: directory``, enrichment) its organisation, legal
basis and the attributes it can supply, each with the services that may receive it
from that directory and those that opted out (``enrichment: false``). Attribute names
and labels only: never a value, nor how a directory is reached. It is
built from the loaded registry and dictionary only (never from the YAML text),
so it shows exactly what the proxy enforces, and is rendered as a terminal
matrix, a CSV file (one row per service and attribute) or a standalone HTML page,
each stating when it was generated.

Whether each allowed attribute can actually reach the service comes from the registry's own
rule (:func:`idp.partners.registry.providers`): ``never`` when none of the service's sources
and no directory it accepts provides it (``ncconnect partenaires validate`` refuses such a
registry; the report still shows it, flagged), ``suspended`` when only disabled sources or
directories provide it, ``yes`` otherwise.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import textwrap
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, FileSystemLoader

from ..dictionary import Dictionary
from ..pages import TEMPLATES
from .registry import Registry, providers
from .schema import Service


@dataclass(frozen=True)
class Column:
    """One dictionary attribute, a column of the matrix."""

    name: str
    label_fr: str
    sensitivity: str


@dataclass(frozen=True)
class Grant:
    """One attribute a service may receive."""

    attribute: str
    label_fr: str
    sensitivity: str
    optional: bool
    justification: str
    #: The service's identity sources that provide this attribute.
    sources: tuple[str, ...]
    #: The active administration directories that may complete it (none when the service
    #: opted out of enrichment, nor a directory that cannot find the citizen from what the
    #: service's sources give).
    provided_by: tuple[str, ...] = ()
    #: ``yes``; ``suspended``: only disabled sources or directories provide it; ``never``:
    #: nothing the service accepts provides it (a registry the proxy refuses).
    delivery: str = "yes"


@dataclass(frozen=True)
class ServiceRow:
    id: str
    name: str
    organisation: str
    protocol: str
    active: bool
    purpose: str
    legal_basis: str
    legal_reference: str | None
    grants: tuple[Grant, ...]
    #: ``False``: no administration directory completes what this service receives.
    enrichment: bool = True

    @property
    def status(self) -> str:
        return "active" if self.active else "disabled"

    def grant(self, attribute: str) -> Grant | None:
        return next((g for g in self.grants if g.attribute == attribute), None)


@dataclass(frozen=True)
class Supply:
    """One attribute a directory can supply, and who may receive it from there."""

    attribute: str
    label_fr: str
    sensitivity: str
    #: Services allowed this attribute that accept enrichment.
    receivers: tuple[ServiceRow, ...]
    #: Services allowed this attribute that opted out (``enrichment: false``).
    opted_out: tuple[ServiceRow, ...]
    #: Services allowed this attribute, accepting enrichment, for which the directory cannot
    #: find the citizen: none of their sources gives what its match filter needs.
    unmatched: tuple[ServiceRow, ...] = ()


@dataclass(frozen=True)
class DirectoryRow:
    id: str
    organisation: str
    active: bool
    legal_basis: str
    legal_reference: str | None
    supplies: tuple[Supply, ...]

    @property
    def status(self) -> str:
        return "active" if self.active else "disabled"


@dataclass(frozen=True)
class DiffusionReport:
    folder: str
    columns: tuple[Column, ...]
    services: tuple[ServiceRow, ...]
    directories: tuple[DirectoryRow, ...] = ()
    #: When the report was generated (UTC, to the second).
    generated: dt.datetime = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

    @property
    def generated_iso(self) -> str:
        return self.generated.strftime("%Y-%m-%dT%H:%M:%SZ")

    def undelivered(self, delivery: str) -> list[tuple[ServiceRow, Grant]]:
        """The (service, attribute) pairs whose delivery is ``never`` or ``suspended``."""
        return [(s, g) for s in self.services for g in s.grants if g.delivery == delivery]

    @property
    def opted_out(self) -> tuple[ServiceRow, ...]:
        """Services that no administration directory completes (``enrichment: false``)."""
        return tuple(s for s in self.services if not s.enrichment)

    def receivers(self, attribute: str) -> list[tuple[ServiceRow, Grant]]:
        return [(s, g) for s in self.services if (g := s.grant(attribute)) is not None]


def _grant(registry: Registry, s: Service, c: Column) -> Grant:
    p = providers(registry, s, c.name)
    # What the proxy does: only active partners provide (directories never for an opted-out
    # service, nor when they cannot find the citizen from what the service's sources give).
    active_sources = [x for x in p.sources if registry.sources[x].active]
    active_dirs = tuple(d for d in sorted(p.directories) if registry.directories[d].active)
    delivery = ("never" if not p.deliverable
                else "yes" if active_sources or active_dirs else "suspended")
    return Grant(attribute=c.name, label_fr=c.label_fr, sensitivity=c.sensitivity,
                 optional=s.attributes[c.name].optional,
                 justification=s.attributes[c.name].justification,
                 sources=p.sources, provided_by=active_dirs, delivery=delivery)


def build_report(registry: Registry, dictionary: Dictionary, folder: Path | str,
                 generated: dt.datetime | None = None) -> DiffusionReport:
    """``generated``: the report's date (default: now); ``registry`` may hold undeliverable
    attributes (``load_registry(..., keep_undeliverable=True)``): they are flagged."""
    generated = (generated or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    columns = tuple(Column(name, a.label_fr, a.sensitivity)
                    for name, a in dictionary.attributes.items())
    directories = [registry.directories[did] for did in sorted(registry.directories)]
    rows = []
    for sid in sorted(registry.services):
        s = registry.services[sid]
        grants = tuple(_grant(registry, s, c) for c in columns if c.name in s.attributes)
        rows.append(ServiceRow(id=s.id, name=s.name, organisation=s.organisation,
                               protocol=s.protocol, active=s.active, purpose=s.purpose,
                               legal_basis=s.legal_basis, legal_reference=s.legal_reference,
                               grants=grants, enrichment=s.enrichment))

    def can_complete(d_id: str, r: ServiceRow, attribute: str) -> bool:
        return d_id in providers(registry, registry.services[r.id], attribute).directories

    dir_rows = tuple(
        DirectoryRow(id=d.id, organisation=d.organisation, active=d.active,
                     legal_basis=d.legal_basis, legal_reference=d.legal_reference,
                     supplies=tuple(
                         Supply(attribute=c.name, label_fr=c.label_fr, sensitivity=c.sensitivity,
                                receivers=tuple(r for r in rows
                                                if r.enrichment and r.grant(c.name) is not None
                                                and can_complete(d.id, r, c.name)),
                                opted_out=tuple(r for r in rows
                                                if not r.enrichment
                                                and r.grant(c.name) is not None),
                                unmatched=tuple(r for r in rows
                                                if r.enrichment and r.grant(c.name) is not None
                                                and not can_complete(d.id, r, c.name)))
                         for c in columns if c.name in d.attributes))
        for d in directories)
    return DiffusionReport(str(folder), columns, tuple(rows), dir_rows, generated)


# --- CSV -----------------------------------------------------------------------------------

CSV_COLUMNS = ("service_id", "service_name", "organisation", "protocol", "active", "purpose",
               "legal_basis", "legal_reference", "attribute", "label_fr", "sensitivity",
               "optional", "justification", "sources", "enrichment", "provided_by", "delivery",
               "generated_at")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def csv_rows(report: DiffusionReport) -> list[dict[str, str]]:
    return [{"service_id": s.id, "service_name": s.name, "organisation": s.organisation,
             "protocol": s.protocol, "active": yes_no(s.active), "purpose": s.purpose,
             "legal_basis": s.legal_basis, "legal_reference": s.legal_reference or "",
             "attribute": g.attribute, "label_fr": g.label_fr, "sensitivity": g.sensitivity,
             "optional": yes_no(g.optional), "justification": g.justification,
             "sources": ";".join(g.sources), "enrichment": yes_no(s.enrichment),
             "provided_by": ";".join(g.provided_by), "delivery": g.delivery,
             "generated_at": report.generated_iso}
            for s in report.services for g in s.grants]


def render_csv(report: DiffusionReport) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(report))
    return out.getvalue()


# --- text ----------------------------------------------------------------------------------

RELEASED, OPTIONAL, NOT_RELEASED = "x", "o", "."
#: An allowed attribute that nothing provides (never), or only disabled partners (suspended).
NEVER, SUSPENDED = "!", "~"
FLAGS = {"never": "NEVER DELIVERED: nothing it accepts provides it",
         "suspended": "not delivered: its providers are disabled"}


def mark(grant: Grant | None) -> str:
    if grant is None:
        return NOT_RELEASED
    if grant.delivery != "yes":
        return NEVER if grant.delivery == "never" else SUSPENDED
    return OPTIONAL if grant.optional else RELEASED


def undelivered_lines(report: DiffusionReport) -> list[str]:
    """What the matrix allows and the proxy cannot deliver, first thing in the text report."""
    lines = []
    for delivery, heading in (("never", "Never delivered (nothing the service accepts provides "
                                        "it; ncconnect partenaires validate refuses this "
                                        "registry):"),
                              ("suspended", "Not delivered while their providers are disabled:")):
        pairs = report.undelivered(delivery)
        if pairs:
            lines += ["", heading, *(f"  {s.id}: {g.attribute} ({g.label_fr})" for s, g in pairs)]
    return lines


def render_text(report: DiffusionReport) -> str:
    """Services down the side, attributes across as numbered columns (the legend names them):
    the matrix stays 80 columns wide however many services there are."""
    cols = report.columns
    lines = [f"Diffusion report: who receives what ({report.folder})",
             f"generated {report.generated_iso}",
             f"{len(report.services)} services, {len(cols)} attributes in the dictionary",
             *undelivered_lines(report), "", "Attributes:"]
    name_w = max(len(c.name) for c in cols)
    label_w = max(len(c.label_fr) for c in cols)
    lines += [f"  {i:>2}  {c.name:<{name_w}}  {c.label_fr:<{label_w}}  {c.sensitivity}"
              for i, c in enumerate(cols, 1)]
    legend = (f"Matrix ({RELEASED}: released, {OPTIONAL}: optional, the usager may refuse it, "
              f"{NOT_RELEASED}: never released")
    if report.undelivered("never"):
        legend += f", {NEVER}: allowed but nothing provides it"
    if report.undelivered("suspended"):
        legend += f", {SUSPENDED}: allowed, its providers disabled"
    lines += ["", legend + "):"]
    id_w = max([len("SERVICE"), *(len(s.id) for s in report.services)])
    lines.append(f"  {'SERVICE':<{id_w}}  {'STATUS':<8}  "
                 + "".join(f"{i:>3}" for i in range(1, len(cols) + 1)))
    for s in report.services:
        lines.append(f"  {s.id:<{id_w}}  {s.status:<8}  "
                     + "".join(f"{mark(s.grant(c.name)):>3}" for c in cols))
    lines += ["", "Services:"]
    for s in report.services:
        basis = s.legal_basis + (f" ({s.legal_reference})" if s.legal_reference else "")
        lines += [f"  {s.id}: {s.name}",
                  f"    organisation: {s.organisation}",
                  f"    protocol: {s.protocol}, {s.status}",
                  f"    purpose: {s.purpose}",
                  f"    legal basis: {basis}"]
    lines += ["", "Per attribute:"]
    for c in cols:
        receivers = report.receivers(c.name)
        if not receivers:
            continue
        lines.append(f"  {c.name} ({c.label_fr}), sensitivity {c.sensitivity}:")
        for s, g in receivers:
            flags = ", ".join([s.status, *(["optional"] if g.optional else []),
                               *([FLAGS[g.delivery]] if g.delivery != "yes" else [])])
            lines.append(f"    {s.id} [{flags}]: {g.justification}")
    unused = [c.name for c in cols if not report.receivers(c.name)]
    if unused:
        lines += textwrap.wrap(f"released to no service: {', '.join(unused)}", width=96,
                               initial_indent="  ", subsequent_indent="    ")
    return "\n".join(lines + directory_lines(report)) + "\n"


def flagged(services: tuple[ServiceRow, ...]) -> str:
    return ", ".join(f"{s.id} [{s.status}]" for s in services) or "no service"


def directory_lines(report: DiffusionReport) -> list[str]:
    """Each administration directory, the attributes it can supply and who may receive them."""
    lines = ["", "Directories (may complete a login for every service that does not opt out):"]
    if not report.directories:
        lines.append("  none in the registry")
    for d in report.directories:
        basis = d.legal_basis + (f" ({d.legal_reference})" if d.legal_reference else "")
        lines += [f"  {d.id}: {d.organisation}",
                  f"    status: {d.status}"
                  + ("" if d.active else ", supplies nothing until it is enabled again"),
                  f"    legal basis: {basis}"]
        for a in d.supplies:
            lines += [f"    {a.attribute} ({a.label_fr}), sensitivity {a.sensitivity}:",
                      f"      may receive it: {flagged(a.receivers)}"]
            if a.opted_out:
                lines.append(f"      opted out: {flagged(a.opted_out)}")
            if a.unmatched:
                lines.append(f"      cannot find the citizen for: {flagged(a.unmatched)} (their "
                             "sources do not give what its match filter needs)")
    lines.append("  services opted out of enrichment (enrichment: false): "
                 + (", ".join(s.id for s in report.opted_out) or "none"))
    return lines


# --- HTML ----------------------------------------------------------------------------------

SENSITIVITY_FR = {"low": "faible", "medium": "moyenne", "high": "élevée"}
LEGAL_BASIS_FR = {
    "consent": "Consentement (RGPD art. 6.1.a)",
    "contract": "Exécution d'un contrat (RGPD art. 6.1.b)",
    "legal_obligation": "Obligation légale (RGPD art. 6.1.c)",
    "vital_interest": "Sauvegarde des intérêts vitaux (RGPD art. 6.1.d)",
    "public_task": "Mission d'intérêt public (RGPD art. 6.1.e)",
    "legitimate_interest": "Intérêt légitime (RGPD art. 6.1.f)",
}


def render_html(report: DiffusionReport) -> str:
    """A standalone page (inline style, no script, every value escaped by Jinja2)."""
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=True,
                      trim_blocks=True, lstrip_blocks=True)
    return env.get_template("diffusion.html").render(
        report=report, sensitivity_fr=SENSITIVITY_FR, legal_basis_fr=LEGAL_BASIS_FR,
        generated_fr=french_date(report.generated))


MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
             "septembre", "octobre", "novembre", "décembre")


def french_date(when: dt.datetime) -> str:
    """``3 décembre 2026 à 22:50 UTC``."""
    return f"{when.day} {MONTHS_FR[when.month - 1]} {when.year} à {when:%H:%M} UTC"


RENDERERS = {"text": render_text, "csv": render_csv, "html": render_html}
