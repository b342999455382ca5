"""Loading ``partenaires/`` into one validated registry, or refusing to start."""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml
from pydantic import TypeAdapter, ValidationError

from ..dictionary import PIVOT, Dictionary
from ..dictionary.formats import FORMATS
from ..schema_errors import ConfigError, explain
from .match_filter import placeholders
from .match_filter import problems as match_problems
from .schema import LOA_LEVELS, Directory, Service, Source

_partner = TypeAdapter(Service | Source | Directory)

#: A partner file larger than this is not a partner file.
MAX_PARTNER_FILE = 64 * 1024
#: Logos are served by the proxy itself (its CSP allows images from 'self' only).
MAX_LOGO_BYTES = 256 * 1024
LOGO_TYPES = {".png": "image/png", ".svg": "image/svg+xml", ".jpg": "image/jpeg"}


@dataclass
class Registry:
    services: dict[str, Service] = field(default_factory=dict)
    sources: dict[str, Source] = field(default_factory=dict)
    #: Administration directories that may complete a login (enrichment).
    directories: dict[str, Directory] = field(default_factory=dict)
    files: dict[str, Path] = field(default_factory=dict)
    #: Problems of attributes a service may receive and never can (see :func:`providers`):
    #: empty unless ``load_registry(..., keep_undeliverable=True)`` kept them instead of
    #: refusing the registry (the diffusion report shows them).
    undeliverable: list[str] = field(default_factory=list)

    def oidc_services(self) -> list[Service]:
        return [s for s in self.services.values() if s.protocol == "oidc"]

    def saml_services(self) -> list[Service]:
        return [s for s in self.services.values() if s.protocol == "saml2"]

    def gives_pivot(self, source_id: str) -> bool:
        """Whether this source provides the whole identity pivot (see idp/dictionary/pivot.py)."""
        return set(PIVOT) <= self.sources[source_id].attributes.keys()

    def resolve(self, partner_id: str, relative: str) -> Path:
        """A path written in a partner file is relative to that file."""
        return (self.files[partner_id].parent / relative).resolve()


def is_loopback(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_url(url: str, allow_loopback_http: bool) -> str | None:
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.netloc:
        return None
    if parts.scheme == "http" and allow_loopback_http and is_loopback(url):
        return None
    if parts.scheme == "http" and is_loopback(url):
        return f"{url!r} must use https (loopback http is allowed only in demo mode)"
    return f"{url!r} must use https (or loopback in demo mode)"


def _load_file(path: Path) -> Service | Source | Directory:
    if path.stat().st_size > MAX_PARTNER_FILE:
        raise ConfigError(f"{path}: larger than {MAX_PARTNER_FILE} bytes: not a partner file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(
            f"{path}: (document): must be a mapping with 'kind: service' or 'kind: source'"
        )
    if data.get("kind") not in ("service", "source", "directory"):
        raise ConfigError(f"{path}: kind: must be 'service', 'source' or 'directory'")
    try:
        model = {"service": Service, "source": Source, "directory": Directory}[data["kind"]]
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain(path, exc)) from exc


def _url_problems(path: Path, p: Service | Source, allow_loopback_http: bool) -> list[str]:
    urls: list[tuple[str, str]] = []
    if isinstance(p, Service) and p.oidc:
        urls += [(f"oidc.redirect_uris[{i}]", u) for i, u in enumerate(p.oidc.redirect_uris)]
        urls += [(f"oidc.post_logout_redirect_uris[{i}]", u)
                 for i, u in enumerate(p.oidc.post_logout_redirect_uris)]
        if p.oidc.backchannel_logout_uri:
            urls.append(("oidc.backchannel_logout_uri", p.oidc.backchannel_logout_uri))
        if p.oidc.jwks_uri:
            urls.append(("oidc.jwks_uri", p.oidc.jwks_uri))
    if isinstance(p, Source) and p.oidc:
        urls.append(("oidc.issuer", p.oidc.issuer))
    if p.saml2 and p.saml2.metadata_url:
        urls.append(("saml2.metadata_url", p.saml2.metadata_url))
    out = []
    for where, url in urls:
        problem = check_url(url, allow_loopback_http)
        if problem:
            out.append(f"{path}: {where}: {problem}")
    return out


