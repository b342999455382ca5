"""From ``config/*.yaml`` + ``partenaires/`` + ``attributs/`` to SATOSA's configuration.

Partner data is never written twice: every frontend, backend and micro-service
gets its slice of the registry here, as plain dicts SATOSA's plugin loader
passes to the plugin constructors.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from saml2.mdstore import InMemoryMetaData

from .app import FLOW_COOKIE
from .dictionary import Dictionary, load_dictionary
from .dictionary.normalise import readings_for
from .form_targets import origin, service_origins, source_login_origins
from .keyring import PURPOSES, ensure_keyring, has_keyring
from .partners import Registry, load_registry
from .partners.schema import LdapConnection, Service, Source
from .schema_errors import ConfigError
from .settings import Settings
from .sso.logout_wiring import wire_logout
from .sso.session import BACKEND_NAME as SSO_BACKEND_NAME
from .stores.sealing import ensure_at_rest_key

#: Largest SAML metadata document accepted from a file or URL.
MAX_METADATA_BYTES = 1024 * 1024

OIDC_FRONTEND = "plugins.frontends.oidc.frontend.OIDCFrontend"
SAML_FRONTEND = "plugins.frontends.saml2.frontend.SAML2Frontend"
OIDC_BACKEND = "plugins.backends.oidc.backend.OIDCBackend"
SAML_BACKEND = "plugins.backends.saml2.backend.SAML2Backend"
LDAP_BACKEND = "plugins.backends.ldap.backend.LdapBackend"
CHOICE_SERVICE = "plugins.micro_services.choix.IdentitySourceChoice"
RECORD_SERVICE = "plugins.micro_services.minimisation.RecordRequestedAttributes"
PAIRWISE_SERVICE = "plugins.micro_services.pairwise.PairwiseSubject"
MINIMISATION_SERVICE = "plugins.micro_services.minimisation.Minimisation"
ENRICHMENT_SERVICE = "plugins.micro_services.enrichment.Enrichment"
ACCOUNT_FRONTEND = "plugins.frontends.account.frontend.AccountFrontend"
ADMIN_FRONTEND = "plugins.frontends.admin.frontend.AdminFrontend"
HISTORY_SERVICE = "plugins.micro_services.history.ConnectionHistory"
SOURCE_SERVICE = "plugins.micro_services.history.RecordSource"
SSO_REQUEST_SERVICE = "plugins.micro_services.session.SsoSessionRequest"
SSO_RECORD_SERVICE = "plugins.micro_services.session_record.SsoSessionRecord"
SSO_SERVICE_USE = "plugins.micro_services.session_record.SsoServiceUse"
SSO_BACKEND = "plugins.backends.sso.backend.SsoReplayBackend"

#: *Mon espace NC Connect* signs the citizen in through NC Connect itself, as this requester
#: (no partner id has a ':'): the request and response micro-services know it like a service,
#: with every active source, its own pairwise sector and just the names to greet the citizen.
ACCOUNT_REQUESTER = "ncconnect:mon-compte"
ACCOUNT_NAME = "Mon espace NC Connect"
ACCOUNT_ATTRIBUTES = ["given_name", "family_name"]
#: The administration portal (/admin/) signs people in the same way, as this requester: every
#: active source reaching its level, the account key and no attribute at all.
ADMIN_REQUESTER = "ncconnect:administration"
ADMIN_NAME = "Administration NC Connect"
#: NC Connect's own requesters: no partner may take their identifiers.
OWN_REQUESTERS = {ACCOUNT_REQUESTER: ACCOUNT_NAME, ADMIN_REQUESTER: ADMIN_NAME}


@dataclass
class Federation:
    settings: Settings
    registry: Registry
    dictionary: Dictionary
    satosa: dict[str, Any]


def read_metadata(registry: Registry, partner: Service | Source) -> str:
    tech = partner.saml2
    assert tech is not None
    path = registry.files[partner.id]
    if tech.metadata_file:
        file = registry.resolve(partner.id, tech.metadata_file)
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise ConfigError(
                f"{path}: saml2.metadata_file: cannot read {file} ({exc.strerror})"
            ) from exc
    else:
        ca = tls_ca_of(registry, partner)
        try:
            with requests.get(tech.metadata_url, timeout=10, stream=True,
                              verify=ca or True) as resp:
                resp.raise_for_status()
                data = resp.raw.read(MAX_METADATA_BYTES + 1, decode_content=True)
        except requests.exceptions.SSLError as exc:
            hint = "check tls_ca_file" if ca else \
                "if it uses a private certificate authority, set tls_ca_file in its partner file"
            raise ConfigError(f"{path}: saml2.metadata_url: cannot fetch {tech.metadata_url} "
                              f"(TLS: certificate not trusted): {hint}") from exc
        except requests.RequestException as exc:
            raise ConfigError(f"{path}: saml2.metadata_url: cannot fetch {tech.metadata_url} "
                              f"({type(exc).__name__})") from exc
    if len(data) > MAX_METADATA_BYTES:
        raise ConfigError(f"{path}: saml2: metadata larger than {MAX_METADATA_BYTES} bytes")
    return data.decode("utf-8")


def tls_ca_of(registry: Registry, partner: Service | Source) -> str | None:
    """A source's own certificate authorities (``tls_ca_file``), as an absolute path."""
    if isinstance(partner, Source) and partner.tls_ca_file:
        return str(registry.resolve(partner.id, partner.tls_ca_file))
    return None


