"""Change proposals for an approved service: the form filled in from its partner file, and
which changes need the administrators' review.

The rule (issue 16, as FranceConnect's DataPass applies it): what the citizen is told or
what the service receives needs a review — the names and purpose the consent screen shows,
the legal basis, the attributes, the sources, the level, how long a consent is remembered,
how the client authenticates. A redirect URI on a host already approved, or a new contact
address, changes nothing the citizen sees nor where their data may go: applied at once
(and audited). A redirect URI on a new host needs a review: it is where codes are sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from .formulaire import ATTRIBUTE_ROWS, TEXT_FIELDS

#: Fields a change may alter without a review (see the module's docstring).
WITHOUT_REVIEW = ("contact", "redirect_uris")


def _french(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("fr", ""))
    return "" if value is None else str(value)


def form_of_service(data: Mapping[str, Any]) -> dict[str, Any]:
    """The request form as it would have to be filled in to give this partner file: the
    starting point of a change proposal (French texts: the form's language)."""
    oidc = data.get("oidc") or {}
    saml = data.get("saml2") or {}
    attributes = [{"name": name, "justification": _french(entry.get("justification")),
                   "optional": bool(entry.get("optional"))}
                  for name, entry in (data.get("attributes") or {}).items()
                  if isinstance(entry, dict)]
    attributes += [{"name": "", "justification": "", "optional": False}
                   for _ in range(max(0, ATTRIBUTE_ROWS - len(attributes)))]
    return {
        "organisation": _french(data.get("organisation")), "contact": data.get("contact", ""),
        "service_name": _french(data.get("name")), "purpose": _french(data.get("purpose")),
        "legal_basis": data.get("legal_basis", ""),
        "legal_reference": data.get("legal_reference", "") or "",
        "protocol": data.get("protocol", ""),
        "redirect_uris": "\n".join(oidc.get("redirect_uris") or []),
        "token_endpoint_auth_method": oidc.get("token_endpoint_auth_method", "")
        if oidc else "client_secret_basic",
        "jwks_uri": oidc.get("jwks_uri", "") or "",
        "entity_id": saml.get("entity_id", ""), "metadata_url": saml.get("metadata_url", "")
        or "",
        "loa_min": data.get("loa_min", "low"),
        "remember_days": str((data.get("consent") or {}).get("remember_days", 180)),
        "sources": list(data.get("sources") or []), "attributes": attributes,
        # The service's logo stays unless a file is sent or the box "remove" ticked.
        "logo": {"kept": True, "name": data["logo"]} if data.get("logo") else None}


def _hosts(uris: str) -> set[str]:
    out = set()
    for uri in uris.split():
        parts = urlsplit(uri)
        out.add(f"{parts.scheme.lower()}://{(parts.netloc or '').lower()}")
    return out


def _attributes(form: Mapping[str, Any]) -> set[tuple[str, str, bool]]:
    return {(row["name"], row["justification"], bool(row["optional"]))
            for row in form["attributes"] if row["name"]}


def changed_fields(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The form fields whose value differs (redirect URIs compared as a set)."""
    out = []
    for name in TEXT_FIELDS:
        if name == "redirect_uris":
            if set(before[name].split()) != set(after[name].split()):
                out.append(name)
        elif before.get(name, "") != after.get(name, ""):
            out.append(name)
    if set(before["sources"]) != set(after["sources"]):
        out.append("sources")
    if _attributes(before) != _attributes(after):
        out.append("attributes")
    if _logo(before) != _logo(after):
        out.append("logo")
    return out


def _logo(form: Mapping[str, Any]) -> str | None:
    """What a form says of the logo: none, the service's own, or a new file (its content)."""
    logo = form.get("logo")
    if not isinstance(logo, dict):
        return None
    return "kept" if logo.get("kept") else str(logo.get("data"))


def review_reasons(before: Mapping[str, Any], after: Mapping[str, Any]) -> list[str]:
    """The changed fields that need the administrators' review; empty: apply at once."""
    reasons = [f for f in changed_fields(before, after) if f not in WITHOUT_REVIEW]
    if "redirect_uris" in changed_fields(before, after) \
            and not _hosts(after["redirect_uris"]) <= _hosts(before["redirect_uris"]):
        reasons.append("redirect_uris")
    return reasons
