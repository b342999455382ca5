"""Changing the partner folder from the command line: adding a service, disabling or
enabling a partner, giving a service a new client secret.

The folder is what a running proxy reloads, so a change reaches it only whole
and valid: the registry *as it would be* is validated in a temporary copy of the
folder first, and the file then appears (or is replaced) with one atomic rename.
A human-edited partner file keeps its comments and layout: disabling touches one
line, and the result is checked to differ from the original in ``active`` only
(likewise a new secret, in ``oidc.client_secret_sha256`` and
``oidc.previous_client_secret`` only).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import re
import secrets
import shutil
import tempfile
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..dictionary import Dictionary
from ..schema_errors import ConfigError
from .logo_upload import Logo
from .registration import RegistrationRequest
from .registry import Registry, load_registry
from .schema import ID_PATTERN

#: Largest SAML metadata a request may bring (the proxy's own bound, see idp/assemble.py).
MAX_METADATA_BYTES = 1024 * 1024


def check_folder(folder: Path, dictionary: Dictionary, allow_loopback_http: bool) -> Registry:
    """``load_registry`` plus what the proxy also needs to start: an active identity source."""
    registry = load_registry(folder, dictionary, allow_loopback_http)
    if not any(s.active for s in registry.sources.values()):
        raise ConfigError(f"{folder}: no active identity source: the proxy needs one: keep "
                          "one active or add a partner file with 'kind: source'")
    return registry


def validate_with(folder: Path, changes: dict[str, str | bytes], dictionary: Dictionary,
                  allow_loopback_http: bool) -> Registry:
    """The registry of ``folder`` with ``changes`` (file name -> new content) applied, validated
    in a temporary copy; problems name the files of ``folder``, not the copy's.

    The copy is a hidden sibling of ``folder`` (a registry never reads subfolders), holding
    copies of the partner files and links to everything else (logos, metadata), so paths
    written in partner files, ``../`` included, resolve exactly as they do in ``folder``."""
    try:
        tmp = tempfile.mkdtemp(prefix=".ncc-check-", dir=folder.parent)
    except OSError:
        tmp = tempfile.mkdtemp(prefix="ncc-check-")
    try:
        copy = Path(tmp)
        for entry in folder.iterdir():
            if entry.name in changes:
                continue
            if entry.suffix == ".yaml" and entry.is_file():
                shutil.copyfile(entry, copy / entry.name)
            else:
                (copy / entry.name).symlink_to(entry.resolve())
        for name, content in changes.items():
            (copy / name).write_bytes(content.encode() if isinstance(content, str) else content)
        try:
            registry = check_folder(copy, dictionary, allow_loopback_http)
        except ConfigError as exc:
            raise ConfigError(str(exc).replace(str(copy), str(folder))) from exc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    registry.files = {pid: folder / path.name for pid, path in registry.files.items()}
    return registry


def atomic_write(path: Path, content: str | bytes, replace: bool) -> None:
    """Write ``content`` to ``path`` in one step: readers see the old file or the new one.

    The temporary file does not end in ``.yaml``, so a registry loaded meanwhile never
    reads it. Without ``replace`` an existing file is never overwritten (``link`` fails)."""
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content.encode("utf-8") if isinstance(content, str) else content)
            out.flush()
            os.fsync(out.fileno())
        if replace:
            if path.exists():
                shutil.copymode(path, tmp)
            else:
                tmp.chmod(0o644)
            os.replace(tmp, path)
        else:
            tmp.chmod(0o644)
            try:
                os.link(tmp, path)
            except FileExistsError as exc:
                raise ConfigError(f"{path}: already exists: nothing written") from exc
    finally:
        tmp.unlink(missing_ok=True)


# --- add -----------------------------------------------------------------------------------

def slugify(name: str) -> str:
    """A partner id from a service name, readable in URLs and logs:
    ``Mairie démo — état civil`` -> ``mairie-demo-etat-civil``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:63].rstrip("-")


#: Comments written above the sections of a new partner file, for the next reader.
SECTION_COMMENTS: dict[str, str] = {
    "active": "false (ncconnect partenaires disable) stops serving it; the file stays.",
    "purpose": "Shown to the usager on the consent screen and to the DPO in the diffusion "
               "report.",
    "loa_min": "Weakest eIDAS level (low, substantial, high) of a source this service accepts.",
    "protocol": "Technical connection; redirect URIs are matched exactly.",
    "sources": "Identity sources offered to the usager on the choice page.",
    "attributes": "The most this service may ever receive, and why; optional ones can be "
                  "unticked by the usager.",
}