def _oidc_frontend(st: Settings, reg: Registry, dic: Dictionary) -> dict:
    claims = {name: a.oidc.claim for name, a in dic.attributes.items()}
    clients = {}
    for s in reg.oidc_services():
        if not s.active:
            continue
        assert s.oidc is not None
        clients[s.oidc.client_id] = {
            "service_id": s.id,
            "name": s.name,
            "redirect_uris": list(s.oidc.redirect_uris),
            "token_endpoint_auth_method": s.oidc.token_endpoint_auth_method,
            "client_secret_sha256": s.oidc.client_secret_sha256,
            # After ``partenaires new-secret --overlap-hours``: the former secret, and until
            # when (epoch seconds: the frontend compares it with the clock at each request).
            **({"previous_client_secret_sha256": previous.sha256,
                "previous_client_secret_expires_at": previous.expires_at.timestamp()}
               if (previous := s.oidc.previous_client_secret) is not None else {}),
            "require_pkce": s.oidc.require_pkce,
            "jwks": s.oidc.jwks,
            "jwks_uri": s.oidc.jwks_uri,
            "allow_loopback_http": st.allow_loopback_http,
            "allowed_claims": [claims[a] for a in s.attributes],
            "post_logout_redirect_uris": list(s.oidc.post_logout_redirect_uris),
            "backchannel_logout_uri": s.oidc.backchannel_logout_uri,
        }
    return {
        "module": OIDC_FRONTEND,
        "name": "oidc",
        "config": {
            "store_url": st.store_url,
            "issuer": st.base_url,
            "signing_key_path": str(st.keys.oidc_signing_key),
            "lifetimes": {"code": st.lifetimes.oidc_code, "access_token": st.lifetimes.access_token,
                          "id_token": st.lifetimes.id_token, "flow": st.lifetimes.flow},
            "sso_sessions": True,  # prompt=none is answered from the SSO session
            "scopes": dic.scopes(),
            "claim_names": dic.by_claim(),
            "clients": clients,
        },
    }


