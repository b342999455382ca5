"""The service request form of ``/partenaires/``: the registration request as HTML fields.

A plain form, no script: one field per field of the registration request
(:mod:`idp.partners.registration`), redirect URIs one per line, a fixed number of attribute
rows. What was typed is kept as strings (:func:`fields_of`) and shown again as is.

Checking is the command line's, in two steps: the registration request's schema
(``RegistrationRequest``), then the partner file it would become, validated with the whole
registry (:func:`idp.partners.edit.validate_with`, as ``ncconnect partenaires add`` does:
https redirect URIs, known sources reaching the level, attributes those sources provide…).
Each problem is ``field path: message`` in the schema's words; :func:`form_field` puts it
next to the form field it is about.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from idp.dictionary import Dictionary
from idp.partners.edit import (
    render_partner_file,
    slugify,
    validate_with,
    with_logo,
    with_organisation_id,
)
from idp.partners.logo_upload import Logo, checked_logo
from idp.partners.registration import RegistrationRequest
from idp.partners.registry import Registry
from idp.partners.schema import ID_PATTERN
from idp.partners.update import KEEP_LOGO, planned_update
from idp.schema_errors import ConfigError, field_path
from idp.uploads import Upload

#: Attribute rows of a new request's form (no script adds any); a change proposal shows
#: one row per attribute of the service and as many empty ones, up to :data:`MAX_ROWS`.
ATTRIBUTE_ROWS = 6
MAX_ROWS = 40
TEXT_FIELDS = ("organisation", "contact", "service_name", "purpose", "legal_basis",
               "legal_reference", "protocol", "redirect_uris", "token_endpoint_auth_method",
               "jwks_uri", "entity_id", "metadata_url", "loa_min", "remember_days")
#: Bounds of what a partner may type (the store holds it for a year).
MAX_FIELD = 2000
#: Where a problem no field owns is shown: above the form.
GENERAL = "general"


def fields_of(posted: Mapping[str, Any], source_ids: list[str]) -> dict[str, Any]:
    """The form as typed: strings (trimmed, bounded), the sources ticked, the attribute rows."""
    def text(name: str) -> str:
        value = posted.get(name)
        return value.strip()[:MAX_FIELD] if isinstance(value, str) else ""

    form: dict[str, Any] = {name: text(name) for name in TEXT_FIELDS}
    form["sources"] = [s for s in source_ids if posted.get(f"source_{s}") == "on"]
    rows = ATTRIBUTE_ROWS
    while rows < MAX_ROWS and f"attr_name_{rows}" in posted:
        rows += 1
    form["attributes"] = [{"name": text(f"attr_name_{i}"),
                           "justification": text(f"attr_justification_{i}"),
                           "optional": posted.get(f"attr_optional_{i}") == "on"}
                          for i in range(rows)]
    return form


def logo_of(uploads: Mapping[str, Upload], posted: Mapping[str, Any],
            previous: Mapping[str, Any] | None) -> tuple[dict[str, Any] | None, str]:
    """The request's logo after this POST, and the problem with the file sent (``""``: none).

    A file chosen replaces the logo (checked: :func:`idp.partners.logo_upload.checked_logo`);
    the box "remove" drops it; otherwise the request keeps the logo it had. Kept in the
    request as base64 (at most 256 KiB: the store holds the request for a year)."""
    upload = uploads.get("logo")
    if upload is not None and (upload.filename or upload.data):
        try:
            logo = checked_logo(upload.filename, upload.data)
        except ValueError as exc:
            return (previous or {}).get("logo"), str(exc)
        return {"suffix": logo.suffix, "size": len(logo.data),
                "data": base64.b64encode(logo.data).decode("ascii")}, ""
    if posted.get("logo_remove") == "on":
        return None, ""
    return (previous or {}).get("logo"), ""


def logo_bytes(form: Mapping[str, Any]) -> Logo | None:
    """The request's logo as written at approval (checked again: the store is not trusted)."""
    logo = form.get("logo")
    if not isinstance(logo, dict) or not isinstance(logo.get("data"), str):
        return None
    try:
        return checked_logo(f"logo{logo.get('suffix', '')}", base64.b64decode(logo["data"]))
    except (ValueError, binascii.Error):
        return None