def render_partner_file(data: dict[str, Any], header: list[str]) -> str:
    """A readable, commented partner file whose YAML is exactly ``data``. Header lines are
    flattened: a line break in a service name must not end the comment."""
    lines = [f"# {' '.join(h.split())}" for h in header]
    for key, value in data.items():
        if key in SECTION_COMMENTS:
            lines.append(f"# {SECTION_COMMENTS[key]}")
        lines.append(yaml.safe_dump({key: value}, allow_unicode=True, sort_keys=False,
                                    default_flow_style=False, width=100).rstrip("\n"))
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != data:
        raise AssertionError("rendered partner file does not round-trip")
    return text


@dataclass
class Added:
    path: Path
    partner_id: str
    #: The generated client secret (secret-based OIDC clients only): shown once, never kept.
    client_secret: str | None
    registry: Registry


#: Field of the partner file -> field of the registration request, where they differ.
REQUEST_FIELDS = {"name": "service_name", "id": "--id", "oidc.client_id": "--id"}


def _as_request_problem(line: str, partner_file: Path, request_path: Path) -> str:
    prefix = f"{partner_file}: "
    if not line.startswith(prefix):
        return line
    field, sep, message = line[len(prefix):].partition(": ")
    return f"{request_path}: {REQUEST_FIELDS.get(field, field)}{sep}{message}"


def _metadata_copy(request: RegistrationRequest, request_path: Path) -> bytes | None:
    if request.saml2 is None or not request.saml2.metadata_file:
        return None
    where = f"{request_path}: saml2.metadata_file"
    source = (request_path.parent / request.saml2.metadata_file).resolve()
    try:
        data = source.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{where}: cannot read {source} ({exc.strerror}): fix the path "
                          "(relative to the request file)") from exc
    if len(data) > MAX_METADATA_BYTES:
        raise ConfigError(f"{where}: larger than {MAX_METADATA_BYTES} bytes: not SAML metadata")
    entity = request.saml2.entity_id
    if f'entityID="{entity}"'.encode() not in data and f"entityID='{entity}'".encode() not in data:
        raise ConfigError(f"{where}: {source} does not describe entityID {entity!r}: send the "
                          "metadata of this entity_id, or fix saml2.entity_id")
    return data


def _taken(current: Registry, request_path: Path, partner_id: str,
           request: RegistrationRequest) -> str | None:
    """A client_id or entity_id another service already has (the registry would report it
    against whichever file sorts second; the request is the one to change)."""
    for s in current.services.values():
        if request.oidc is not None and s.oidc is not None and s.oidc.client_id == partner_id:
            return (f"{request_path}: --id: client_id '{partner_id}' is already used by "
                    f"{current.files[s.id]}: choose another id with --id")
        if (request.saml2 is not None and s.saml2 is not None
                and s.saml2.entity_id == request.saml2.entity_id):
            return (f"{request_path}: saml2.entity_id: '{s.saml2.entity_id}' is already used "
                    f"by {current.files[s.id]}: one SAML entity is one service")
    return None