def _logo_problems(path: Path, p: Service | Source) -> list[str]:
    if p.logo is None:
        return []
    file = (path.parent / p.logo).resolve()
    if "://" in p.logo:
        return [f"{path}: logo: {p.logo!r}: give a file next to the partner file (the proxy "
                "serves logos itself), not a URL"]
    if file.suffix.lower() not in LOGO_TYPES:
        return [f"{path}: logo: {p.logo!r} must be a {', '.join(LOGO_TYPES)} file"]
    if not file.is_file():
        return [f"{path}: logo: {file} not found: add the file or fix the path"]
    if file.stat().st_size > MAX_LOGO_BYTES:
        return [f"{path}: logo: {file} is larger than {MAX_LOGO_BYTES} bytes"]
    return []


def _interop_problems(path: Path, p: Service | Source) -> list[str]:
    """The allowances a partner file makes for other software, each checked to stay safe."""
    out = []
    if isinstance(p, Service):
        if p.saml2 and "email" in p.saml2.name_id_formats and "email" not in p.attributes:
            out.append(f"{path}: saml2.name_id_formats: 'email' gives the SP the citizen's "
                       "address, which this service may not receive: add email to attributes "
                       "or remove the format")
        return out
    ceiling = LOA_LEVELS.index(p.loa)
    for value, level in p.loa_mapping.values.items():
        if LOA_LEVELS.index(level) > ceiling:
            out.append(f"{path}: loa_mapping.values[{value!r}]: maps to {level}, above this "
                       f"source's loa {p.loa} (its ceiling): lower the mapping or raise loa")
    unstated = p.loa_mapping.unstated
    if unstated is not None and LOA_LEVELS.index(unstated) > ceiling:
        out.append(f"{path}: loa_mapping.unstated: {unstated} is above this source's loa "
                   f"{p.loa} (its ceiling): lower it or raise loa")
    if p.saml2 and p.saml2.name_id == "transient":
        missing = [name for name in PIVOT if name not in p.attributes]
        if missing:
            out.append(f"{path}: saml2.name_id: a source with transient NameIDs is known by the "
                       f"identity pivot, and this one does not provide {', '.join(missing)}: "
                       "declare them in attributes (or use persistent NameIDs)")
    return out + _tls_ca_problems(path, p.tls_ca_file)


def _tls_ca_problems(path: Path, tls_ca_file: str | None) -> list[str]:
    if tls_ca_file is None:
        return []
    file = (path.parent / tls_ca_file).resolve()
    if not file.is_file():
        return [f"{path}: tls_ca_file: {file} not found: add the PEM file of the "
                "certificate authorities or fix the path"]
    if b"-----BEGIN CERTIFICATE-----" not in file.read_bytes()[:MAX_PARTNER_FILE * 4]:
        return [f"{path}: tls_ca_file: {file} holds no PEM certificate: give the "
                "certificate authorities' certificates in PEM (-----BEGIN CERTIFICATE"
                "-----), e.g. openssl x509 -inform der -in ca.cer -out ca.pem"]
    if not _loads_as_ca_bundle(file):
        return [f"{path}: tls_ca_file: {file} is not a readable PEM certificate "
                "bundle: export the certificate authorities again, in PEM"]
    return []


def _loads_as_ca_bundle(file: Path) -> bool:
    """Whether TLS can use ``file`` as its trust store (what the OIDC backend will do)."""
    try:
        ssl.create_default_context(cafile=str(file))
    except (ssl.SSLError, OSError, ValueError):
        return False
    return True