def logo_decision(form: Mapping[str, Any]) -> Logo | str | None:
    """What a change does to the service's logo: keep it (:data:`KEEP_LOGO`), remove it
    (``None``) or replace it (the new file)."""
    logo = form.get("logo")
    if isinstance(logo, dict) and logo.get("kept"):
        return KEEP_LOGO
    return logo_bytes(form)


def empty_form(organisation_name: str = "") -> dict[str, Any]:
    form: dict[str, Any] = {name: "" for name in TEXT_FIELDS}
    form |= {"organisation": organisation_name, "protocol": "oidc", "loa_min": "substantial",
             "remember_days": "180", "token_endpoint_auth_method": "client_secret_basic",
             "sources": [], "attributes": [{"name": "", "justification": "", "optional": False}
                                           for _ in range(ATTRIBUTE_ROWS)]}
    return form


def request_data(form: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The registration request's fields from the form, and the row problems the schema
    cannot see (a justification without an attribute, an attribute twice)."""
    problems: dict[str, str] = {}
    attributes: dict[str, Any] = {}
    for i, row in enumerate(form["attributes"]):
        name = row["name"]
        if not name:
            if row["justification"]:
                problems[f"attr_name_{i}"] = "choose the attribute this justification is for"
            continue
        if name in attributes:
            problems[f"attr_name_{i}"] = f"{name} is already requested in an earlier row"
            continue
        attributes[name] = {"justification": row["justification"], "optional": row["optional"]}
    data: dict[str, Any] = {
        "organisation": form["organisation"], "contact": form["contact"],
        "service_name": form["service_name"], "purpose": form["purpose"],
        "legal_basis": form["legal_basis"], "protocol": form["protocol"],
        "sources": list(form["sources"]), "loa_min": form["loa_min"] or "low",
        "consent": {"remember_days": form["remember_days"] or "180"},
        "attributes": attributes}
    if form["legal_reference"]:
        data["legal_reference"] = form["legal_reference"]
    if form["protocol"] == "oidc":
        data["oidc"] = {"redirect_uris": form["redirect_uris"].split(),
                        "token_endpoint_auth_method": form["token_endpoint_auth_method"]
                        or "client_secret_basic"}
        if form.get("jwks_uri"):
            data["oidc"]["jwks_uri"] = form["jwks_uri"]
    elif form["protocol"] == "saml2":
        data["saml2"] = {"entity_id": form["entity_id"],
                         **({"metadata_url": form["metadata_url"]} if form["metadata_url"]
                            else {})}
    return data, problems


def form_field(path: str, form: Mapping[str, Any]) -> str:
    """The form field a problem at ``path`` (a field path of the request or of the partner
    file it becomes) is shown next to."""
    rows = {row["name"]: i for i, row in reversed(list(enumerate(form["attributes"])))
            if row["name"]}
    head = re.split(r"[.\[]", path, maxsplit=1)[0]
    if path.startswith("oidc.token_endpoint_auth_method"):
        return "token_endpoint_auth_method"
    if path.startswith("oidc.jwks"):
        return "jwks_uri"
    if head == "oidc":
        return "redirect_uris"
    if path.startswith("saml2.entity_id"):
        return "entity_id"
    if head == "saml2":
        return "metadata_url"
    if head == "consent":
        return "remember_days"
    if head == "attributes" and path != "attributes":
        name = path.split(".")[1].split("[")[0]
        if name in rows:
            which = "justification" if ".justification" in path else "name"
            return f"attr_{which}_{rows[name]}"
    if head in ("name", "id", "--id"):
        return "service_name"
    if path == "(document)":
        return "protocol"
    if head in TEXT_FIELDS or head in ("sources", "attributes"):
        return head
    return GENERAL


def _partner_files(request: RegistrationRequest, partner_id: str, organisation_id: str,
                   registry: Registry, folder: Path, service_id: str | None,
                   form: Mapping[str, Any]) -> tuple[str, dict[str, str | bytes]]:
    """(the partner file's name, the files the request writes: that file and its logo) — a
    new file (its secret hash a placeholder), or the service's file changed
    (:mod:`idp.partners.update`)."""
    if service_id is not None:
        path, _, files = planned_update(folder, service_id, request, registry,
                                        logo_decision(form))
        return path.name, files
    logo = logo_bytes(form)
    placeholder = hashlib.sha256(b"not a secret: replaced at approval").hexdigest()
    content = with_organisation_id(request.to_partner(
        partner_id, True, client_secret_sha256=placeholder
        if request.oidc is not None and request.oidc.uses_secret else None), organisation_id)
    files: dict[str, str | bytes] = {}
    if logo is not None:
        content = with_logo(content, f"{partner_id}.logo{logo.suffix}")
        files[content["logo"]] = logo.data
    name = f"{partner_id}.yaml"
    files[name] = render_partner_file(content, [])
    return name, files


def proposed_file(form: Mapping[str, Any], organisation_id: str, registry: Registry,
                  folder: Path, service_id: str | None
                  ) -> tuple[dict[str, Any] | None, dict[str, Any]] | None:
    """(the service's current file, the file the request would write) as YAML data, for the
    review's diff; ``None`` when the request does not make a partner file (its check says
    why)."""
    data, _ = request_data(form)
    try:
        request = RegistrationRequest.model_validate(data)
        partner_id = service_id or slugify(request.service_name)
        name, files = _partner_files(request, partner_id, organisation_id, registry, folder,
                                     service_id, form)
    except (ValidationError, ConfigError):
        return None
    current = None
    if service_id is not None:
        current = yaml.safe_load(registry.files[service_id].read_text(encoding="utf-8"))
    return current, yaml.safe_load(files[name])


@dataclass
class Checked:
    #: Form field -> messages (empty: the request is valid).
    errors: dict[str, list[str]]
    request: RegistrationRequest | None = None
    partner_id: str = ""

    def add(self, where: str, message: str) -> None:
        self.errors.setdefault(where, []).append(message)


def check(form: Mapping[str, Any], organisation_id: str, registry: Registry, folder: Path,
          dictionary: Dictionary, allow_loopback_http: bool,
          service_id: str | None = None) -> Checked:
    """Every problem of the request, by form field; the request when there is none."""
    data, problems = request_data(form)
    checked = Checked({})
    for where, message in problems.items():
        checked.add(where, message)
    try:
        request = RegistrationRequest.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"]
                        if not (isinstance(p, str) and p.startswith("function-")))
            message = err["msg"].removeprefix("Value error, ")
            if err["type"] == "missing":
                message = "is required"
            where = form_field(field_path(loc), form)
            if where == "redirect_uris" and "jwks" in message:
                where = "jwks_uri"
            checked.add(where, message)
        return checked
    if checked.errors:
        return checked
    partner_id = service_id or slugify(request.service_name)
    if not re.fullmatch(ID_PATTERN, partner_id):
        checked.add("service_name", f"gives the identifier {partner_id!r}, which must be 2 to "
                    "63 lowercase letters, digits or hyphens, a letter first: use letters")
        return checked
    if service_id is None and partner_id in registry.files:
        checked.add("service_name", f"gives the identifier {partner_id!r}, already used by "
                    "another service: choose another name")
        return checked
    for s in registry.services.values():
        if request.saml2 is not None and s.saml2 is not None \
                and s.saml2.entity_id == request.saml2.entity_id and s.id != service_id:
            checked.add("entity_id", "already used by another service: one SAML entity is "
                        "one service")
            return checked
    # The partner file it becomes, checked with the whole registry, as 'partenaires add' does.
    try:
        name, files = _partner_files(request, partner_id, organisation_id, registry, folder,
                                     service_id, form)
    except ConfigError as exc:
        # The service's file names a server path: the partner reads the problem only.
        problem = str(exc).partition(": ")[2]
        if problem.startswith("protocol: "):
            checked.add("protocol", problem.removeprefix("protocol: "))
        else:
            checked.add(GENERAL, "this service's file was edited by hand by the NC Connect "
                        "administrators: ask them to make this change")
        return checked
    try:
        validate_with(folder, files, dictionary, allow_loopback_http)
    except ConfigError as exc:
        ours = f"{folder / name}: "
        for line in str(exc).splitlines():
            if line.startswith(ours):
                where, _, message = line[len(ours):].partition(": ")
                checked.add(form_field(where, form), message)
            else:
                checked.add(GENERAL, "the registry cannot take a new service now: ask the "
                            "NC Connect administrators")
        return checked
    return Checked({}, request, partner_id)