def add_service(folder: Path, request_path: Path, request: RegistrationRequest,
                dictionary: Dictionary, allow_loopback_http: bool,
                partner_id: str | None = None, active: bool = True,
                organisation_id: str | None = None, registered_by: str | None = None,
                logo: Logo | None = None) -> Added:
    """Write ``folder/<id>.yaml`` for a registration request, or raise without writing.

    ``organisation_id`` (the partner portal's approvals) is written after ``organisation``;
    ``logo`` (uploaded through the portal, already checked) as ``<id>.logo<suffix>``;
    ``registered_by`` replaces the header's "with `ncconnect partenaires add`"."""
    current = check_folder(folder, dictionary, allow_loopback_http)
    if partner_id is None:
        partner_id = slugify(request.service_name)
        if not re.fullmatch(ID_PATTERN, partner_id):
            raise ConfigError(f"{request_path}: service_name: gives the id {partner_id!r}, which "
                              f"does not match {ID_PATTERN}: choose an id with --id")
    elif not re.fullmatch(ID_PATTERN, partner_id):
        raise ConfigError(f"--id: {partner_id!r} must match {ID_PATTERN} (lowercase letters, "
                          "digits, hyphens; a letter first)")
    path = folder / f"{partner_id}.yaml"
    if partner_id in current.files:
        raise ConfigError(f"{request_path}: id '{partner_id}' is already used by "
                          f"{current.files[partner_id]}: choose another with --id")
    if path.exists():
        raise ConfigError(f"{request_path}: {path} already exists: choose another id with --id")

    taken = _taken(current, request_path, partner_id, request)
    if taken:
        raise ConfigError(taken)

    metadata = _metadata_copy(request, request_path)
    metadata_path = folder / f"{partner_id}.metadata.xml"
    if metadata is not None and metadata_path.exists():
        raise ConfigError(f"{request_path}: {metadata_path} already exists: remove it or "
                          "choose another id with --id")
    secret = None
    if request.oidc is not None and request.oidc.uses_secret:
        secret = secrets.token_urlsafe(32)
    data = request.to_partner(
        partner_id, active,
        client_secret_sha256=hashlib.sha256(secret.encode()).hexdigest() if secret else None,
        metadata_file=metadata_path.name if metadata is not None else None)
    if organisation_id is not None:
        data = with_organisation_id(data, organisation_id)
    logo_path = folder / f"{partner_id}.logo{logo.suffix}" if logo is not None else None
    if logo_path is not None:
        if logo_path.exists():
            raise ConfigError(f"{request_path}: {logo_path} already exists: remove it or "
                              "choose another id with --id")
        data = with_logo(data, logo_path.name)
    header = [f"{request.service_name} ({request.organisation}).",
              f"Registered {registered_by or 'with `ncconnect partenaires add`'} from "
              f"{request_path.name} on {dt.date.today().isoformat()}."]
    if secret:
        header.append("The client secret was given once to the partner; only its SHA-256 "
                      "is kept here.")
    text = render_partner_file(data, header)
    try:
        changes: dict[str, str | bytes] = {path.name: text}
        if metadata is not None:
            changes[metadata_path.name] = metadata
        if logo is not None and logo_path is not None:
            changes[logo_path.name] = logo.data
        registry = validate_with(folder, changes, dictionary, allow_loopback_http)
    except ConfigError as exc:
        lines = [_as_request_problem(line, path, request_path) for line in str(exc).splitlines()]
        raise ConfigError("\n".join(lines)) from exc

    if metadata is not None:
        atomic_write(metadata_path, metadata, replace=False)
    if logo is not None and logo_path is not None:
        atomic_write(logo_path, logo.data, replace=False)
    try:
        atomic_write(path, text, replace=False)
    except ConfigError:
        if metadata is not None:
            metadata_path.unlink(missing_ok=True)
        if logo_path is not None:
            logo_path.unlink(missing_ok=True)
        raise
    return Added(path, partner_id, secret, registry)


def placed_after(data: dict[str, Any], field: str, value: Any, after: str) -> dict[str, Any]:
    """The partner file's content with ``field: value`` right after ``after`` (replacing
    any earlier ``field``; at the end without ``after``): a file read by people keeps its
    fields in the order the README documents them."""
    out: dict[str, Any] = {}
    for key, current in data.items():
        if key != field:
            out[key] = current
        if key == after:
            out[field] = value
    if field not in out:
        out[field] = value
    return out


def with_logo(data: dict[str, Any], name: str) -> dict[str, Any]:
    """The partner file's content with ``logo: name`` after ``contact``."""
    return placed_after(data, "logo", name, "contact")


def with_organisation_id(data: dict[str, Any], organisation_id: str) -> dict[str, Any]:
    """The partner file's content with ``organisation_id`` right after ``organisation``."""
    return placed_after(data, "organisation_id", organisation_id, "organisation")


# --- a new client secret -------------------------------------------------------------------

_SECRET_LINE = re.compile(r"^(?P<indent>[ \t]+)client_secret_sha256:[^\n]*$", re.MULTILINE)
_PREVIOUS_LINE = re.compile(r"^(?P<indent>[ \t]+)previous_client_secret:[^\n]*$", re.MULTILINE)

#: Longest overlap of a new client secret with the previous one (90 days): long enough for a
#: partner's release cycle, short enough that a leaked secret does not live on unnoticed.
MAX_OVERLAP_SECONDS = 90 * 24 * 3600


