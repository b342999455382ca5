"""What ``partenaires list`` and ``partenaires show`` print, from the loaded registry only."""

from __future__ import annotations

from ..dictionary import PIVOT, Dictionary
from ..dictionary.normalise import readings_for
from ..partners import Registry, Service, Source
from ..partners.schema import Directory, LdapConnection
from .table import render_table

#: ``saml2.signature`` of a SAML source, as ``partenaires show`` explains it.
SIGNATURES = {"assertion": "assertion (every assertion signed)",
              "response": "response (a signed Response is enough)"}


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def partner_table(registry: Registry) -> str:
    """One line per partner, services first, directories last: kind, id, name, protocol,
    active, level of assurance, and the pivot (sources) or the number of attributes."""
    rows = [["service", s.id, s.name, s.protocol, yes_no(s.active), s.loa_min,
             f"{len(s.attributes)} attributes"]
            for s in sorted(registry.services.values(), key=lambda p: p.id)]
    rows += [["source", s.id, s.display_name, s.protocol, yes_no(s.active), s.loa,
              f"pivot: {yes_no(registry.gives_pivot(s.id))}"]
             for s in sorted(registry.sources.values(), key=lambda p: p.id)]
    rows += [["directory", d.id, d.organisation, "ldap", yes_no(d.active), "-",
              f"supplies {len(d.attributes)} attributes"]
             for d in sorted(registry.directories.values(), key=lambda p: p.id)]
    return render_table(["KIND", "ID", "NAME", "PROTOCOL", "ACTIVE", "LOA", "DETAILS"], rows)


def _fields(pairs: list[tuple[str, str]]) -> list[str]:
    width = max(len(k) for k, _ in pairs)
    out = []
    for key, value in pairs:
        first, *rest = value.split("\n")
        out.append(f"  {key:<{width}}  {first}")
        out += [f"  {'':<{width}}  {more}" for more in rest]
    return out


def _service(reg: Registry, dic: Dictionary, s: Service) -> list[str]:
    pairs = [("file", str(reg.files[s.id])), ("name", s.name), ("organisation", s.organisation),
             ("contact", s.contact), ("active", yes_no(s.active)), ("purpose", s.purpose),
             ("legal basis", s.legal_basis), ("legal reference", s.legal_reference or "none"),
             ("LoA minimum", s.loa_min),
             ("sector", s.sector or "none (pairwise identifiers of its own)"),
             ("consent", f"choice remembered {s.consent.remember_days} days"
              if s.consent.remember_days else "shown at every login"),
             ("protocol", s.protocol)]
    if s.oidc:
        secret = " (secret kept as SHA-256)" if s.oidc.client_secret_sha256 else ""
        pairs += [("client_id", s.oidc.client_id),
                  ("token auth", s.oidc.token_endpoint_auth_method + secret),
                  ("redirect URIs", "\n".join(s.oidc.redirect_uris)),
                  ("logout URIs", "\n".join(s.oidc.post_logout_redirect_uris) or "none"),
                  ("PKCE", "required" if s.oidc.require_pkce else "optional")]
        if s.oidc.jwks_uri:
            pairs.append(("jwks_uri", s.oidc.jwks_uri))
    if s.saml2:
        meta = (str(reg.resolve(s.id, s.saml2.metadata_file)) if s.saml2.metadata_file
                else str(s.saml2.metadata_url))
        pairs += [("entity_id", s.saml2.entity_id), ("metadata", meta)]
    sources = []
    for sid in s.sources:
        src = reg.sources[sid]
        sources.append(f"{sid} ({src.display_name}; LoA {src.loa}; "
                       f"pivot: {yes_no(reg.gives_pivot(sid))}; active: {yes_no(src.active)})")
    pairs.append(("sources", "\n".join(sources)))
    rows = [[name, dic.attributes[name].label_fr, dic.attributes[name].sensitivity,
             yes_no(a.optional), a.justification] for name, a in s.attributes.items()]
    return [f"service {s.id}", *_fields(pairs), "", f"Attributes ({len(rows)}):",
            render_table(["NAME", "LABEL (FR)", "SENSITIVITY", "OPTIONAL", "JUSTIFICATION"],
                         rows, indent="  ")]