def load_registry(folder: Path, dictionary: Dictionary, allow_loopback_http: bool = False,
                  *, keep_undeliverable: bool = False) -> Registry:
    """Every ``*.yaml`` directly in ``folder`` (subfolders such as demo/ are separate
    registries), checked against the attribute dictionary; all problems are reported at once,
    and any problem refuses the whole registry: the proxy never runs half-configured.

    ``keep_undeliverable``: when the only problems are attributes that a service may receive
    and that nothing it accepts provides, return the registry with them in
    ``Registry.undeliverable`` instead (for the diffusion report, which flags them)."""
    if not folder.is_dir():
        raise ConfigError(f"{folder}: partner folder not found: create it or fix 'partners_dir'")
    reg = Registry()
    problems: list[str] = []
    for path in sorted(folder.glob("*.yaml")):
        try:
            partner = _load_file(path)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        if partner.id in reg.files:
            problems.append(f"{path}: id: '{partner.id}' is already used by "
                            f"{reg.files[partner.id]}: ids must be unique")
            continue
        if isinstance(partner, Directory):
            problems += _tls_ca_problems(path, partner.tls_ca_file)
        else:
            problems += _url_problems(path, partner, allow_loopback_http)
            problems += _logo_problems(path, partner)
            problems += _interop_problems(path, partner)
        reg.files[partner.id] = path
        if isinstance(partner, Service):
            reg.services[partner.id] = partner
        elif isinstance(partner, Directory):
            reg.directories[partner.id] = partner
        else:
            reg.sources[partner.id] = partner
    problems += _cross_checks(reg)
    problems += _dictionary_checks(reg, dictionary)
    undeliverable = _delivery_problems(reg, dictionary)
    if keep_undeliverable and not problems:
        reg.undeliverable = undeliverable
    else:
        problems += undeliverable
    if problems:
        raise ConfigError("\n".join(problems))
    return reg


def _cross_checks(reg: Registry) -> list[str]:
    problems = []
    client_ids: dict[str, str] = {}
    entity_ids: dict[str, str] = {}
    for s in reg.services.values():
        path = reg.files[s.id]
        for i, src in enumerate(s.sources):
            if src not in reg.sources:
                known = ", ".join(sorted(reg.sources)) or "none"
                problems.append(f"{path}: sources[{i}]: '{src}' is not a declared identity source "
                                f"(known: {known})")
            elif LOA_LEVELS.index(reg.sources[src].loa) < LOA_LEVELS.index(s.loa_min):
                problems.append(f"{path}: sources[{i}]: '{src}' reaches level "
                                f"{reg.sources[src].loa}, below this service's loa_min "
                                f"{s.loa_min}: remove it or lower loa_min")
        if s.oidc:
            if s.oidc.client_id in client_ids:
                problems.append(f"{path}: oidc.client_id: '{s.oidc.client_id}' is already used by "
                                f"{reg.files[client_ids[s.oidc.client_id]]}")
            client_ids[s.oidc.client_id] = s.id
        if s.saml2:
            if s.saml2.entity_id in entity_ids:
                problems.append(f"{path}: saml2.entity_id: already used by "
                                f"{reg.files[entity_ids[s.saml2.entity_id]]}")
            entity_ids[s.saml2.entity_id] = s.id
    return problems


def _dictionary_checks(reg: Registry, dictionary: Dictionary) -> list[str]:
    known = ", ".join(dictionary.attributes)
    problems = []
    for s in reg.services.values():
        problems += [f"{reg.files[s.id]}: attributes.{name}: not in the attribute dictionary "
                     f"(known: {known})"
                     for name in s.attributes if name not in dictionary.attributes]
    formats = {name: a.format for name, a in dictionary.attributes.items()}
    for d in reg.directories.values():
        problems += [f"{reg.files[d.id]}: match.filter: {problem}"
                     for problem in match_problems(d.match.filter, formats)]
    for src in [*reg.sources.values(), *reg.directories.values()]:
        for name, how in src.attributes.items():
            where = f"{reg.files[src.id]}: attributes.{name}"
            if name not in dictionary.attributes:
                problems.append(f"{where}: not in the attribute dictionary (known: {known})")
                continue
            normalise = FORMATS[dictionary.attributes[name].format]
            if how.date_format and dictionary.attributes[name].format != "date":
                problems.append(f"{where}.date_format: {name} is not a date: remove date_format")
            for code, value in (how.values or {}).items():
                if normalise(value) is None:
                    problems.append(f"{where}.values.{code}: {value!r} is not a valid "
                                    f"{dictionary.attributes[name].format} value")
    return problems