def _sp_encryption_key(metadata_xml: str, entity_id: str) -> bool:
    """Whether the SP's metadata gives an RSA key to encrypt assertions for (``KeyDescriptor
    use="encryption"`` or without ``use``). Metadata pysaml2 cannot read counts as having
    one here: the SAML frontend refuses it at start with its own, more precise, message."""
    md = InMemoryMetaData([], metadata_xml)
    try:
        md.load()
        certs = md.certs(entity_id, "spsso", "encryption")
    except Exception:  # noqa: BLE001 - broken metadata: reported by the frontend
        return True
    for _name, cert in certs:
        try:
            key = x509.load_der_x509_certificate(base64.b64decode("".join(cert.split()))
                                                 ).public_key()
        except ValueError:
            continue
        if isinstance(key, rsa.RSAPublicKey):
            return True
    return False


def _saml_frontend(st: Settings, reg: Registry) -> dict:
    sps = {}
    for s in reg.saml_services():
        if not s.active:
            continue
        assert s.saml2 is not None
        metadata = read_metadata(reg, s)
        if s.saml2.encrypt_assertions and not _sp_encryption_key(metadata, s.saml2.entity_id):
            raise ConfigError(
                f"{reg.files[s.id]}: saml2.encrypt_assertions: the SP's metadata has no "
                "encryption key: add one to its metadata or set encrypt_assertions: false")
        sps[s.saml2.entity_id] = {
            "service_id": s.id,
            "name": s.name,
            "metadata_xml": metadata,
            "allowed_attributes": list(s.attributes),
            "name_id_formats": list(s.saml2.name_id_formats),
            "encrypt_assertions": s.saml2.encrypt_assertions,
            "logout_requests": s.saml2.logout_requests,
        }
    return {
        "module": SAML_FRONTEND,
        "name": "saml2",
        "config": {
            "store_url": st.store_url,
            "base_url": st.base_url,
            "entity_id": f"{st.base_url}/saml2/metadata",
            "key_path": str(st.keys.saml_key),
            "cert_path": str(st.keys.saml_cert),
            "lifetimes": {"assertion": st.lifetimes.saml_assertion, "flow": st.lifetimes.flow},
            "sso_sessions": True,  # IsPassive is answered from the SSO session
            "crypto": st.saml.crypto,  # plugins.saml2.crypto
            "sps": sps,
        },
    }


def _backend(st: Settings, reg: Registry, dic: Dictionary, src: Source,
             env: dict[str, str]) -> dict:
    common = {"store_url": st.store_url, "source_id": src.id, "display_name": src.display_name,
              "lifetimes": {"flow": st.lifetimes.flow},
              "loa": src.loa,  # its ceiling (idp.loa.level_reached)
              "loa_mapping": src.loa_mapping.model_dump(),
              "tls_ca_file": tls_ca_of(reg, src),
              "attributes": readings_for(dic, src.protocol, {
                  name: how.model_dump(by_alias=True) for name, how in src.attributes.items()})}
    if src.oidc:
        secret = env.get(src.oidc.client_secret_env)
        if not secret:
            raise ConfigError(
                f"{reg.files[src.id]}: oidc.client_secret_env: environment variable "
                f"{src.oidc.client_secret_env} is not set: export the secret NC Connect "
                "uses at this source"
            )
        return {"module": OIDC_BACKEND, "name": src.id, "config": {
            **common,
            "issuer": src.oidc.issuer,
            "client_id": src.oidc.client_id,
            "client_secret": secret,
            "scope": list(src.oidc.scope),
            "id_token_signing_alg": src.oidc.id_token_signing_alg,
            "allow_loopback_http": st.allow_loopback_http,
            "redirect_uri": f"{st.base_url}/{src.id}/oidc/callback",
        }}
    if src.ldap:
        return _ldap_backend(st, reg, src, env, common)
    assert src.saml2 is not None
    return {"module": SAML_BACKEND, "name": src.id, "config": {
        **common,
        "idp_entity_id": src.saml2.entity_id,
        "name_id": src.saml2.name_id,
        "signature": src.saml2.signature,
        "idp_metadata_xml": read_metadata(reg, src),
        "sp_entity_id": f"{st.base_url}/{src.id}/saml2/metadata",
        "acs_url": f"{st.base_url}/{src.id}/saml2/acs",
        "key_path": str(st.keys.saml_key),
        "cert_path": str(st.keys.saml_cert),
        # A key pair of its own for the assertions sources encrypt to us.
        "encryption_key_path": str(st.keys.saml_encryption_key),
        "encryption_cert_path": str(st.keys.saml_encryption_cert),
        "crypto": st.saml.crypto,  # plugins.saml2.crypto
    }}


