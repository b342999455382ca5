"""LemonLDAP::NG 2.16 (Debian's ``liblemonldap-ng-portal-perl``) as an identity source.

A private portal, never the Debian one: its own ``lemonldap-ng.ini``, found through the
``LLNG_DEFAULTCONFFILE`` environment variable (``Lemonldap::NG::Common::Conf::getLocalConf``
reads it before falling back to /etc/lemonldap-ng/lemonldap-ng.ini), a ``File``
configuration backend in the test's folder holding the one ``lmConf-1.json`` written
here, and sessions, caches and logs in that folder too, so /etc/lemonldap-ng and
/var/lib/lemonldap-ng are neither read nor changed. The portal's PSGI application runs
under ``plackup`` (Debian's ``libplack-perl``) on one 127.0.0.1 port: no web server, no
FastCGI socket, one process stopped by its PID (Debian's ``llng-fastcgi-server`` would need
a web server in front and refuses to run as root, which the test suite is).

Accounts come from LL::NG's ``Demo`` authentication backend, whose built-in users
(``dwho``, ``rtyler``, ``msmith``, password = login) carry only ``uid``, ``cn`` and
``mail``: the identity pivot of a test citizen is given to one of them by global macros,
in LDAP-like attribute names (``givenName``, ``sn``…), as a directory would hold it; the
partner-side settings (the RP's exported claims, the SP's exported attributes) then map
those names onto the protocol's, exactly as an LL::NG administrator does.

LL::NG states its authentication level in ``acr`` as ``loa-<level>``; the Demo backend's
level is 1 over http (2 over https): a partner file maps these values (``loa_mapping``).
"""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization

from ...keys import rsa_key_pem, self_signed_cert
from ..servers import free_port
from .process import (
    SETUP_HINT,
    MissingSoftware,
    PeerProcess,
    require_executable,
    require_file,
    tail,
)

PERL_LIB = Path("/usr/share/perl5/Lemonldap/NG")
PORTAL_PACKAGE = "liblemonldap-ng-portal-perl"
STATIC = Path("/usr/share/lemonldap-ng/portal/htdocs/static")
TEMPLATES = Path("/usr/share/lemonldap-ng/portal/templates")
#: The Demo backend's built-in accounts (``Lemonldap::NG::Portal::UserDB::Demo``).
DEMO_LOGINS = ("dwho", "rtyler", "msmith")
#: Where the portal puts its OpenID Connect and SAML endpoints (LL::NG's defaults).
OIDC_LOGOUT_PATH = "/oauth2/logout"
SAML_METADATA_PATH = "/saml/metadata"
ATTRNAME_FORMAT_URI = "urn:oasis:names:tc:SAML:2.0:attrname-format:uri"

#: The portal as a PSGI application, with its static files (CSS, scripts) and an access log.
APP_PSGI = """\
use strict;
use Plack::Builder;
use Plack::App::File;
use Lemonldap::NG::Portal::Main;

my $portal = Lemonldap::NG::Portal::Main->run( {} );
builder {
    enable 'AccessLog', format => 'combined';
    mount '/static' => Plack::App::File->new( root => '%(static)s' )->to_app;
    mount '/' => $portal;
};
"""


