"""What the consent or information screen says: the words, and each attribute as a line.

Kept apart from the micro-service so the page can be read and changed without
touching the flow: the service's purpose and legal basis in plain words, and every
attribute with the dictionary's label, its value as the service will receive it
(formatted for a person: ``14/05/1987``, ``Femme``) and its description.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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

#: Logos the page's Content-Security-Policy (img-src 'self' data:) lets the browser show.
SHOWABLE_LOGO = ("/static/", "data:image/")


def display_value(fmt: str, value: Any, lang: str) -> str:
    """One released value as a person reads it; the service receives the canonical form."""
    text = str(value)
    if fmt == "date" and len(text) == 10 and text[4] == "-" and text[7] == "-":
        return f"{text[8:10]}/{text[5:7]}/{text[0:4]}"
    if fmt == "gender":
        return GENDER_WORDS[lang].get(text, text)
    return text


def display_values(fmt: str, values: Any, lang: str) -> str:
    items = values if isinstance(values, list | tuple) else [values]
    return ", ".join(display_value(fmt, v, lang) for v in items if v is not None)


def attribute_lines(released: Mapping[str, Any], service: Mapping[str, Any],
                    dictionary: Mapping[str, Mapping[str, str]], lang: str,
                    provenance: Mapping[str, Mapping[str, str]] | None = None) -> list[dict]:
    """One line per released attribute, in dictionary order (names first, as on a form);
    ``provided_by`` names the administration that supplied a value (enrichment)."""
    provenance = provenance or {}
    order = {name: i for i, name in enumerate(dictionary)}
    lines = []
    for name in sorted(released, key=lambda n: (order.get(n, len(order)), n)):
        entry = dictionary.get(name, {})
        policy = service["attributes"].get(name, {})
        lines.append({
            "name": name,
            "label": entry.get(f"label_{lang}") or entry.get("label_fr") or name,
            "value": display_values(entry.get("format", "text"), released[name], lang),
            "description": entry.get("description_fr", ""),
            "justification": policy.get("justification", ""),
            "optional": bool(policy.get("optional")),
            "provided_by": str(provenance.get(name, {}).get("organisation") or ""),
        })
    return lines


def screen_view(service: Mapping[str, Any], released: Mapping[str, Any],
                dictionary: Mapping[str, Mapping[str, str]], lang: str,
                provenance: Mapping[str, Mapping[str, str]] | None = None) -> dict[str, Any]:
    """Everything ``consent.html`` shows, apart from the form's technical fields."""
    basis = service["legal_basis"]
    basis_name, basis_text = LEGAL_BASES.get(basis, LEGAL_BASES["public_task"])[lang]
    lines = attribute_lines(released, service, dictionary, lang, provenance)
    logo = service.get("logo") or ""
    return {
        "service_name": service["name"],
        "organisation": service["organisation"],
        "logo": logo if logo.startswith(SHOWABLE_LOGO) else "",
        "purpose": service["purpose"],
        "consent_basis": basis == "consent",
        "basis_name": basis_name,
        "basis_text": basis_text,
        "legal_reference": service.get("legal_reference") or "",
        "mandatory": [line for line in lines if not line["optional"]],
        "optional": [line for line in lines if line["optional"]],
        "remember_days": int(service.get("remember_days") or 0),
    }