def bind_password(reg: Registry, partner_id: str, conn: LdapConnection,
                  env: dict[str, str]) -> str | None:
    """The password of NC Connect's account in a directory, from the environment variable its
    partner file names (``None``: an anonymous search)."""
    if not conn.bind_password_env:
        return None
    password = env.get(conn.bind_password_env)
    if not password:
        raise ConfigError(
            f"{reg.files[partner_id]}: ldap.bind_password_env: environment variable "
            f"{conn.bind_password_env} is not set: export the password of NC Connect's account "
            f"in this directory ({conn.bind_dn})")
    return password


def _ldap_backend(st: Settings, reg: Registry, src: Source, env: dict[str, str],
                  common: dict) -> dict:
    """NC Connect's account source: its directory, its form's services and throttles."""
    assert src.ldap is not None
    ldap = src.ldap.model_dump(exclude={"bind_password_env"})
    password = bind_password(reg, src.id, src.ldap, env)
    if password is not None:
        ldap["bind_password"] = password
    return {"module": LDAP_BACKEND, "name": src.id, "config": {
        **common,
        "ldap": ldap,
        "csrf_secret_path": str(st.keys.csrf_secret),
        # Lockout counters' key: from a secret that never rotates (idp.keyring).
        "throttle_secret_path": str(st.keys.pairwise_secret),
        "trusted_proxies": list(st.trusted_proxies),
        "own_origin": origin(st.base_url),
        # The form names the service, and may be answered by a redirect to it (CSP).
        # "choice": other sources to offer when this account's level is not enough.
        "services": {requester_of(s): {"name": s.name, "origins": service_origins(
            s.oidc.redirect_uris if s.oidc else []), "choice": sum(
                1 for x in s.sources if x in reg.sources and reg.sources[x].active) > 1}
            for s in reg.services.values() if s.active and src.id in s.sources}
        | {r: {"name": name, "origins": [], "choice": True} for r, name in OWN_REQUESTERS.items()},
    }}


def requester_of(s: Service) -> str:
    """What a frontend puts in ``InternalData.requester``: client_id or SP entity id."""
    if s.oidc:
        return s.oidc.client_id
    assert s.saml2 is not None
    return s.saml2.entity_id


def _choice_service(st: Settings, reg: Registry,
                    source_origins: dict[str, list[str]]) -> dict:
    return {"module": CHOICE_SERVICE, "name": "choix", "config": {
        "store_url": st.store_url,
        "csrf_secret_path": str(st.keys.csrf_secret),
        "secure_cookie": True,
        "remember_ttl": st.lifetimes.remembered_choice,
        "services": {requester_of(s): {"service_id": s.id, "name": s.name.translations(),
                                       "sources": [x for x in s.sources if reg.sources[x].active],
                                       "origins": service_origins(s.oidc.redirect_uris
                                                                  if s.oidc else [])}
                     for s in reg.services.values() if s.active} | _account_choice(reg),
        "sources": {x.id: {"display_name": x.display_name.translations(),
                           "description": x.description.translations(),
                           "loa": x.loa, "logo": f"/logos/{x.id}" if x.logo else None,
                           "origins": source_origins.get(x.id, []),
                           # How a SAML service names it in <IDPList> (source_hint).
                           "entity_id": x.saml2.entity_id if x.saml2 else None}
                    for x in reg.sources.values() if x.active},
    }}