@dataclass(frozen=True)
class Previous:
    """The previous secret kept for an overlap: its SHA-256 and when it stops working."""

    sha256: str
    expires_at: dt.datetime

    @property
    def expires_at_text(self) -> str:
        """As written in the partner file and shown to the operator: ISO-8601 UTC, ``Z``."""
        return self.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ")


def _without_previous(lines: list[str], indent: str) -> list[str]:
    """``lines`` without the ``previous_client_secret:`` entry at ``indent`` (its line and
    the more indented lines of a block mapping under it)."""
    out: list[str] = []
    skipping = False
    for line in lines:
        if skipping:
            stripped = line.lstrip(" \t")
            if stripped and len(line) - len(stripped) > len(indent):
                continue
            skipping = False
        if line.startswith(f"{indent}previous_client_secret:"):
            skipping = True
            continue
        out.append(line)
    return out


def with_secret_sha256(text: str, digest: str, previous: Previous | None = None) -> str:
    """The partner file with ``oidc.client_secret_sha256`` set to ``digest`` and
    ``oidc.previous_client_secret`` set to ``previous`` (right after the secret), or
    removed when ``previous`` is ``None``; nothing else changed (checked by re-parsing, like
    :func:`with_active`)."""
    found = list(_SECRET_LINE.finditer(text))
    if len(found) != 1:
        raise ConfigError("has no single 'client_secret_sha256:' line under 'oidc:': set the "
                          "hash by hand (ncconnect partenaires hash-secret)")
    m = found[0]
    indent = m["indent"]
    if any(p["indent"] != indent for p in _PREVIOUS_LINE.finditer(text)):
        raise ConfigError("its 'previous_client_secret:' is not beside 'client_secret_sha256:': "
                          "set both by hand")
    head, tail = text[:m.start()], text[m.end():]
    secret_lines = [f"{indent}client_secret_sha256: {digest}"]
    if previous is not None:
        secret_lines += [f"{indent}previous_client_secret:",
                         f"{indent}  sha256: {previous.sha256}",
                         f"{indent}  expires_at: {previous.expires_at_text}"]
    marker = "\0"
    lines = _without_previous((head + marker + tail).split("\n"), indent)
    new = "\n".join(lines).replace(marker, "\n".join(secret_lines), 1)
    before, after = yaml.safe_load(text), yaml.safe_load(new)
    oidc = {k: v for k, v in before.get("oidc", {}).items() if k != "previous_client_secret"}
    oidc["client_secret_sha256"] = digest
    if previous is not None:
        oidc["previous_client_secret"] = {"sha256": previous.sha256,
                                          "expires_at": previous.expires_at}
    if after != {**before, "oidc": oidc}:
        raise ConfigError("its layout is unusual and the edit would change more than "
                          "'oidc.client_secret_sha256' and 'oidc.previous_client_secret': set "
                          "them by hand")
    return new


@dataclass
class NewSecret:
    path: Path
    #: The new client secret: shown once, never kept (only its SHA-256 is written).
    client_secret: str
    registry: Registry
    #: The previous secret, still accepted until its expiry (``None``: it stopped at once).
    previous: Previous | None = None


def new_client_secret(folder: Path, partner_id: str, dictionary: Dictionary,
                      allow_loopback_http: bool, overlap_seconds: int = 0,
                      now: float | None = None) -> NewSecret:
    """Generate a client secret for a secret-based OIDC service and write its SHA-256 into the
    service's file (validated with the whole registry, atomically).

    With ``overlap_seconds`` the current secret's hash is kept as
    ``oidc.previous_client_secret``, accepted until ``now + overlap_seconds`` (``now``
    defaults to the clock), so the partner switches without an outage; an earlier previous
    secret is replaced (only the secret being replaced can still be in use). Without, the
    previous secret (and any earlier one) stops working at the next reload."""
    if not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        raise ConfigError(f"overlap: {overlap_seconds} seconds: give 0 to "
                          f"{MAX_OVERLAP_SECONDS} (90 days)")
    current = check_folder(folder, dictionary, allow_loopback_http)
    service = current.services.get(partner_id)
    if service is None:
        raise unknown_partner(folder, partner_id, current)
    path = current.files[partner_id]
    if service.oidc is None or service.oidc.token_endpoint_auth_method not in (
            "client_secret_basic", "client_secret_post"):
        raise ConfigError(f"{path}: oidc.token_endpoint_auth_method: this service does not "
                          "authenticate with a client secret")
    previous = None
    if overlap_seconds and service.oidc.client_secret_sha256:
        start = int(time.time() if now is None else now)
        previous = Previous(service.oidc.client_secret_sha256,
                            dt.datetime.fromtimestamp(start + overlap_seconds, dt.UTC))
    secret = secrets.token_urlsafe(32)
    try:
        new = with_secret_sha256(path.read_text(encoding="utf-8"),
                                 hashlib.sha256(secret.encode()).hexdigest(), previous)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    registry = validate_with(folder, {path.name: new}, dictionary, allow_loopback_http)
    atomic_write(path, new, replace=True)
    return NewSecret(path, secret, registry, previous)