@dataclass(frozen=True)
class Providers:
    """What may provide one attribute to one service, active or disabled partners alike (a
    disabled partner comes back by editing one line; see the diffusion report for now)."""

    #: The service's accepted sources that declare it in their ``attributes``.
    sources: tuple[str, ...]
    #: Directories supplying it that may complete it for this service: the service accepts
    #: enrichment, and one of its sources gives what the directory's match filter needs.
    directories: tuple[str, ...]
    #: Directories supplying it that this service opted out of (``enrichment: false``).
    opted_out: tuple[str, ...] = ()
    #: Directories supplying it that never find the citizen from what the service's sources
    #: give: directory id -> the match attributes none of them provides.
    unmatched: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def deliverable(self) -> bool:
        return bool(self.sources or self.directories)


def providers(reg: Registry, service: Service, attribute: str) -> Providers:
    """Who may ever give ``attribute`` to ``service``: an accepted source that declares it
    (what minimisation counts as provided; OIDC, SAML and LDAP sources alike declare what they
    provide in ``attributes``, ``from:`` only renames), or an administration directory that
    supplies it, when the service accepts enrichment and the directory can find the citizen:
    its match filter needs attributes that one accepted source provides (or that another
    directory may add first). The pairwise identifier (``sub``, the NameID) is not an
    attribute of the dictionary: it is always given, and never listed here."""
    accepted = [reg.sources[x] for x in service.sources if x in reg.sources]
    sources = tuple(x.id for x in accepted if attribute in x.attributes)
    supplying = [d for d in reg.directories.values() if attribute in d.attributes]
    if not service.enrichment:
        return Providers(sources, (), tuple(d.id for d in supplying))
    directories, unmatched = [], []
    for d in supplying:
        # What another directory may have added before this one looks the citizen up: only
        # what the service may receive (enrichment adds nothing else). A generous bound (the
        # order of directories is ignored): never a false error.
        added = {a for o in reg.directories.values() if o.id != d.id
                 for a in o.attributes} & service.attributes.keys()
        needed = [p.name for p in placeholders(d.match.filter)]
        gaps = [[n for n in needed if n not in src.attributes and n not in added]
                for src in accepted]
        if any(not gap for gap in gaps) or not accepted:
            directories.append(d.id)
        else:
            missing = sorted({n for gap in gaps for n in gap}, key=needed.index)
            unmatched.append((d.id, tuple(missing)))
    return Providers(sources, tuple(directories), (), tuple(unmatched))


def _delivery_problems(reg: Registry, dictionary: Dictionary) -> list[str]:
    """An attribute a service may receive that nothing it accepts provides: the partner file
    (and the diffusion report) would promise what the proxy never releases."""
    problems = []
    for s in reg.services.values():
        known = [x for x in s.sources if x in reg.sources]
        if not known:
            continue  # its sources are unknown: already an error of their own
        for name in s.attributes:
            if name not in dictionary.attributes:
                continue
            p = providers(reg, s, name)
            if not p.deliverable:
                problems.append(f"{reg.files[s.id]}: attributes.{name}: "
                                + undeliverable_reason(p, known))
    return problems


def undeliverable_reason(p: Providers, sources: list[str]) -> str:
    """Why nothing provides the attribute, and the fix (after ``file: attributes.name: ``)."""
    head = f"none of this service's sources ({', '.join(sources)}) provides it"
    fix = ("declare it in the attributes of one of these sources if it sends it, add a source "
           "that provides it to sources, or remove it from attributes")
    if p.opted_out:
        return (f"{head}, and this service opted out of the directories that supply it "
                f"({', '.join(p.opted_out)}) with enrichment: false: it is never released: "
                f"remove enrichment: false, {fix}")
    if p.unmatched:
        needs = ", ".join(f"{d} needs {', '.join(missing)}" for d, missing in p.unmatched)
        return (f"{head}, and the directories that supply it cannot find the citizen from what "
                f"these sources give ({needs}): it is never released: {fix}")
    return f"{head}, nor does any directory: it is never released: {fix}"