def _consent_service(st: Settings, reg: Registry, dic: Dictionary) -> dict:
    """The consent / information screen: each service's words, its attributes' policy, and the
    dictionary's labels, descriptions and formats for showing the values."""
    return {"module": "plugins.micro_services.consent.ConsentScreen", "name": "consentement",
            "config": {
                "store_url": st.store_url,
                "csrf_secret_path": str(st.keys.csrf_secret),
                "lifetimes": {"consent_screen": st.lifetimes.consent_screen},
                "own_requesters": list(OWN_REQUESTERS),
                # Texts the usager reads as {fr, en} (en absent: shown in French).
                "services": {requester_of(s): {
                    "service_id": s.id, "name": s.name.translations(),
                    "organisation": s.organisation.translations(),
                    "logo": f"/logos/{s.id}" if s.logo else None,  # served by app._logo
                    "purpose": s.purpose.translations(), "legal_basis": s.legal_basis,
                    "legal_reference": s.legal_reference,
                    "remember_days": s.consent.remember_days,
                    # Where the answer to the form may redirect: the page's CSP form-action.
                    "redirect_uris": list(s.oidc.redirect_uris) if s.oidc else [],
                    "attributes": {name: {"justification": a.justification.translations(),
                                          "optional": a.optional}
                                   for name, a in s.attributes.items()},
                } for s in reg.services.values() if s.active},
                "dictionary": dic.screen_words(),
                # "Vous êtes connecté(e) avec …": the source of the login, with its logo.
                "sources": {x.id: {"display_name": x.display_name.translations(),
                                   "logo": f"/logos/{x.id}" if x.logo else None}
                            for x in reg.sources.values()},
                # "fourni par …" beside what a directory supplied, in the page's language.
                "directories": {d.id: {"organisation": d.organisation.translations()}
                                for d in reg.directories.values()},
            }}


def _account_choice(reg: Registry) -> dict:
    """The citizen's own space accepts every active source; so does the administration portal,
    whose requested level leaves on the choice page only the sources that reach it."""
    return {r: {"service_id": r, "name": name,
                "sources": [x.id for x in reg.sources.values() if x.active]}
            for r, name in OWN_REQUESTERS.items()}


def _account_frontend(st: Settings, reg: Registry, dic: Dictionary) -> dict:
    """``/mon-compte``: names of every service (a consent may outlive a partner's
    deactivation) and attribute labels; the records hold ids and names only."""
    for s in reg.services.values():
        if requester_of(s) in OWN_REQUESTERS:
            raise ConfigError(f"{reg.files[s.id]}: '{requester_of(s)}' is reserved for "
                              "NC Connect's own space: give the service another identifier")
    return {"module": ACCOUNT_FRONTEND, "name": "compte", "config": {
        "store_url": st.store_url,
        "csrf_secret_path": str(st.keys.csrf_secret),
        "secure_cookie": True,
        "requester": ACCOUNT_REQUESTER,
        "requester_name": ACCOUNT_NAME,
        "attributes": ACCOUNT_ATTRIBUTES,
        "session_ttl": st.lifetimes.account_session,
        "history_days": st.lifetimes.history_days,
        "services": {s.id: s.name for s in reg.services.values()} | OWN_REQUESTERS,
        # Names in the page's language where the partner file gives one ({fr, en}).
        "sources": {x.id: x.display_name.translations() for x in reg.sources.values()},
        "attribute_labels": {name: {"fr": a.label_fr, "en": a.label_en}
                             for name, a in dic.attributes.items()},
    }}