# --- disable, enable ----------------------------------------------------------------------

_ACTIVE_LINE = re.compile(r"^active:[ \t]*(?P<value>[^#\n]*?)[ \t]*(?P<comment>#[^\n]*)?$",
                          re.MULTILINE)
_ID_LINE = re.compile(r"^id:[^\n]*$", re.MULTILINE)


def with_active(text: str, active: bool) -> str:
    """The partner file with its top-level ``active:`` set to ``active``, and nothing else
    changed: the one line is edited (its comment kept), or ``active: ...`` inserted after
    ``id:``."""
    value = "true" if active else "false"
    found = list(_ACTIVE_LINE.finditer(text))
    if len(found) > 1:
        raise ConfigError("has several top-level 'active:' lines: keep one")
    if found:
        m = found[0]
        line = f"active: {value}" + (f"  {m['comment']}" if m["comment"] else "")
        new = text[:m.start()] + line + text[m.end():]
    else:
        ids = list(_ID_LINE.finditer(text))
        if len(ids) != 1:
            raise ConfigError(f"has no single top-level 'id:' line to put 'active: {value}' "
                              f"after: add 'active: {value}' by hand")
        new = text[:ids[0].end()] + f"\nactive: {value}" + text[ids[0].end():]
    before, after = yaml.safe_load(text), yaml.safe_load(new)
    if after != {**before, "active": active}:
        raise ConfigError("its layout is unusual and the edit would change more than "
                          f"'active': set 'active: {value}' by hand")
    return new


def with_active_false(text: str) -> str:
    """The partner file with ``active: false`` (see :func:`with_active`)."""
    return with_active(text, False)


@dataclass
class Disabled:
    path: Path
    changed: bool
    registry: Registry


@dataclass
class Enabled:
    path: Path
    changed: bool
    registry: Registry


def _set_active(folder: Path, partner_id: str, dictionary: Dictionary,
                allow_loopback_http: bool, active: bool) -> tuple[Path, bool, Registry]:
    """Set one partner's ``active:``, validated with the whole registry, atomically; nothing
    is written when it already has that value."""
    current = check_folder(folder, dictionary, allow_loopback_http)
    partner = (current.services.get(partner_id) or current.sources.get(partner_id)
               or current.directories.get(partner_id))
    if partner is None:
        raise unknown_partner(folder, partner_id, current)
    path = current.files[partner_id]
    if partner.active == active:
        return path, False, current
    text = path.read_text(encoding="utf-8")
    try:
        new = with_active(text, active)
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    registry = validate_with(folder, {path.name: new}, dictionary, allow_loopback_http)
    atomic_write(path, new, replace=True)
    return path, True, registry


def disable_partner(folder: Path, partner_id: str, dictionary: Dictionary,
                    allow_loopback_http: bool) -> Disabled:
    """Set ``active: false`` in one partner's file, validated, atomically; idempotent."""
    return Disabled(*_set_active(folder, partner_id, dictionary, allow_loopback_http, False))


def enable_partner(folder: Path, partner_id: str, dictionary: Dictionary,
                   allow_loopback_http: bool) -> Enabled:
    """Set ``active: true`` in one partner's file (its comment kept), validated with the
    whole registry, atomically; idempotent. The way back from :func:`disable_partner`
    without editing the file by hand."""
    return Enabled(*_set_active(folder, partner_id, dictionary, allow_loopback_http, True))


def unknown_partner(folder: Path, partner_id: str, registry: Registry) -> ConfigError:
    known = ", ".join(sorted(registry.files)) or "none"
    return ConfigError(f"no partner '{partner_id}' in {folder} (known: {known})")
