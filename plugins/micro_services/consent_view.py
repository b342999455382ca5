"""What the consent or information screen says: the words, and each attribute as a line.

Kept apart from the micro-service so the page can be read and changed without
touching the flow: the service's purpose and legal basis in plain words, the account the
citizen signed in with, and every attribute with the dictionary's label, its value as the
service will receive it (formatted for a person: ``14/05/1987``, ``Femme``, ``Lifou`` for
the COG code ``98814``, ``France`` for ``99100``) and its description.

Every text comes in the page's language when there is one: the dictionary has French and
English words; a partner's texts (name, organisation, purpose, justifications) are
``{fr, en}`` where its file gives both. Where the English text is missing, the French one is
shown and its element marked ``lang="fr"`` (:class:`Shown` carries the language).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from idp.partners.schema import Text
from idp.places import place_name

from .history import SOURCE_STATE_KEY

#: legal basis -> lang -> (short name, what it means for the usager).
LEGAL_BASES: dict[str, dict[str, tuple[str, str]]] = {
    "consent": {
        "fr": ("votre consentement",
               "Ce service ne reçoit ces informations que si vous l'acceptez. Vous pouvez "
               "refuser : aucune information ne lui sera alors transmise."),
        "en": ("your consent",
               "This service receives this information only if you accept. You may refuse: "
               "nothing will then be sent to it."),
    },
    "contract": {
        "fr": ("l'exécution d'un contrat",
               "Ces informations sont nécessaires à l'exécution d'un contrat que vous avez "
               "conclu avec ce service, ou aux démarches préalables que vous lui avez "
               "demandées."),
        "en": ("the performance of a contract",
               "This information is needed to perform a contract you have with this service, "
               "or steps you asked for before entering into one."),
    },
    "legal_obligation": {
        "fr": ("une obligation légale",
               "Un texte de loi ou un règlement impose à ce service de traiter ces "
               "informations."),
        "en": ("a legal obligation",
               "A law or regulation requires this service to process this information."),
    },
    "vital_interest": {
        "fr": ("la sauvegarde d'intérêts vitaux",
               "Ces informations sont nécessaires pour protéger votre vie ou celle d'une autre "
               "personne."),
        "en": ("vital interests",
               "This information is needed to protect your life or someone else's."),
    },
    "public_task": {
        "fr": ("une mission de service public",
               "Ces informations sont nécessaires à une mission d'intérêt public ou relevant "
               "de l'autorité publique dont ce service est chargé."),
        "en": ("a public task",
               "This information is needed for a task in the public interest, or in the "
               "exercise of official authority, entrusted to this service."),
    },
    "legitimate_interest": {
        "fr": ("l'intérêt légitime du service",
               "Ce service traite ces informations pour un intérêt légitime, dans le respect "
               "de vos droits et libertés."),
        "en": ("the service's legitimate interest",
               "This service processes this information for a legitimate interest, with due "
               "regard to your rights and freedoms."),
    },
}

GENDER_WORDS = {"fr": {"female": "Femme", "male": "Homme"},
                "en": {"female": "Female", "male": "Male"}}

#: Logos the page's Content-Security-Policy (img-src 'self' data:) lets the browser show:
#: our static folder, the partner logos the proxy serves itself (``/logos/<id>``), data: URIs.
SHOWABLE_LOGO = ("/static/", "/logos/", "data:image/")


@dataclass(frozen=True)
class Shown:
    """A text as a page shows it, and the language it is written in: an English page shows a
    partner's French text when the partner gave no English one, and marks that element
    ``lang="fr"`` (``lang`` ``None``: a code or a number, in no language)."""

    text: str
    lang: str | None = None

    def __str__(self) -> str:
        return self.text

    def __bool__(self) -> bool:
        return bool(self.text)


def localised(value: Any, lang: str) -> Shown:
    """A partner's text in the page's language: ``{"fr": ..., "en": ...}`` (the registry's
    :meth:`~idp.partners.schema.Text.translations`), a :class:`~idp.partners.schema.Text`,
    or a plain (French) string; French, marked as such, where the English text is missing."""
    if isinstance(value, Text):
        return Shown(*value.in_lang(lang))
    if isinstance(value, Mapping):
        chosen = value.get(lang) or value.get("fr") or ""
        return Shown(str(chosen), lang if value.get(lang) else "fr")
    return Shown("" if value is None else str(value), "fr")


def display_value(fmt: str, value: Any, lang: str) -> Shown:
    """One released value as a person reads it (``14/05/1987``, ``Femme``, ``Lifou``,
    ``France``); the service receives the canonical form. A code the tables do not know is
    shown as it is."""
    text = str(value)
    if fmt == "date" and len(text) == 10 and text[4] == "-" and text[7] == "-":
        return Shown(f"{text[8:10]}/{text[5:7]}/{text[0:4]}")
    if fmt == "gender":
        word = GENDER_WORDS[lang].get(text)
        return Shown(word, lang) if word else Shown(text)
    if fmt in ("cog_commune", "cog_country"):
        name = place_name(fmt, text, lang)
        return Shown(name.text, name.lang)
    return Shown(text)


def display_values(fmt: str, values: Any, lang: str) -> Shown:
    items = values if isinstance(values, list | tuple) else [values]
    shown = [display_value(fmt, v, lang) for v in items if v is not None]
    langs = {s.lang for s in shown}
    return Shown(", ".join(s.text for s in shown), langs.pop() if len(langs) == 1 else None)


def _words(entry: Mapping[str, str], key: str, lang: str, default: str) -> Shown:
    """A dictionary label or description in ``lang``, else French (marked as such)."""
    if entry.get(f"{key}_{lang}"):
        return Shown(entry[f"{key}_{lang}"], lang)
    return Shown(entry.get(f"{key}_fr") or default, "fr" if entry.get(f"{key}_fr") else None)


def attribute_lines(released: Mapping[str, Any], service: Mapping[str, Any],
                    dictionary: Mapping[str, Mapping[str, str]], lang: str,
                    provenance: Mapping[str, Mapping[str, str]] | None = None,
                    directories: Mapping[str, Mapping[str, Any]] | None = None) -> list[dict]:
    """One line per released attribute, in dictionary order (names first, as on a form);
    ``provided_by`` names the administration that supplied a value (enrichment), in the
    page's language when its directory file gives one (``directories``)."""
    provenance = provenance or {}
    directories = directories or {}
    order = {name: i for i, name in enumerate(dictionary)}
    lines = []
    for name in sorted(released, key=lambda n: (order.get(n, len(order)), n)):
        entry = dictionary.get(name, {})
        policy = service["attributes"].get(name, {})
        origin = provenance.get(name, {})
        holder = directories.get(str(origin.get("directory") or ""), {}).get("organisation")
        lines.append({
            "name": name,
            "label": _words(entry, "label", lang, name),
            "value": display_values(entry.get("format", "text"), released[name], lang),
            "description": _words(entry, "description", lang, ""),
            "justification": localised(policy.get("justification", ""), lang),
            "optional": bool(policy.get("optional")),
            "provided_by": localised(holder or origin.get("organisation") or "", lang),
        })
    return lines