def _conversion(how: dict) -> str:
    parts = []
    if how.get("date_format"):
        parts.append(f"date {how['date_format']}")
    if how.get("values"):
        parts.append("values " + ", ".join(f"{k}={v}" for k, v in how["values"].items()))
    return "; ".join(parts) or "-"


def _source(reg: Registry, dic: Dictionary, src: Source) -> list[str]:
    pivot = reg.gives_pivot(src.id)
    missing = [p for p in PIVOT if p not in src.attributes]
    pairs = [("file", str(reg.files[src.id])), ("display name", src.display_name),
             ("description", src.description or "none"), ("active", yes_no(src.active)),
             ("LoA", src.loa),
             ("pivot", "yes" if pivot else f"no (missing: {', '.join(missing)})"),
             ("protocol", src.protocol)]
    if src.oidc:
        pairs += [("issuer", src.oidc.issuer), ("client_id", src.oidc.client_id),
                  ("secret from env", src.oidc.client_secret_env),
                  ("scope", " ".join(src.oidc.scope)),
                  ("ID token alg", src.oidc.id_token_signing_alg)]
    if src.saml2:
        meta = (str(reg.resolve(src.id, src.saml2.metadata_file)) if src.saml2.metadata_file
                else str(src.saml2.metadata_url))
        pairs += [("entity_id", src.saml2.entity_id), ("metadata", meta),
                  ("signature", SIGNATURES[src.saml2.signature])]
    if src.ldap:
        pairs += [*_ldap(src.ldap), ("login filter", src.ldap.login_filter),
                  ("LoA from", src.ldap.loa_attribute or "none (loa_mapping.unstated)")]
    users = sorted(s.id for s in reg.services.values() if src.id in s.sources)
    pairs.append(("used by", ", ".join(users) or "no service"))
    declared = {name: how.model_dump(by_alias=True) for name, how in src.attributes.items()}
    readings = readings_for(dic, src.protocol, declared)
    rows = [[name, dic.attributes[name].label_fr, dic.attributes[name].sensitivity,
             _conversion(declared[name]), " | ".join(readings[name]["external"])]
            for name in src.attributes]
    return [f"source {src.id}", *_fields(pairs), "", f"Attributes provided ({len(rows)}):",
            render_table(["NAME", "LABEL (FR)", "SENSITIVITY", "CONVERSION", "READ FROM"],
                         rows, indent="  ")]


def _ldap(conn: LdapConnection) -> list[tuple[str, str]]:
    tls = "ldaps" if conn.url.startswith("ldaps://") else ("StartTLS" if conn.start_tls
                                                           else "none")
    return [("directory", f"{conn.url} (TLS: {tls})"), ("base", conn.base_dn),
            ("bind", f"{conn.bind_dn}, password from env {conn.bind_password_env}"
             if conn.bind_dn else "anonymous")]


def _directory(reg: Registry, dic: Dictionary, d: Directory) -> list[str]:
    """An administration directory (enrichment): who holds it, why, how the citizen is found."""
    pairs = [("file", str(reg.files[d.id])), ("organisation", d.organisation),
             ("contact", d.contact), ("active", yes_no(d.active)),
             ("legal basis", d.legal_basis), ("legal reference", d.legal_reference or "none"),
             *_ldap(d.ldap), ("match", d.match.filter), ("when down", d.when_unavailable)]
    declared = {name: how.model_dump(by_alias=True) for name, how in d.attributes.items()}
    readings = readings_for(dic, "ldap", declared)
    rows = [[name, dic.attributes[name].label_fr, dic.attributes[name].sensitivity,
             _conversion(declared[name]), " | ".join(readings[name]["external"])]
            for name in d.attributes]
    return [f"directory {d.id}", *_fields(pairs), "", f"Attributes supplied ({len(rows)}):",
            render_table(["NAME", "LABEL (FR)", "SENSITIVITY", "CONVERSION", "READ FROM"],
                         rows, indent="  ")]


def describe(registry: Registry, dictionary: Dictionary, partner_id: str) -> str:
    """Everything about one partner (which must be in the registry)."""
    if partner_id in registry.services:
        lines = _service(registry, dictionary, registry.services[partner_id])
    elif partner_id in registry.directories:
        lines = _directory(registry, dictionary, registry.directories[partner_id])
    else:
        lines = _source(registry, dictionary, registry.sources[partner_id])
    return "\n".join(lines) + "\n"