def _perl_string(value: str) -> str:
    """A Perl single-quoted literal (the macros are Perl expressions)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def require_lasso() -> None:
    """LL::NG's SAML roles need Lasso's Perl binding (``liblasso-perl``, only suggested by
    Debian's package): without it the SAML issuer fails to load."""
    perl = require_executable("perl", "perl")
    done = subprocess.run([perl, "-MLasso", "-e", "1"], capture_output=True, timeout=30,
                          check=False)
    if done.returncode != 0:
        raise MissingSoftware(f"Perl module Lasso not found (Debian package liblasso-perl): "
                              f"{SETUP_HINT}")


@dataclass(frozen=True)
class LlngAccount:
    """A Demo-backend account (``login``, password = login) and the attributes a directory
    would hold for it (session attribute name -> value)."""

    login: str
    attributes: dict[str, str]

    def __post_init__(self) -> None:
        if self.login not in DEMO_LOGINS:
            raise ValueError(f"{self.login}: the Demo backend only knows {DEMO_LOGINS}")


@dataclass(frozen=True)
class OidcRelyingParty:
    """One OIDC client registered at the portal (``oidcRPMetaDataOptions`` and friends).

    ``claims``: claim name -> session attribute (``oidcRPMetaDataExportedVars``); a claim is
    released when a requested scope lists it: the standard ones (``profile``: given_name,
    family_name, birthdate, gender…), or ``extra_scopes`` (scope -> its claims,
    ``oidcRPMetaDataOptionsExtraClaims``) for the others."""

    conf_key: str
    client_id: str
    client_secret: str
    redirect_uri: str
    post_logout_redirect_uri: str
    claims: dict[str, str]
    extra_scopes: dict[str, list[str]] = field(default_factory=dict)

    def options(self) -> dict[str, object]:
        return {
            "oidcRPMetaDataOptionsClientID": self.client_id,
            "oidcRPMetaDataOptionsClientSecret": self.client_secret,
            "oidcRPMetaDataOptionsPublic": 0,
            "oidcRPMetaDataOptionsRedirectUris": self.redirect_uri,
            "oidcRPMetaDataOptionsPostLogoutRedirectUris": self.post_logout_redirect_uri,
            "oidcRPMetaDataOptionsRequirePKCE": 1,
            "oidcRPMetaDataOptionsIDTokenSignAlg": "RS256",
            # NC Connect shows its own consent / information screen: LL::NG's would be a
            # second one for the same release.
            "oidcRPMetaDataOptionsBypassConsent": 1,
            "oidcRPMetaDataOptionsDisplayName": "NC Connect",
        }


@dataclass(frozen=True)
class SamlServiceProvider:
    """One SAML SP known to the portal's IdP (``samlSPMetaDataXML`` and friends).

    ``attributes``: session attribute -> (SAML Name, FriendlyName), sent with NameFormat
    ``uri`` (``samlSPMetaDataExportedAttributes``, "mandatory;name;format;friendly").
    ``name_id_format``: the format LL::NG uses when the AuthnRequest asks none
    (``samlSPMetaDataOptionsNameIDFormat``); a ``persistent`` NameID is an opaque value
    Lasso keeps in LL::NG's persistent sessions, one per user and SP."""

    conf_key: str
    metadata_xml: str
    attributes: dict[str, tuple[str, str]]
    name_id_format: str = "persistent"

    def options(self) -> dict[str, object]:
        return {
            "samlSPMetaDataOptionsNameIDFormat": self.name_id_format,
            # NC Connect signs its AuthnRequests and LogoutRequests: LL::NG checks them.
            "samlSPMetaDataOptionsCheckSSOMessageSignature": 1,
            "samlSPMetaDataOptionsCheckSLOMessageSignature": 1,
            # Signed Response (and assertion) and signed logout messages.
            "samlSPMetaDataOptionsSignSSOMessage": 1,
            "samlSPMetaDataOptionsSignSLOMessage": 1,
            "samlSPMetaDataOptionsEncryptionMode": "none",
            "samlSPMetaDataOptionsSignatureMethod": "RSA_SHA256",
            "samlSPMetaDataOptionsForceUTF8": 1,
        }

    def exported_attributes(self) -> dict[str, str]:
        return {attr: f"1;{name};{ATTRNAME_FORMAT_URI};{friendly}"
                for attr, (name, friendly) in self.attributes.items()}


class LemonLdapNg:
    """One private LL::NG portal with an OpenID Connect provider and a SAML IdP role."""

    def __init__(self, folder: Path, accounts: list[LlngAccount], port: int | None = None,
                 log_level: str = "info") -> None:
        self.plackup = require_executable("plackup", "libplack-perl")
        require_file(PERL_LIB / "Portal" / "Main.pm", PORTAL_PACKAGE)
        require_file(TEMPLATES, PORTAL_PACKAGE)
        require_lasso()
        self.folder = folder
        self.accounts = accounts
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_level = log_level
        self.oidc_rps: list[OidcRelyingParty] = []
        self.saml_sps: list[SamlServiceProvider] = []
        self.process: PeerProcess | None = None
        for sub in ("conf", "sessions/lock", "psessions/lock", "cache", "log"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        key, _ = rsa_key_pem()
        # PKCS#1 ("BEGIN RSA PRIVATE KEY"): what Crypt::OpenSSL::RSA->new_private_key reads.
        self._oidc_key = key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.TraditionalOpenSSL,
                                           serialization.NoEncryption()).decode()
        self._oidc_public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        self._oidc_kid = secrets.token_hex(8)
        #: LL::NG's own secret (``key``: it encrypts what it hands the browser), kept across
        #: restarts.
        self._key = secrets.token_hex(16)
        # The SAML signing key (PKCS#8 is fine for Lasso) and its self-signed certificate:
        # LL::NG's metadata publishes an X509Certificate only when given a certificate.
        saml_key, self._saml_key = rsa_key_pem()
        self._saml_cert = self_signed_cert(saml_key, "LemonLDAP::NG IdP de test").decode()

    # -- what partners see ------------------------------------------------------------

    @property
    def issuer(self) -> str:
        """The OIDC issuer: the portal's URL without the trailing slash LL::NG's ``portal``
        setting has (``oidcServiceMetaDataIssuer``, compared exactly by NC Connect)."""
        return self.url

    @property
    def log(self) -> Path:
        return self.folder / "log" / "portal.log"

    @property
    def saml_entity_id(self) -> str:
        """The IdP's entity ID, which LL::NG names after its metadata URL by default."""
        return self.url + SAML_METADATA_PATH

    @property
    def saml_metadata_url(self) -> str:
        return self.url + SAML_METADATA_PATH

    def register_oidc_rp(self, rp: OidcRelyingParty) -> None:
        """Declare an RP (before :meth:`start`)."""
        self.oidc_rps.append(rp)

    def trust_sp(self, sp: SamlServiceProvider) -> None:
        """Declare a SAML SP; a running portal is restarted on its port to read it (the SP's
        metadata — the proxy's — exists only once the proxy runs, after the portal)."""
        self.saml_sps.append(sp)
        if self.process is not None:
            self.stop()
            self.start()

    # -- configuration ----------------------------------------------------------------

    def ini(self) -> str:
        """``lemonldap-ng.ini``: the File backend in our folder, logs to stderr (our log)."""
        return f"""\
[all]
logLevel = {self.log_level}
logger = Lemonldap::NG::Common::Logger::Std
userLogger = Lemonldap::NG::Common::Logger::Std

[configuration]
type = File
dirName = {self.folder / "conf"}

[portal]
staticPrefix = /static
templateDir = {TEMPLATES}
languages = fr, en

[handler]
status = 0
"""

    def macros(self) -> dict[str, str]:
        """Global macros giving each account its directory attributes (Perl expressions,
        evaluated at login with the session's ``$uid``)."""
        names = sorted({name for account in self.accounts for name in account.attributes})
        macros = {}
        for name in names:
            expr = "''"
            for account in reversed(self.accounts):
                if name in account.attributes:
                    expr = (f"$uid eq {_perl_string(account.login)} ? "
                            f"{_perl_string(account.attributes[name])} : {expr}")
            macros[name] = expr
        return macros

    def conf(self) -> dict[str, object]:
        """``lmConf-1.json``: what the Manager would save, reduced to what this test needs."""
        storage = {"generateModule": "Lemonldap::NG::Common::Apache::Session::Generate::SHA256"}
        return {
            "cfgNum": 1, "cfgAuthor": "NC Connect interop tests", "cfgDate": int(time.time()),
            "cfgVersion": "2.16.1", "key": self._key,
            "portal": f"{self.url}/",
            # The SSO cookie's Domain: the portal's host (loopback has no parent domain).
            "domain": "127.0.0.1", "securedCookie": 0, "https": 0,
            "authentication": "Demo", "userDB": "Same", "passwordDB": "Demo",
            "registerDB": "Null", "portalDisplayRegister": 0, "notification": 0,
            "loginHistoryEnabled": 0, "bruteForceProtection": 0,
            "globalStorage": "Apache::Session::File",
            "globalStorageOptions": {**storage, "Directory": str(self.folder / "sessions"),
                                     "LockDirectory": str(self.folder / "sessions/lock")},
            "persistentStorage": "Apache::Session::File",
            "persistentStorageOptions": {"Directory": str(self.folder / "psessions"),
                                         "LockDirectory": str(self.folder / "psessions/lock")},
            "localSessionStorage": "Cache::FileCache",
            "localSessionStorageOptions": {"cache_root": str(self.folder / "cache"),
                                           "namespace": "lemonldap-ng-sessions",
                                           "default_expires_in": 600, "cache_depth": 3,
                                           "directory_umask": "077"},
            "macros": self.macros(),
            "locationRules": {}, "exportedHeaders": {},
            **self._oidc_conf(),
            **self._saml_conf(),
        }

    def _oidc_conf(self) -> dict[str, object]:
        return {
            "issuerDBOpenIDConnectActivation": 1,
            "oidcServiceMetaDataIssuer": self.issuer,
            "oidcServicePrivateKeySig": self._oidc_key,
            "oidcServicePublicKeySig": self._oidc_public,
            "oidcServiceKeyIdSig": self._oidc_kid,
            "oidcRPMetaDataOptions": {rp.conf_key: rp.options() for rp in self.oidc_rps},
            "oidcRPMetaDataExportedVars": {rp.conf_key: dict(rp.claims)
                                           for rp in self.oidc_rps},
            "oidcRPMetaDataOptionsExtraClaims": {
                rp.conf_key: {scope: " ".join(claims)
                              for scope, claims in rp.extra_scopes.items()}
                for rp in self.oidc_rps if rp.extra_scopes},
        }

    def _saml_conf(self) -> dict[str, object]:
        return {
            "issuerDBSAMLActivation": 1,
            "samlEntityID": self.saml_entity_id,
            "samlServicePrivateKeySig": self._saml_key.decode(),
            "samlServicePrivateKeySigPwd": "",
            "samlServicePublicKeySig": self._saml_cert,
            "samlServiceSignatureMethod": "RSA_SHA256",
            "samlOrganizationName": "LemonLDAP::NG de test",
            "samlOrganizationDisplayName": "LemonLDAP::NG de test",
            "samlOrganizationURL": self.url,
            "samlSPMetaDataXML": {sp.conf_key: {"samlSPMetaDataXML": sp.metadata_xml}
                                  for sp in self.saml_sps},
            "samlSPMetaDataOptions": {sp.conf_key: sp.options() for sp in self.saml_sps},
            "samlSPMetaDataExportedAttributes": {sp.conf_key: sp.exported_attributes()
                                                 for sp in self.saml_sps},
        }

    def write_config(self) -> None:
        (self.folder / "lemonldap-ng.ini").write_text(self.ini(), encoding="utf-8")
        (self.folder / "conf" / "lmConf-1.json").write_text(
            json.dumps(self.conf(), indent=1, ensure_ascii=False), encoding="utf-8")
        (self.folder / "app.psgi").write_text(APP_PSGI % {"static": STATIC}, encoding="utf-8")

    # -- process ------------------------------------------------------------------------

    def start(self, timeout: float = 30) -> LemonLdapNg:
        """``plackup`` on 127.0.0.1; ready when the discovery document answers 200 (LL::NG
        answers 500 "Initialization failed" until its configuration loads)."""
        self.write_config()
        self.process = PeerProcess(
            "LemonLDAP::NG portal",
            [self.plackup, "-s", "HTTP::Server::PSGI", "-E", "deployment",
             "--host", "127.0.0.1", "--port", str(self.port), str(self.folder / "app.psgi")],
            self.url, self.log, env={"LLNG_DEFAULTCONFFILE": str(self.folder / "lemonldap-ng.ini")},
            cwd=self.folder)
        try:
            self.process.wait_until_serving("/.well-known/openid-configuration", timeout)
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop()
            self.process = None

    def log_tail(self, lines: int = 30) -> str:
        return f"--- {self.log}:\n{tail(self.log, lines)}"

    def sso_sessions(self) -> set[str]:
        """Ids of the portal's live SSO sessions (its ``Apache::Session::File`` store: one
        JSON file per session, named by its id; OIDC codes and tokens live there too)."""
        ids = set()
        for path in (self.folder / "sessions").iterdir():
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue  # the lock folder, or a file being written
            if isinstance(data, dict) and data.get("_session_kind") == "SSO":
                ids.add(path.name)
        return ids
