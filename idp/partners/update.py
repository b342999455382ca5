"""Changing an approved service from a registration request: the partner portal's change
proposals, once approved (or needing no review).

The request says what its organisation may decide (names, purpose, legal basis, redirect
URIs, sources, level, attributes…); the partner file also holds what the federation decided
(``id``, ``client_id``, secret hashes, ``active``, ``organisation_id``, SAML options, logo).
:func:`updated_content` therefore starts from the current file and replaces only the fields
the request changes: a field left as it was keeps its exact value (an English name, a
``metadata_file``), and nothing the federation decided is ever taken from a request.

The file is written back in the layout ``ncconnect partenaires add`` writes (its header
comment kept, one line added). A file with other comments (edited by hand) is refused rather
than rewritten without them: its administrator applies the change by hand.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..dictionary import Dictionary
from ..schema_errors import ConfigError
from .edit import (
    SECTION_COMMENTS,
    atomic_write,
    check_folder,
    render_partner_file,
    unknown_partner,
    validate_with,
    with_logo,
)
from .logo_upload import Logo
from .registration import RegistrationRequest
from .registry import Registry

#: Top-level fields a request decides (the rest of the file is the federation's).
REQUEST_FIELDS = ("name", "organisation", "contact", "purpose", "legal_basis",
                  "legal_reference", "loa_min", "consent", "sources", "attributes")
#: The header line a change writes (replaced by the next change's, never piled up).
CHANGED_NOTE = "Changed through the partner portal"
_COMMENT_LINE = re.compile(r"^\s*#\s?(?P<text>.*)$")
_TRAILING_COMMENT = re.compile(r"\s#")


def header_of(text: str) -> list[str]:
    """The comment lines at the top of a partner file (its "who registered it")."""
    header = []
    for line in text.splitlines():
        m = _COMMENT_LINE.match(line)
        if m is None:
            break
        if m["text"] in SECTION_COMMENTS.values():
            break
        header.append(m["text"])
    return header


def foreign_comments(text: str) -> bool:
    """Whether the file holds comments a rewrite would lose: any comment that is neither its
    header nor one of the section comments ``partenaires add`` writes (a trailing ``#`` in a
    value counts too: a false alarm only means the change is applied by hand)."""
    header = len(header_of(text))
    for i, line in enumerate(text.splitlines()):
        m = _COMMENT_LINE.match(line)
        if m is not None:
            if i >= header and m["text"] not in SECTION_COMMENTS.values():
                return True
        elif _TRAILING_COMMENT.search(line):
            return True
    return False


def _same_text(current: Any, wanted: str) -> bool:
    """A partner text (plain or ``{fr, en}``) the form shows as its French text."""
    if isinstance(current, dict):
        return current.get("fr") == wanted
    return current == wanted


def updated_content(current: dict[str, Any], request: RegistrationRequest,
                    partner_id: str) -> dict[str, Any]:
    """The partner file ``current`` with what ``request`` changes; everything else kept."""
    proposed = request.to_partner(partner_id, bool(current.get("active", True)))
    out = dict(current)
    for key in REQUEST_FIELDS:
        if key in ("name", "organisation", "purpose"):
            if not _same_text(current.get(key), proposed[key]):
                out[key] = proposed[key]
        elif key == "attributes":
            out[key] = _updated_attributes(current.get(key) or {}, proposed[key])
        elif key == "consent":
            out[key] = {**(current.get(key) or {}), **proposed[key]}
        elif key in proposed:
            if current.get(key) != proposed[key]:
                out[key] = proposed[key]
        else:
            out.pop(key, None)
    if request.oidc is not None:
        out["oidc"] = _updated_oidc(dict(current.get("oidc") or {}), proposed["oidc"])
    if request.saml2 is not None:
        saml = dict(current.get("saml2") or {})
        saml["entity_id"] = request.saml2.entity_id
        if request.saml2.metadata_url and saml.get("metadata_url") != request.saml2.metadata_url:
            saml.pop("metadata_file", None)
            saml["metadata_url"] = request.saml2.metadata_url
        out["saml2"] = saml
    return out


def _updated_attributes(current: dict[str, Any], proposed: dict[str, Any]) -> dict[str, Any]:
    """The requested attributes, each keeping its current entry (an English justification)
    when the request left it as it was."""
    out = {}
    for name, wanted in proposed.items():
        entry = current.get(name)
        if isinstance(entry, dict) and _same_text(entry.get("justification"),
                                                  wanted["justification"]) \
                and bool(entry.get("optional")) == bool(wanted.get("optional")):
            out[name] = entry
        else:
            out[name] = wanted
    return out


def _updated_oidc(oidc: dict[str, Any], proposed: dict[str, Any]) -> dict[str, Any]:
    oidc["redirect_uris"] = proposed["redirect_uris"]
    method = proposed["token_endpoint_auth_method"]
    if method == "private_key_jwt":
        for key in ("client_secret_sha256", "previous_client_secret", "jwks"):
            oidc.pop(key, None)
        oidc["jwks_uri"] = proposed.get("jwks_uri")
        if proposed.get("jwks") is not None:
            oidc.pop("jwks_uri", None)
            oidc["jwks"] = proposed["jwks"]
    else:
        for key in ("jwks", "jwks_uri"):
            oidc.pop(key, None)
        if not oidc.get("client_secret_sha256"):
            # A secret nobody knows until the partner generates one on the service's page.
            oidc["client_secret_sha256"] = hashlib.sha256(
                secrets.token_bytes(32)).hexdigest()
    oidc["token_endpoint_auth_method"] = method
    return oidc


@dataclass
class Updated:
    path: Path
    content: dict[str, Any]
    registry: Registry


#: A change's logo: keep the current one, remove it, or a new file.
KEEP_LOGO = "keep"


def planned_update(folder: Path, partner_id: str, request: RegistrationRequest,
                   registry: Registry, logo: Logo | str | None = KEEP_LOGO
                   ) -> tuple[Path, dict[str, Any], dict[str, str | bytes]]:
    """(path, new content, files to write: the partner file's new text and a new logo) of a
    change, without writing; refused when the service is unknown, changes protocol or its
    file has hand-written comments. ``logo``: :data:`KEEP_LOGO`, ``None`` (removed) or a
    new :class:`~.logo_upload.Logo`, written as ``<id>.logo<suffix>``."""
    service = registry.services.get(partner_id)
    if service is None:
        raise unknown_partner(folder, partner_id, registry)
    path = registry.files[partner_id]
    if service.protocol != request.protocol:
        raise ConfigError(f"{path}: protocol: a change cannot switch {service.protocol} to "
                          f"{request.protocol}: request a new service instead")
    text = path.read_text(encoding="utf-8")
    if foreign_comments(text):
        raise ConfigError(f"{path}: holds comments written by hand, which a rewrite would "
                          "lose: apply this change by editing the file, then reload")
    current = yaml.safe_load(text)
    content = updated_content(current, request, partner_id)
    files: dict[str, str | bytes] = {}
    if logo is None:
        content.pop("logo", None)
    elif isinstance(logo, Logo):
        content = with_logo(content, f"{partner_id}.logo{logo.suffix}")
        files[content["logo"]] = logo.data
    header = [*(h for h in header_of(text) if not h.startswith(CHANGED_NOTE)),
              f"{CHANGED_NOTE} on {dt.date.today().isoformat()}."]
    files[path.name] = render_partner_file(content, header)
    return path, content, files


def update_service(folder: Path, partner_id: str, request: RegistrationRequest,
                   dictionary: Dictionary, allow_loopback_http: bool,
                   logo: Logo | str | None = KEEP_LOGO) -> Updated:
    """Rewrite one service's file with ``request``'s changes, validated with the whole
    registry first, atomically (a new logo first: the old file never names a missing one);
    raises without writing."""
    registry = check_folder(folder, dictionary, allow_loopback_http)
    path, content, files = planned_update(folder, partner_id, request, registry, logo)
    registry = validate_with(folder, files, dictionary, allow_loopback_http)
    for name, data in files.items():
        if name != path.name:
            atomic_write(folder / name, data, replace=True)
    atomic_write(path, files[path.name], replace=True)
    return Updated(path, content, registry)
