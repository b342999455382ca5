"""Schema of ``config/*.yaml``: the proxy's own settings (partners live elsewhere)."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from .keys import KeyPaths
from .schema_errors import ConfigError, explain


class Lifetimes(BaseModel):
    model_config = ConfigDict(extra="forbid")
    flow: int = Field(900, ge=60, le=3600, description="seconds a login may take")
    oidc_code: int = Field(60, ge=10, le=600)
    access_token: int = Field(300, ge=60, le=3600)
    id_token: int = Field(300, ge=60, le=3600)
    saml_assertion: int = Field(300, ge=60, le=3600)
    remembered_choice: int = Field(180 * 86400, ge=0)
    #: How long a response waits on the consent screen before the usager must start again.
    consent_screen: int = Field(600, ge=60, le=3600)
    #: Connection history is kept this many days, then deleted (RGPD: limited retention).
    history_days: int = Field(365, ge=1, le=3650)
    #: The citizen's own space (/mon-compte) session, in seconds.
    account_session: int = Field(900, ge=60, le=3600)
    #: SSO session: ended after this long without use, and after this long at most.
    sso_idle: int = Field(1800, ge=60, le=86400)
    sso_absolute: int = Field(8 * 3600, ge=300, le=7 * 86400)


class SamlSettings(BaseModel):
    """``saml: {crypto: in_process | xmlsec1}``: what signs, verifies, encrypts and decrypts
    every SAML message (:mod:`plugins.saml2.crypto`)."""

    model_config = ConfigDict(extra="forbid")
    crypto: str = "in_process"

    @field_validator("crypto")
    @classmethod
    def _known_backend(cls, v: str) -> str:
        from plugins.saml2.crypto.setting import check_crypto

        return check_crypto(v)


class KeyRotation(BaseModel):
    """``key_rotation: {publish_days}``: how long a new public key (OIDC signing, SAML signing
    or encryption) is published before ``ncconnect keys activate`` accepts it: partners'
    JWKS caches and SAML metadata refreshes must have seen it (:mod:`idp.keyring`)."""

    model_config = ConfigDict(extra="forbid")
    publish_days: float = Field(7, ge=0, le=90)


class MetricsSettings(BaseModel):
    """``metrics: {bearer_token_env: NAME}``: ``/metrics`` answers the scraper that presents
    the value of the environment variable ``NAME`` as a bearer token (a long random value;
    it never sits in a file of the repository). Without ``metrics``, there is no ``/metrics``."""

    model_config = ConfigDict(extra="forbid")
    bearer_token_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")


class AuditSettings(BaseModel):
    """``audit: {dir, retention_days}``: the audit stream's folder (``DATA_DIR/audit`` by
    default) and how many days its files are kept (the connection history's by default:
    ``lifetimes.history_days``)."""

    model_config = ConfigDict(extra="forbid")
    dir: Path | None = None
    retention_days: int | None = Field(None, ge=1, le=3650)


class HelpContact(BaseModel):
    """NC Connect's help desk, shown on every error page ("Besoin d'aide ?"): at least one of
    an e-mail address, a phone number (as citizens dial it, e.g. ``+687 27 00 00``) and an
    https page."""

    model_config = ConfigDict(extra="forbid")
    email: str | None = Field(None, max_length=254, pattern=r"^[^@\s<>\"]+@[^@\s<>\"]+\.[a-z]{2,}$")
    phone: str | None = Field(None, pattern=r"^\+?[0-9][0-9 .]{3,24}[0-9]$")
    url: str | None = Field(None, max_length=2048, pattern=r"^https://[^\s<>\"]+$")

    @model_validator(mode="after")
    def _one_at_least(self) -> HelpContact:
        if not (self.email or self.phone or self.url):
            raise ValueError("give at least one of email, phone, url (or remove help)")
        return self

    @property
    def tel(self) -> str | None:
        """The ``tel:`` URI of :attr:`phone` (RFC 3966: digits and a leading ``+``)."""
        if not self.phone:
            return None
        return "tel:" + ("+" if self.phone.startswith("+") else "") + "".join(
            c for c in self.phone if c.isdigit())


class PortalSettings(BaseModel):
    """``portal: {role_days, invitation_hours, secret_overlap_hours}``: the administration and
    partner portal (``/admin/``, ``/partenaires/``). A
    role lapses after ``role_days`` without a sign-in (13 months by default: an access review
    by default); an enrolment link printed by ``ncconnect admin add`` works once, within
    ``invitation_hours`` (``--hours`` sets another lifetime for one link, within the same
    bounds)."""

    model_config = ConfigDict(extra="forbid")
    role_days: int = Field(395, ge=1, le=800, description="days a role lasts without a sign-in")
    invitation_hours: int = Field(72, ge=1, le=720,
                                  description="hours an enrolment link works, unless --hours")
    secret_overlap_hours: float = Field(
        168, ge=0, le=2160,
        description="hours a regenerated client secret's predecessor keeps working, so the "
                    "partner switches without an outage (0: at once)")


class RegistrySettings(BaseModel):
    """``registry: {poll_seconds}``: every host's gunicorn master reads the registry
    generation in the shared store this often and reloads when it changed
    (:mod:`idp.partners.generation`), so that hosts sharing a partner folder all serve a
    change made on any of them within this many seconds."""

    model_config = ConfigDict(extra="forbid")
    poll_seconds: int = Field(20, ge=2, le=60,
                              description="seconds between two reads of the registry "
                                          "generation by each host")


class Settings(BaseModel):
    model_config = ConfigDict(extra="forbid")
    base_url: str
    data_dir: Path = Path("../data")
    store: str = "embedded"
    partners_dir: Path = Path("../partenaires")
    dictionary: Path = Path("../attributs/dictionnaire.yaml")
    allow_loopback_http: bool = False
    workers: int = Field(3, ge=1, le=64)
    bind: str = "127.0.0.1:9443"
    lifetimes: Lifetimes = Lifetimes()
    saml: SamlSettings = SamlSettings()
    key_rotation: KeyRotation = KeyRotation()
    #: Bounds every request body; 512 KiB lets the partner portal's form carry a logo of the
    #: registry's largest size (256 KiB) with its fields.
    max_body_bytes: int = Field(512 * 1024, ge=4096, le=4 * 1024 * 1024)
    log_level: str = "INFO"
    #: gunicorn access log (path, method, status, worker pid; never the query string,
    #: which carries codes and tokens). None: no access log.
    access_log: Path | None = None
    #: Reverse proxies (addresses or networks) whose ``X-Forwarded-For`` names the client
    #: address, for the account source's rate limit; from anyone else it is ignored.
    trusted_proxies: list[str] = []
    #: The help desk error pages point to (``help: {email, phone, url}``); none: no contact.
    help: HelpContact | None = None
    #: ``/metrics`` for a scraper with a bearer token (:mod:`idp.metrics`); none: no metrics.
    metrics: MetricsSettings | None = None
    #: The audit stream (:mod:`idp.audit.stream`).
    audit: AuditSettings = AuditSettings()
    #: The administration portal's roles and enrolment links (:mod:`plugins.frontends.admin`).
    portal: PortalSettings = PortalSettings()
    #: How often each host checks the shared store for a registry change made elsewhere.
    registry: RegistrySettings = RegistrySettings()

    #: Folder of the settings file: relative paths above are relative to it.
    origin: Path = Field(Path("."), exclude=True)

    @field_validator("base_url")
    @classmethod
    def _no_trailing_slash(cls, v: str) -> str:
        if v.endswith("/"):
            raise ValueError("must not end with '/': write https://host[:port]")
        if not v.startswith(("https://", "http://")):
            raise ValueError("must be an absolute https:// URL")
        return v

    @field_validator("store")
    @classmethod
    def _store_url(cls, v: str) -> str:
        from .stores import check_store_url  # a bad URL stops the start, naming the fix

        check_store_url(v)
        return v

    def path(self, p: Path) -> Path:
        return p if p.is_absolute() else (self.origin / p).resolve()

    @property
    def data(self) -> Path:
        return self.path(self.data_dir)

    @property
    def audit_dir(self) -> Path:
        return self.path(self.audit.dir) if self.audit.dir else self.data / "audit"

    @property
    def audit_retention_days(self) -> int:
        return self.audit.retention_days or self.lifetimes.history_days

    @property
    def metrics_dir(self) -> Path:
        """prometheus-client's multiprocess files (:mod:`idp.metrics.multiprocess`)."""
        return self.data / "metrics"

    @property
    def keys(self) -> KeyPaths:
        return KeyPaths(self.data / "keys")

    @property
    def store_url(self) -> str:
        if self.store == "embedded":
            return f"sqlite://{self.data / 'store.db'}"
        return self.store

    @property
    def https(self) -> bool:
        return self.base_url.startswith("https://")


def load_settings(path: Path, **overrides: object) -> Settings:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of settings")
    data.update({k: v for k, v in overrides.items() if v is not None})
    data["origin"] = path.parent.resolve()
    try:
        settings = Settings.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain(path, exc)) from exc
    from .partners.registry import check_url

    problem = check_url(settings.base_url, settings.allow_loopback_http)
    if problem:
        raise ConfigError(f"{path}: base_url: {problem}")
    return settings