def _admin_frontend(st: Settings, pid_file: Path | None = None) -> dict:
    """``/admin/``: roles and enrolment links in the store; the registry read as
    ``ncconnect partenaires diffusion`` reads it, for the DPO's report."""
    from .cli.base import PID_FILE  # the command line imports this module: import it late

    return {"module": ADMIN_FRONTEND, "name": "administration", "config": {
        "store_url": st.store_url,
        "csrf_secret_path": str(st.keys.csrf_secret),
        "secure_cookie": True,
        "requester": ADMIN_REQUESTER,
        "requester_name": ADMIN_NAME,
        "session_ttl": st.lifetimes.account_session,
        "role_days": st.portal.role_days,
        "invitation_hours": st.portal.invitation_hours,
        "secret_overlap_hours": st.portal.secret_overlap_hours,
        # Approvals reload the proxy as 'ncconnect partenaires reload' does (SIGHUP to the
        # master 'serve' wrote there: its --pid-file, by default in the data folder).
        "pid_file": str(pid_file or st.data / PID_FILE),
        "partners_dir": str(st.path(st.partners_dir)),
        "dictionary": str(st.path(st.dictionary)),
        "allow_loopback_http": st.allow_loopback_http,
    }}


def _history_services(st: Settings, reg: Registry) -> list[dict]:
    """Connection history: last of the response chain, so it records what was released; its
    request half, last of the request chain, notes the source the choice picked."""
    services = {requester_of(s): {"service_id": s.id, "name": s.name}
                for s in reg.services.values() if s.active}
    services |= {r: {"service_id": r, "name": name} for r, name in OWN_REQUESTERS.items()}
    return [
        {"module": SOURCE_SERVICE, "name": "source", "config": {}},
        {"module": HISTORY_SERVICE, "name": "historique", "config": {
            "store_url": st.store_url,
            "ttl": st.lifetimes.history_days * 86400,
            "services": services,
            "sources": {x.id: {"name": x.display_name, "loa": x.loa}
                        for x in reg.sources.values() if x.active},
        }},
    ]


def _sso_lifetimes(st: Settings) -> dict:
    return {"store_url": st.store_url, "at_rest_key_path": str(st.keys.at_rest_key),
            "lifetimes": {"idle": st.lifetimes.sso_idle, "absolute": st.lifetimes.sso_absolute}}


def _sso_services(st: Settings, reg: Registry) -> list[dict]:
    """Single sign-on: answer from the citizen's session when it is good enough (request side,
    before the choice); keep the session after a fresh authentication (response side, first:
    it sees the source's subject and every attribute). NC Connect's own space is not listed:
    it always asks the citizen to authenticate (the session it starts is kept all the same)."""
    services = {requester_of(s): {"service_id": s.id, "loa_min": s.loa_min,
                                  "sources": [x for x in s.sources if reg.sources[x].active]}
                for s in reg.services.values() if s.active}
    return [
        {"module": SSO_REQUEST_SERVICE, "name": "sso", "config": {
            **_sso_lifetimes(st), "services": services}},
        {"module": SSO_RECORD_SERVICE, "name": "sso-record", "config": {
            **_sso_lifetimes(st), "pairwise_secret_path": str(st.keys.pairwise_secret)}},
    ]


def _sso_service_use(st: Settings, reg: Registry) -> dict:
    """Last of the response chain: the services each SSO session answered (single logout)."""
    return {"module": SSO_SERVICE_USE, "name": "sso-services", "config": {
        **_sso_lifetimes(st),
        "services": {requester_of(s): {"service_id": s.id, "protocol": s.protocol}
                     for s in reg.services.values() if s.active}}}


def _sso_backend() -> dict:
    """Answers a login from the SSO session (named so that no partner id can take its name)."""
    return {"module": SSO_BACKEND, "name": SSO_BACKEND_NAME, "config": {}}


