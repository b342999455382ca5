"""A citizen's RGPD access request, answered from audit files (``ncconnect audit citizen``).

The operator points the command at the audit files of every host (files or folders); the
citizen is named by their NC Connect account key (:func:`account_key` derives it from their
identity, as the DPO checks it on an identity document). A login is every line sharing a
login id with a line that names the citizen — so the request and the source chosen, written
before the citizen was known, are part of it — and never a line naming someone else. Lines
naming the citizen outside a login (a session ended or a consent withdrawn in *Mon espace*)
are listed on their own.

The answer says what was sent to whom, from which source, at which level, by attribute
names; the audit trail holds no values, so neither does the answer.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..dictionary.pivot import pivot_key
from ..pairwise import pairwise_id

#: The account key's sector (:data:`plugins.micro_services.pairwise.ACCOUNT_SECTOR`).
ACCOUNT_SECTOR = "ncconnect:compte"


def account_key(pairwise_secret: bytes, identity: Mapping[str, str]) -> str | None:
    """The account key of the citizen with this identity pivot (``None``: incomplete)."""
    basis = pivot_key(identity)
    return pairwise_id(pairwise_secret, ACCOUNT_SECTOR, basis) if basis else None


@dataclass
class Reading:
    lines: list[dict[str, Any]] = field(default_factory=list)
    files: int = 0
    unreadable: int = 0


def audit_files(paths: Iterable[Path]) -> list[Path]:
    """The files named, and the ``audit-*.jsonl`` files of the folders named."""
    found: list[Path] = []
    for path in paths:
        found += sorted(path.glob("audit-*.jsonl")) if path.is_dir() else [path]
    return found


def read(paths: Iterable[Path]) -> Reading:
    reading = Reading()
    for file in audit_files(paths):
        reading.files += 1
        with file.open(encoding="utf-8", errors="replace") as handle:
            for raw in handle:
                try:
                    line = json.loads(raw)
                except ValueError:
                    reading.unreadable += 1
                    continue
                if isinstance(line, dict) and isinstance(line.get("ts"), str):
                    reading.lines.append(line)
                else:
                    reading.unreadable += 1
    reading.lines.sort(key=lambda item: item["ts"])
    return reading


def _when(line: Mapping[str, Any]) -> dt.datetime | None:
    try:
        return dt.datetime.fromisoformat(str(line["ts"]).replace("Z", "+00:00"))
    except ValueError:
        return None


@dataclass
class Login:
    login_id: str
    lines: list[dict[str, Any]]

    def first(self, event: str) -> dict[str, Any] | None:
        return next((x for x in self.lines if x.get("event") == event), None)

    def summary(self) -> dict[str, Any]:
        started = self.lines[0]
        answered = self.first("source_answered") or self.first("sso_reused") or {}
        released = self.first("attributes_released") or {}
        consent = next((x for x in self.lines if str(x.get("event", "")).startswith(
            "consent_")), None)
        completed = self.first("login_completed")
        refused = self.first("login_refused")
        service = next((x.get("service") for x in self.lines if x.get("service")), None)
        # What the service finally received: the consent screen's decision when there was
        # one (the citizen may untick optional attributes), else what minimisation released.
        final = consent if consent and "released" in consent else released
        return {
            "login_id": self.login_id, "at": started["ts"], "service": service,
            "source": (completed or {}).get("source") or answered.get("source")
            or (self.first("source_chosen") or {}).get("source"),
            "single_sign_on": self.first("sso_reused") is not None,
            "loa": answered.get("loa"),
            "released": list(final.get("released") or []),
            "withheld": list(final.get("withheld") or []),
            "added_from_directories": [
                {"directory": x.get("directory"), "attributes": x.get("added")}
                for x in self.lines if x.get("event") == "attributes_added"],
            "consent": str(consent["event"])[len("consent_"):] if consent else None,
            "remembered_for_later": bool(consent and consent.get("remember")),
            "outcome": "completed" if completed else "refused" if refused else "unfinished",
            "refusal": (refused or {}).get("reason"),
        }


def logins_of(citizen: str, lines: Iterable[Mapping[str, Any]],
              since: dt.datetime | None = None,
              until: dt.datetime | None = None) -> tuple[list[Login], list[dict[str, Any]]]:
    """(the citizen's logins, the citizen's events outside any login), oldest first."""
    kept = [dict(x) for x in lines if _in(x, since, until)]
    theirs = {x.get("login_id") for x in kept if x.get("citizen") == citizen
              and x.get("login_id")}
    grouped: dict[str, list[dict[str, Any]]] = {}
    alone: list[dict[str, Any]] = []
    for line in kept:
        owner = line.get("citizen")
        if owner not in (None, citizen):
            continue  # another citizen's line: never in this answer
        lid = line.get("login_id")
        if lid in theirs:
            grouped.setdefault(str(lid), []).append(line)
        elif owner == citizen:
            alone.append(line)
    logins = sorted((Login(k, v) for k, v in grouped.items()), key=lambda g: g.lines[0]["ts"])
    return logins, alone


def _in(line: Mapping[str, Any], since: dt.datetime | None, until: dt.datetime | None) -> bool:
    when = _when(line)
    if when is None:
        return False
    return (since is None or when >= since) and (until is None or when < until)


# -- the answer, in French (what the DPO sends to the citizen) ------------------------------

EVENT_WORDS = {
    "session_ended": "Session NC Connect terminée",
    "consent_withdrawn": "Consentement retiré dans « Mon espace »",
    "logout_notice": "Service informé d'une déconnexion",
}
CONSENT_WORDS = {"given": "donné à l'écran", "remembered": "déjà donné (mémorisé)",
                 "refused": "refusé", "required": "demandé, écran non affiché"}
#: eIDAS levels of assurance, as the French regulation names them.
LEVEL_WORDS = {"low": "faible", "substantial": "substantiel", "high": "élevé"}
OUTCOME_WORDS = {"completed": "le service a reçu la réponse",
                 "refused": "connexion arrêtée, rien n'a été transmis au service",
                 "unfinished": "connexion non terminée"}


def _date(ts: str) -> str:
    when = dt.datetime.fromisoformat(ts.replace("Z", "+00:00"))
    return when.strftime("%d/%m/%Y à %H:%M UTC")


def render_french(citizen: str, logins: list[Login], alone: list[dict[str, Any]],
                  reading: Reading, since: dt.datetime | None, until: dt.datetime | None,
                  names: Mapping[str, str] | None = None,
                  labels: Mapping[str, str] | None = None) -> str:
    names, labels = names or {}, labels or {}

    def who(pid: Any) -> str:
        return f"{names[pid]} ({pid})" if pid in names else str(pid or "inconnu")

    def attrs(items: Iterable[str]) -> str:
        return ", ".join(labels.get(a, a) for a in items) or "aucune"

    period = (f"du {since:%d/%m/%Y}" if since else "depuis le début des journaux conservés") + (
        f" au {until:%d/%m/%Y}" if until else "")
    out = ["Réponse à une demande d'accès (RGPD, article 15) — NC Connect", "",
           f"Compte NC Connect : {citizen}",
           f"Période : {period} ; {reading.files} fichier(s) d'audit lu(s).",
           f"Connexions trouvées : {len(logins)}.", ""]
    for number, login in enumerate(logins, 1):
        s = login.summary()
        out.append(f"{number}. Connexion du {_date(s['at'])} au service {who(s['service'])}")
        source = ("votre session NC Connect (authentification unique)"
                  if s["single_sign_on"] else who(s["source"]))
        out.append(f"   Identification : {source}"
                   + (f", niveau de garantie « {LEVEL_WORDS.get(s['loa'], s['loa'])} »"
                      if s["loa"] else ""))
        out.append(f"   Données transmises : {attrs(s['released'])}")
        if s["withheld"]:
            out.append(f"   Données non transmises : {attrs(s['withheld'])}")
        for added in s["added_from_directories"]:
            out.append(f"   Dont fournies par l'annuaire {who(added['directory'])} : "
                       f"{attrs(added['attributes'] or [])}")
        if s["consent"]:
            out.append(f"   Consentement : {CONSENT_WORDS.get(s['consent'], s['consent'])}"
                       + (" ; mémorisé pour les prochaines fois"
                          if s["remembered_for_later"] else ""))
        out.append(f"   Résultat : {OUTCOME_WORDS[s['outcome']]}")
        out.append("")
    if alone:
        out.append("Autres événements :")
        for line in alone:
            what = EVENT_WORDS.get(str(line.get("event")), str(line.get("event")))
            detail = who(line["service"]) if line.get("service") else ""
            out.append(f"- {_date(line['ts'])} : {what}" + (f" — {detail}" if detail else ""))
        out.append("")
    out.append("Les journaux d'audit ne contiennent aucune valeur de vos données : seulement "
               "le nom de chaque donnée, le service, le fournisseur d'identité et la date.")
    return "\n".join(out) + "\n"


def as_json(citizen: str, logins: list[Login], alone: list[dict[str, Any]],
            reading: Reading) -> str:
    return json.dumps({"citizen": citizen, "files": reading.files,
                       "unreadable_lines": reading.unreadable,
                       "logins": [g.summary() for g in logins], "other_events": alone},
                      ensure_ascii=False, indent=2) + "\n"


def lines_of(logins: list[Login]) -> Iterator[dict[str, Any]]:
    for login in logins:
        yield from login.lines