def _logo(value: Any) -> str:
    logo = value or ""
    return logo if isinstance(logo, str) and logo.startswith(SHOWABLE_LOGO) else ""


def source_used(context: Any) -> str | None:
    """The source this login used, as the flow state notes it (the request side notes the
    chosen source; the SSO backend notes the session's own source when it answers)."""
    state = getattr(context, "state", None)
    found = state.get(SOURCE_STATE_KEY) if state is not None else None
    return found if isinstance(found, str) else None


def source_view(sources: Mapping[str, Mapping[str, Any]], source_id: str | None,
                lang: str) -> dict[str, Any] | None:
    """"Vous êtes connecté(e) avec …": the source of this login (the session's own source
    when single sign-on answered), its name in the page's language and its logo."""
    source = sources.get(source_id) if isinstance(source_id, str) else None
    if source is None:
        return None
    return {"id": source_id, "name": localised(source.get("display_name") or source_id, lang),
            "logo": _logo(source.get("logo"))}


def screen_view(service: Mapping[str, Any], released: Mapping[str, Any],
                dictionary: Mapping[str, Mapping[str, str]], lang: str,
                provenance: Mapping[str, Mapping[str, str]] | None = None,
                source: Mapping[str, Any] | None = None,
                directories: Mapping[str, Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """Everything ``consent.html`` shows, apart from the form's technical fields; ``source``
    is :func:`source_view`'s answer (``None``: the screen does not say which account)."""
    basis = service["legal_basis"]
    basis_name, basis_text = LEGAL_BASES.get(basis, LEGAL_BASES["public_task"])[lang]
    lines = attribute_lines(released, service, dictionary, lang, provenance, directories)
    return {
        "service_name": localised(service["name"], lang),
        "organisation": localised(service["organisation"], lang),
        "logo": _logo(service.get("logo")),
        "purpose": localised(service["purpose"], lang),
        "source": source,
        "consent_basis": basis == "consent",
        "basis_name": basis_name,
        "basis_text": basis_text,
        # A legal text's title is French: marked as such on an English page.
        "legal_reference": localised(service.get("legal_reference") or "", lang),
        "mandatory": [line for line in lines if not line["optional"]],
        "optional": [line for line in lines if line["optional"]],
        "remember_days": int(service.get("remember_days") or 0),
    }