def _enrichment_service(reg: Registry, dic: Dictionary, env: dict[str, str]) -> dict:
    """Administration directories completing a login: each active one with its connection (the
    bind password from the environment), match filter and dictionary readings."""
    directories = []
    for d in reg.directories.values():
        if not d.active:
            continue
        password = bind_password(reg, d.id, d.ldap, env)
        directories.append({
            "id": d.id, "organisation": d.organisation, "match": d.match.filter,
            "when_unavailable": d.when_unavailable,
            "ldap": {"name": d.id, "url": d.ldap.url, "base_dn": d.ldap.base_dn,
                     "bind_dn": d.ldap.bind_dn, "bind_password": password,
                     "start_tls": d.ldap.start_tls,
                     "ca_file": str(reg.resolve(d.id, d.tls_ca_file)) if d.tls_ca_file else None,
                     "connect_timeout": d.ldap.connect_timeout,
                     "search_timeout": d.ldap.search_timeout},
            "attributes": readings_for(dic, "ldap", {
                name: how.model_dump(by_alias=True) for name, how in d.attributes.items()}),
        })
    return {"module": ENRICHMENT_SERVICE, "name": "enrichissement", "config": {
        "services": {requester_of(s): {"service_id": s.id, "allowed": list(s.attributes),
                                       "enrichment": s.enrichment}
                     for s in reg.services.values() if s.active},
        "directories": directories}}


def _micro_services(st: Settings, reg: Registry, dic: Dictionary,
                    source_origins: dict[str, list[str]], env: dict[str, str]) -> list[dict]:
    """Request side: record what was asked, choose the source. Response side: derive the
    pairwise subject (from the full pivot), let administration directories complete the
    attributes (enrichment), then minimise, then show the usager what the service will receive
    (consent or information screen)."""
    active = [s for s in reg.services.values() if s.active]
    return [
        {"module": RECORD_SERVICE, "name": "demande", "config": {}},
        # SSO: the request half before the choice, the record first of the response chain.
        *_sso_services(st, reg),
        _choice_service(st, reg, source_origins),
        {"module": PAIRWISE_SERVICE, "name": "pairwise", "config": {
            "pairwise_secret_path": str(st.keys.pairwise_secret),
            "sectors": {requester_of(s): s.pairwise_sector for s in active}
            | {r: r for r in OWN_REQUESTERS}}},
        _enrichment_service(reg, dic, env),
        {"module": MINIMISATION_SERVICE, "name": "minimisation", "config": {
            "services": {requester_of(s): {"service_id": s.id, "allowed": list(s.attributes)}
                         for s in active}
            | {ACCOUNT_REQUESTER: {"service_id": ACCOUNT_REQUESTER,
                                   "allowed": ACCOUNT_ATTRIBUTES},
               ADMIN_REQUESTER: {"service_id": ADMIN_REQUESTER, "allowed": []}},
            "sources": {x.id: list(x.attributes) for x in reg.sources.values() if x.active},
            # A directory provides what its file declares, to the services that accept
            # enrichment (the micro-service adds only that).
            "enriched": {requester_of(s): sorted({a for d in reg.directories.values()
                                                  if d.active for a in d.attributes})
                         for s in active if s.enrichment}}},
        _consent_service(st, reg, dic),
    ]


def check_keys(settings: Settings) -> None:
    """Every key the plugins need, in the keyring of the data folder (:mod:`idp.keyring`).

    A data folder of single key files (before the keyring) is migrated into one, its keys
    unchanged; the at-rest key is created on the first start of a folder that predates it
    (a folder with its other keys). A folder without keys is reported, and left untouched.
    """
    folder = settings.keys.folder
    hint = f"run 'ncconnect keys init --data-dir {settings.data}' first"
    if not has_keyring(folder):
        missing = [p for p in settings.keys.missing() if p != settings.keys.at_rest_key]
        if missing:
            raise ConfigError(f"{missing[0]}: key missing: {hint}")
        ensure_at_rest_key(settings.keys.at_rest_key)
    try:
        ring = ensure_keyring(folder)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{folder}: keyring unusable ({exc})") from exc
    for purpose in PURPOSES:
        if ring.active(purpose) is None:
            raise ConfigError(f"{folder}: no active {purpose} key in the keyring: {hint}")
        for record in ring.usable(purpose):
            for name in (record.file, record.cert):
                if name and not (folder / name).is_file():
                    raise ConfigError(f"{folder / name}: key missing: {hint}")


