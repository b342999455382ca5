"""What the portal's pages show: the diffusion matrix filtered, the role list, the refusals.

The matrix is :func:`idp.partners.diffusion.build_report`'s — the same builder as
``ncconnect partenaires diffusion`` — only filtered here (attribute, sensitivity, legal
basis, from a GET form) and labelled in the page's language. Nothing here knows where the
registry lives: the page shows no server path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from idp.partners.diffusion import (
    LEGAL_BASIS_FR,
    MONTHS_FR,
    SENSITIVITY_FR,
    Column,
    DiffusionReport,
    Grant,
    ServiceRow,
    french_date,
)

from .roles import ADMIN, RoleHolder, row_reference

SENSITIVITIES = ("low", "medium", "high")
SENSITIVITY_EN = {"low": "low", "medium": "medium", "high": "high"}
LEGAL_BASIS_EN = {
    "consent": "Consent (GDPR art. 6.1.a)",
    "contract": "Performance of a contract (GDPR art. 6.1.b)",
    "legal_obligation": "Legal obligation (GDPR art. 6.1.c)",
    "vital_interest": "Vital interests (GDPR art. 6.1.d)",
    "public_task": "Public task (GDPR art. 6.1.e)",
    "legitimate_interest": "Legitimate interest (GDPR art. 6.1.f)",
}
ROLE_NAMES = {"fr": {"admin": "administrateur ou administratrice de la fédération",
                     "dpo": "délégué(e) à la protection des données",
                     "partner": "membre d'une organisation partenaire"},
              "en": {"admin": "federation administrator", "dpo": "data protection officer",
                     "partner": "member of a partner organisation"}}
#: A cell of the matrix: what the service receives of the attribute.
MARKS = {"fr": {"yes": "oui", "optional": "facultatif", "no": "–", "never": "jamais fourni",
                "suspended": "suspendu"},
         "en": {"yes": "yes", "optional": "optional", "no": "–", "never": "never delivered",
                "suspended": "suspended"}}


@dataclass(frozen=True)
class Filters:
    attribute: str = ""
    sensitivity: str = ""
    legal_basis: str = ""

    @property
    def any(self) -> bool:
        return bool(self.attribute or self.sensitivity or self.legal_basis)


def filters_from(params: Mapping[str, object], report: DiffusionReport) -> Filters:
    """The form's choices; a value the report does not know (a forged or stale link) is no
    filter, never an error."""
    def pick(name: str, known: set[str]) -> str:
        value = params.get(name)
        return value if isinstance(value, str) and value in known else ""

    return Filters(
        attribute=pick("attribut", {c.name for c in report.columns}),
        sensitivity=pick("sensibilite", set(SENSITIVITIES)),
        legal_basis=pick("base_legale", set(LEGAL_BASIS_FR)))


def mark(grant: Grant | None) -> str:
    if grant is None:
        return "no"
    if grant.delivery != "yes":
        return grant.delivery
    return "optional" if grant.optional else "yes"


@dataclass(frozen=True)
class Matrix:
    columns: tuple[Column, ...]
    rows: tuple[tuple[ServiceRow, tuple[str, ...]], ...]


def matrix(report: DiffusionReport, filters: Filters) -> Matrix:
    """Columns: the attributes the filters keep; rows: the services of the legal basis asked
    for, which — when an attribute or a sensitivity is chosen — receive one of those columns."""
    columns = tuple(c for c in report.columns
                    if (not filters.attribute or c.name == filters.attribute)
                    and (not filters.sensitivity or c.sensitivity == filters.sensitivity))
    rows = []
    for s in report.services:
        if filters.legal_basis and s.legal_basis != filters.legal_basis:
            continue
        marks = tuple(mark(s.grant(c.name)) for c in columns)
        if (filters.attribute or filters.sensitivity) and all(m == "no" for m in marks):
            continue
        rows.append((s, marks))
    return Matrix(columns, tuple(rows))


def sensitivity_label(value: str, lang: str) -> str:
    return (SENSITIVITY_FR if lang == "fr" else SENSITIVITY_EN).get(value, value)


def legal_basis_label(value: str, lang: str) -> str:
    return (LEGAL_BASIS_FR if lang == "fr" else LEGAL_BASIS_EN).get(value, value)


def date_label(when: dt.datetime, lang: str) -> str:
    if lang == "fr":
        return french_date(when)
    return f"{when:%d %B %Y at %H:%M} UTC"


def expiry_label(epoch: int, lang: str) -> str:
    when = dt.datetime.fromtimestamp(epoch, dt.UTC)
    if lang == "fr":
        return f"{when.day} {MONTHS_FR[when.month - 1]} {when.year}"
    return f"{when:%d %B %Y}"


def instant_label(epoch: float, lang: str) -> str:
    """A moment to the minute (a secret's expiry): the date and the UTC time."""
    return date_label(dt.datetime.fromtimestamp(epoch, dt.UTC), lang)


def duration_label(hours: float, lang: str) -> str:
    """A configured duration in the unit a person reads it in: days, hours or minutes."""
    units = {"fr": ("jour", "heure", "minute"), "en": ("day", "hour", "minute")}[lang]
    if hours >= 48 and hours % 24 == 0:
        n, unit = int(hours // 24), units[0]
    elif hours >= 1:
        n, unit = round(hours), units[1]
    else:
        n, unit = max(1, round(hours * 60)), units[2]
    return f"{n} {unit}{'s' if n > 1 else ''}"


def abbreviated(account: str) -> str:
    """An account key as the role list shows it: enough to tell holders apart."""
    return f"{account[:8]}…" if len(account) > 8 else account


@dataclass(frozen=True)
class HolderRow:
    account: str
    role: str
    expires: str
    you: bool
    #: What "Retirer ce rôle" posts to name the row: :func:`.roles.row_reference` of its
    #: store item (never the whole account key).
    reference: str = ""
    #: The revocation form's CSRF token, bound to the session and to this row; empty when
    #: the row cannot be revoked from the console (the signed-in administrator's own role
    #: ``admin``: the federation must never lose its last administrator by a click).
    csrf: str = ""


def holder_rows(holders: list[RoleHolder], you: str, lang: str,
                csrf: Callable[[str], str] | None = None) -> list[HolderRow]:
    """One row per role held (a person holding two roles has two rows). ``csrf``: the token
    of the revocation form of a row reference; none: the rows have no form."""
    return [HolderRow(abbreviated(h.account), ROLE_NAMES[lang][h.role]
                      + (f" ({h.organisation})" if h.organisation else ""),
                      expiry_label(h.expires_at, lang), h.account == you,
                      row_reference(h.item),
                      csrf(row_reference(h.item)) if csrf is not None and not (h.account == you
                                                                 and h.role == ADMIN) else "")
            for h in holders]


#: The portal's refusals: (title, what happened and what to do), in both languages.
REFUSALS = {
    "sans_role": {
        "fr": ("Accès réservé",
               "Cet espace est réservé aux personnes qui administrent la fédération NC Connect."),
        "en": ("Restricted access",
               "This space is reserved for the people who administer the NC Connect "
               "federation."),
    },
    "sans_role_partenaire": {
        "fr": ("Accès réservé aux organisations partenaires",
               "Cet espace est réservé aux membres des organisations partenaires de NC "
               "Connect. Demandez une invitation à un administrateur ou une administratrice "
               "de NC Connect."),
        "en": ("Reserved for partner organisations",
               "This space is reserved for the members of NC Connect's partner "
               "organisations. Ask an NC Connect administrator for an invitation."),
    },
    "demande_inconnue": {
        "fr": ("Demande introuvable",
               "Cette demande n'existe pas, ou n'appartient pas à votre organisation."),
        "en": ("Request not found",
               "This request does not exist, or does not belong to your organisation."),
    },
    "service_inconnu": {
        "fr": ("Service introuvable",
               "Ce service n'existe pas, ou n'appartient pas à votre organisation."),
        "en": ("Service not found",
               "This service does not exist, or does not belong to your organisation."),
    },
    "demande_close": {
        "fr": ("Action impossible pour cette demande",
               "Cette demande n'est pas dans un état qui permet cette action. Revenez à la "
               "liste de vos demandes."),
        "en": ("Not possible for this request",
               "This request is not in a state that allows this action. Go back to the list "
               "of your requests."),
    },
    "role_inconnu": {
        "fr": ("Rôle introuvable",
               "Ce rôle n'est plus attribué : il a déjà été retiré, ou il a expiré. Revenez à "
               "la page d'administration."),
        "en": ("Role not found",
               "This role is no longer held: it was already revoked, or it lapsed. Go back to "
               "the administration page."),
    },
    "role_propre": {
        "fr": ("Action impossible sur votre propre rôle",
               "Vous ne pouvez pas retirer votre propre rôle d'administration depuis la "
               "console : demandez-le à un autre administrateur ou une autre administratrice, "
               "ou utilisez « ncconnect admin revoke »."),
        "en": ("Not possible on your own role",
               "You cannot revoke your own administrator role from the console: ask another "
               "administrator, or use 'ncconnect admin revoke'."),
    },
    "niveau": {
        "fr": ("Niveau de sécurité insuffisant",
               "Vous vous êtes connecté(e) avec un compte de niveau de sécurité faible. "
               "L'administration de NC Connect demande un compte de niveau substantiel ou "
               "élevé : reconnectez-vous avec un tel compte. Si vous aviez reçu un lien "
               "d'inscription, il reste valable jusqu'à son expiration."),
        "en": ("Security level too low",
               "You signed in with an account of low security level. Administering NC "
               "Connect requires an account of substantial or high level: sign in again "
               "with such an account. If you received an enrolment link, it stays valid "
               "until it expires."),
    },
    "lien_invalide": {
        "fr": ("Lien d'inscription utilisé ou expiré",
               "Ce lien d'inscription a déjà servi ou n'est plus valable. Demandez un "
               "nouveau lien à un administrateur ou une administratrice de NC Connect."),
        "en": ("Enrolment link used or expired",
               "This enrolment link has already been used or is no longer valid. Ask an "
               "NC Connect administrator for a new one."),
    },
    "connexion_annulee": {
        "fr": ("Connexion non terminée",
               "La connexion n'a pas abouti. Vous pouvez réessayer depuis la page "
               "d'administration."),
        "en": ("Sign-in not completed",
               "The sign-in did not complete. You can try again from the administration "
               "page."),
    },
}