def assemble(settings: Settings, env: dict[str, str],
             pid_file: Path | None = None) -> Federation:
    check_keys(settings)
    dictionary = load_dictionary(settings.path(settings.dictionary))
    registry = load_registry(settings.path(settings.partners_dir), dictionary,
                             settings.allow_loopback_http)
    active_sources = [s for s in registry.sources.values() if s.active]
    if not active_sources:
        raise ConfigError(f"{settings.path(settings.partners_dir)}: no active identity source: "
                          "add a partner file with 'kind: source'")
    backends = [_backend(settings, registry, dictionary, s, env) for s in active_sources]
    source_origins = {b["name"]: source_login_origins(b) for b in backends}
    satosa = {
        "BASE": settings.base_url,
        "INTERNAL_ATTRIBUTES": dictionary.internal_attributes(),
        "FRONTEND_MODULES": [_oidc_frontend(settings, registry, dictionary),
                             _saml_frontend(settings, registry),
                             _account_frontend(settings, registry, dictionary),
                             _admin_frontend(settings, pid_file)],
        "BACKEND_MODULES": [*backends, _sso_backend()],
        # History after every step that changes what is released; the SSO session's note of
        # the services it answered comes last.
        "MICRO_SERVICES": [*_micro_services(settings, registry, dictionary, source_origins,
                                            env),
                           *_history_services(settings, registry),
                           _sso_service_use(settings, registry)],
        "CONTEXT_STATE_DELETE": True,
        "COOKIE_STATE_NAME": FLOW_COOKIE,
        # Partner logos served at /logos/<id> (checked by the registry).
        "NCC_LOGOS": {pid: str(registry.resolve(pid, p.logo))
                      for pid, p in [*registry.services.items(), *registry.sources.items()]
                      if p.logo},
    }
    # Metrics labels and audit fields: partner ids from the registry only (idp.login_trail).
    satosa["NCC_OBSERVABILITY"] = {**_observability(registry),
                                   "metrics_token_sha256": metrics_token_sha256(settings, env)}
    wire_logout(satosa, settings)  # single logout: one configuration for its plugins
    return Federation(settings, registry, dictionary, satosa)


def _observability(reg: Registry) -> dict[str, Any]:
    """What the login trail labels with (:mod:`idp.login_trail`), and where /readyz checks
    each source can be reached (its issuer, metadata or directory address)."""
    def address(src: Source) -> str | None:
        if src.protocol == "oidc" and src.oidc:
            return src.oidc.issuer
        if src.protocol == "saml2" and src.saml2:
            return src.saml2.metadata_url
        return src.ldap.url if src.ldap else None

    active = [s for s in reg.sources.values() if s.active]
    return {
        "services": {requester_of(s): s.id for s in reg.services.values()}
        | {r: r for r in OWN_REQUESTERS},
        "sources": {s.id: {"protocol": s.protocol, "address": address(s)} for s in active},
        "directories": sorted(reg.directories),
    }


def metrics_token_sha256(settings: Settings, env: dict[str, str]) -> str | None:
    """The SHA-256 of the bearer token ``/metrics`` asks for (``metrics.bearer_token_env``);
    ``None`` without ``metrics`` in the settings. The token itself is never kept."""
    if settings.metrics is None:
        return None
    name = settings.metrics.bearer_token_env
    token = env.get(name, "")
    if len(token) < 16:
        raise ConfigError(f"metrics.bearer_token_env: the environment variable {name} is "
                          f"{'too short' if token else 'not set'}: export it with a random "
                          "value of at least 16 characters (openssl rand -hex 32), or remove "
                          "metrics from the settings")
    return hashlib.sha256(token.encode()).hexdigest()


def config_path(path: str | Path) -> Path:
    """``serve --config`` takes a folder (``config/``, using ``proxy.yaml``) or a file."""
    p = Path(path)
    return p / "proxy.yaml" if p.is_dir() else p
