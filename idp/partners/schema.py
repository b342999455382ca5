"""Schema of a partner file: a *service* (relying party) or an identity *source*.

A service file is also what the usager is shown: its purpose and legal basis
appear on the consent screen and in the DPO's diffusion report, and every
attribute it may receive carries the justification a data-protection officer
would ask for.

URLs must be https, except loopback ones when the proxy runs in demo/dev mode
(``allow_loopback_http``), which is checked by the registry, not here, because
the same file is valid or not depending on the deployment.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    WithJsonSchema,
    field_validator,
    model_validator,
)

ID_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"

#: eIDAS levels of assurance, weakest first.
LOA_LEVELS = ("low", "substantial", "high")
Loa = Literal["low", "substantial", "high"]

#: RGPD article 6 legal bases. Only ``consent`` lets the usager refuse on the consent screen;
#: the others make it an information screen.
LegalBasis = Literal["consent", "contract", "legal_obligation", "vital_interest", "public_task",
                     "legitimate_interest"]

#: NameID formats NC Connect issues to an SP: ``persistent`` (the pairwise identifier),
#: ``transient`` (a one-time random value, still linked server-side to the SSO session for
#: single logout), ``email`` (the citizen's address: only for a service that may receive it).
NameIdFormat = Literal["persistent", "transient", "email"]

#: JWK members that only a private key has: a partner file publishes public keys only.
PRIVATE_JWK_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


#: Languages a text the usager reads may be written in: French always, English if given.
TEXT_LANGS = ("fr", "en")


class Text(str):
    """A text the usager reads (a purpose, a justification, a name): the French text, with
    its English version when the partner file gives one.

    It *is* the French string, so reports, logs and the CLI use it as they always did;
    the screens ask :meth:`in_lang`. A partner writes either a plain (French) string or
    ``{fr: ..., en: ...}``."""

    en: str | None

    def __new__(cls, fr: str, en: str | None = None) -> Text:
        text = super().__new__(cls, fr)
        text.en = en
        return text

    def __reduce__(self) -> tuple:
        return (Text, (str(self), self.en))

    @property
    def fr(self) -> str:
        return str(self)

    def in_lang(self, lang: str) -> tuple[str, str]:
        """(text, language it is written in): the English text on an English page when there
        is one, else the French one, which the page then marks ``lang="fr"``."""
        if lang == "en" and self.en:
            return self.en, "en"
        return str(self), "fr"

    def translations(self) -> dict[str, str]:
        """``{"fr": ..., "en": ...}`` (no ``en`` when the partner gave none)."""
        return {"fr": str(self), **({"en": self.en} if self.en else {})}


def _represent_text(dumper: yaml.SafeDumper, text: Text) -> yaml.Node:
    if text.en:
        return dumper.represent_dict(text.translations())
    return dumper.represent_str(str(text))


# A partner file written back (``partenaires add``) keeps the texts as they were given.
yaml.SafeDumper.add_representer(Text, _represent_text)


def _text_validator(min_length: int, max_length: int | None):
    bounds = (f"{min_length} to {max_length} characters" if max_length
              else f"at least {min_length} characters")

    def check(lang: str, value: Any) -> str:
        if not isinstance(value, str):
            raise ValueError(f"{lang} must be a text, not {type(value).__name__}")
        if not value.strip():
            raise ValueError(f"{lang} is empty: write the English text, or remove {lang}"
                             if lang == "en" else "fr is empty: write the French text")
        if len(value) < min_length or (max_length is not None and len(value) > max_length):
            raise ValueError(f"{lang} must be {bounds} (it has {len(value)})")
        return value

    def validate(value: Any) -> Text:
        if isinstance(value, Text):
            return value
        if isinstance(value, str):
            if min_length and not value.strip():
                raise ValueError("is empty: write the French text")
            if len(value) < min_length or (max_length is not None and len(value) > max_length):
                raise ValueError(f"must be {bounds} (it has {len(value)})")
            return Text(value)
        if isinstance(value, dict):
            unknown = [str(k) for k in value if k not in TEXT_LANGS]
            if unknown:
                raise ValueError(f"{', '.join(repr(k) for k in unknown)} is not a language "
                                 "NC Connect shows: give fr (required) and en (optional)")
            if value.get("fr") is None:
                raise ValueError("fr is required: the French text every usager can read "
                                 "(en is optional)")
            fr = check("fr", value["fr"])
            en = check("en", value["en"]) if value.get("en") is not None else None
            return Text(fr, en)
        raise ValueError("must be a text in French, or {fr: <French text>, en: <English "
                         "text>} to give its English version too")

    return validate


def _text_out(value: Text) -> str | dict[str, str]:
    return value.translations() if isinstance(value, Text) and value.en else str(value)


def LocalisedText(min_length: int = 0, max_length: int | None = None) -> Any:  # noqa: N802
    """A text the usager reads: a French string, or ``{fr: ..., en: ...}`` (fr required,
    en optional); each language checked against the same bounds."""
    return Annotated[str, PlainValidator(_text_validator(min_length, max_length)),
                     PlainSerializer(_text_out),
                     WithJsonSchema({"anyOf": [
                         {"type": "string"},
                         {"type": "object", "required": ["fr"],
                          "properties": {"fr": {"type": "string"}, "en": {"type": "string"}},
                          "additionalProperties": False}]})]


def text_in(value: object, lang: str) -> tuple[str, str]:
    """(text, its language) of a partner's text, plain string or :class:`Text`."""
    if isinstance(value, Text):
        return value.in_lang(lang)
    return ("" if value is None else str(value)), "fr"


def _utc_instant(value: object) -> dt.datetime:
    """An ISO-8601 instant in UTC (``2026-12-11T04:00:00Z``). YAML gives a datetime for an
    unquoted one and a string for a quoted one; both are accepted, a naive or non-UTC time is
    not: the expiry is compared with the proxy's clock and read by people in several zones."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not an ISO-8601 date and time: write it like "
                             "2026-12-11T04:00:00Z") from None
    if not isinstance(value, dt.datetime):
        raise ValueError("must be a date and time in UTC, like 2026-12-11T04:00:00Z")
    if value.tzinfo is None or value.utcoffset() != dt.timedelta(0):
        raise ValueError(f"{value.isoformat()} must be in UTC: end it with Z, like "
                         "2026-12-11T04:00:00Z")
    return value.astimezone(dt.UTC)


class PreviousClientSecret(Strict):
    """The secret a service had before its secret was regenerated, kept for an overlap so the
    partner can switch without an outage (``ncconnect partenaires new-secret
    --overlap-hours``). An expiry in the past is valid: the file must not turn invalid with
    time, the secret simply stops working."""

    #: SHA-256 (hex) of the previous secret, like ``client_secret_sha256``.
    sha256: str
    #: Until when the previous secret is accepted at the token endpoint (UTC).
    expires_at: Annotated[dt.datetime, PlainValidator(_utc_instant),
                          PlainSerializer(lambda v: v.strftime("%Y-%m-%dT%H:%M:%SZ")),
                          WithJsonSchema({"type": "string", "format": "date-time"})]

    @field_validator("sha256")
    @classmethod
    def _hex(cls, v: str) -> str:
        if not re.fullmatch(r"[0-9a-f]{64}", v):
            raise ValueError("must be 64 lowercase hex digits: the SHA-256 of the previous "
                             "secret (the former client_secret_sha256)")
        return v


class OidcClient(Strict):
    client_id: str = Field(min_length=3, max_length=128)
    #: SHA-256 (hex) of the client secret. Client secrets are random and long, so a
    #: fast hash is enough; the secret itself never sits in a partner file.
    client_secret_sha256: str | None = None
    #: The secret before the last regeneration, still accepted until its ``expires_at``.
    previous_client_secret: PreviousClientSecret | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post",
                                        "private_key_jwt", "none"] = "client_secret_basic"
    #: Public keys for ``private_key_jwt`` (RFC 7523): inline JWKS or an https URL to fetch it.
    jwks: dict | None = None
    jwks_uri: str | None = None
    redirect_uris: list[str] = Field(min_length=1)
    post_logout_redirect_uris: list[str] = []
    backchannel_logout_uri: str | None = None
    require_pkce: bool = True

    @field_validator("client_secret_sha256")
    @classmethod
    def _hex(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9a-f]{64}", v):
            raise ValueError("must be 64 lowercase hex digits: the SHA-256 of the secret "
                             "(ncconnect partenaires hash-secret prints it)")
        return v

    @field_validator("redirect_uris", "post_logout_redirect_uris")
    @classmethod
    def _exact(cls, v: list[str]) -> list[str]:
        for uri in v:
            if "#" in uri or "*" in uri:
                raise ValueError(
                    f"{uri!r}: a redirect URI is matched exactly: no fragment, no wildcard"
                )
        return v

    @field_validator("jwks")
    @classmethod
    def _public_keys(cls, v: dict | None) -> dict | None:
        if v is None:
            return v
        keys = v.get("keys")
        if not isinstance(keys, list) or not keys or not all(isinstance(k, dict) for k in keys):
            raise ValueError("must be a JWK Set: a mapping with a non-empty 'keys' list")
        for i, key in enumerate(keys):
            if key.get("kty") not in ("RSA", "EC"):
                raise ValueError(f"keys[{i}]: kty must be RSA or EC")
            private = sorted(PRIVATE_JWK_MEMBERS & key.keys())
            if private:
                raise ValueError(f"keys[{i}] holds private key members ({', '.join(private)}): "
                                 "publish the public key only, and keep the private key secret")
        return v

    @model_validator(mode="after")
    def _auth(self) -> OidcClient:
        previous = self.previous_client_secret
        if previous is not None:
            if self.token_endpoint_auth_method not in ("client_secret_basic",
                                                       "client_secret_post"):
                raise ValueError("previous_client_secret is for clients authenticating with a "
                                 "secret (client_secret_basic, client_secret_post): remove it")
            if not self.client_secret_sha256:
                raise ValueError("previous_client_secret needs the current secret: set "
                                 "client_secret_sha256")
            if previous.sha256 == self.client_secret_sha256:
                raise ValueError("previous_client_secret.sha256 is the current "
                                 "client_secret_sha256: remove previous_client_secret")
        has_keys = self.jwks is not None or self.jwks_uri is not None
        if self.token_endpoint_auth_method == "private_key_jwt":
            if self.client_secret_sha256:
                raise ValueError("private_key_jwt clients authenticate with their key: remove "
                                 "client_secret_sha256")
            if (self.jwks is None) == (self.jwks_uri is None):
                raise ValueError("private_key_jwt needs exactly one of jwks or jwks_uri")
            return self
        if has_keys:
            raise ValueError("jwks and jwks_uri are for token_endpoint_auth_method: "
                             "private_key_jwt: remove them or change the method")
        if self.token_endpoint_auth_method == "none":
            if self.client_secret_sha256:
                raise ValueError("a public client (token_endpoint_auth_method: none) has no "
                                 "secret: remove client_secret_sha256")
            if not self.require_pkce:
                raise ValueError("a public client must use PKCE: set require_pkce: true")
        elif not self.client_secret_sha256:
            raise ValueError(f"token_endpoint_auth_method {self.token_endpoint_auth_method} needs "
                             "client_secret_sha256")
        return self


class SamlMetadata(Strict):
    metadata_file: str | None = None
    metadata_url: str | None = None

    @model_validator(mode="after")
    def _one(self) -> SamlMetadata:
        if bool(self.metadata_file) == bool(self.metadata_url):
            raise ValueError("give exactly one of metadata_file or metadata_url")
        return self


class SamlServiceTech(SamlMetadata):
    entity_id: str = Field(min_length=3)
    #: The NameID formats this SP may ask for (``NameIDPolicy Format``); the first one answers
    #: a request that asks none or ``unspecified``. One format pins it. Transient is allowed by
    #: default: SimpleSAMLphp and mod_auth_mellon ask for it, and it tells the SP less.
    name_id_formats: list[NameIdFormat] = Field(["persistent", "transient"], min_length=1)
    #: Encrypt the assertion with the key of the SP's metadata (AES-256-GCM, RSA-OAEP).
    encrypt_assertions: bool = False
    #: ``unsigned_confirm``: an unsigned LogoutRequest is accepted after the citizen confirms
    #: on our page (SimpleSAMLphp SPs do not sign them by default); signed ones never ask.
    logout_requests: Literal["signed", "unsigned_confirm"] = "signed"

    @field_validator("name_id_formats")
    @classmethod
    def _unique(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError("lists a format twice: give each format once, the default first")
        return v


class SamlSourceTech(SamlMetadata):
    entity_id: str = Field(min_length=3)
    #: ``transient``: the source's NameID changes at every login, so the citizen is known by
    #: the identity pivot (which the source must then provide complete); the NameID is kept
    #: only to log out at the source.
    name_id: Literal["persistent", "transient"] = "persistent"
    #: The signature that makes its answers trustworthy. ``assertion``: every assertion is
    #: signed (the Response may be too). ``response``: a signed Response is enough, as the
    #: Web SSO profile allows (Shibboleth IdP and Keycloak sign only the Response by
    #: default); an explicit allowance, never assumed.
    signature: Literal["assertion", "response"] = "assertion"


class LoaMapping(Strict):
    """What a source's own level values mean, in eIDAS levels (none may exceed its ``loa``)."""

    #: The source's ``acr`` (OIDC) or ``AuthnContextClassRef`` (SAML) value -> eIDAS level.
    values: dict[str, Loa] = {}
    #: The level an answer that states nothing reaches; absent: such an answer is refused.
    unstated: Loa | None = None

    @field_validator("values")
    @classmethod
    def _keys(cls, v: dict[str, str]) -> dict[str, str]:
        for key in v:
            if not key.strip() or len(key) > 256:
                raise ValueError(f"{key[:40]!r}: a value is 1 to 256 characters")
        return v


class OidcSourceTech(Strict):
    issuer: str
    client_id: str = Field(min_length=1)
    #: Name of the environment variable holding the secret NC Connect uses at this
    #: source: secrets stay out of the repository.
    client_secret_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    scope: list[str] = ["openid", "profile", "email"]
    id_token_signing_alg: Literal["RS256", "PS256", "ES256"] = "RS256"


class LdapConnection(Strict):
    """How the proxy reaches a directory (the account source, an administration's directory)."""

    #: ``ldaps://host:636`` or ``ldap://host:389`` (then ``start_tls: true`` outside loopback).
    url: str = Field(pattern=r"^ldaps?://[^/\s]+/?$")
    start_tls: bool = False
    #: The proxy's own read-only account; its password comes from the environment.
    bind_dn: str | None = None
    bind_password_env: str | None = Field(None, pattern=r"^[A-Z][A-Z0-9_]*$")
    base_dn: str = Field(min_length=3)
    connect_timeout: float = Field(3.0, gt=0, le=30)
    search_timeout: float = Field(5.0, gt=0, le=60)

    @model_validator(mode="after")
    def _bind(self) -> LdapConnection:
        if (self.bind_dn is None) != (self.bind_password_env is None):
            raise ValueError("give both bind_dn and bind_password_env (or neither, for an "
                             "anonymous search)")
        return self


class Lockout(Strict):
    #: Failed passwords for one account before it is locked here, and for how long.
    failures: int = Field(5, ge=1, le=100)
    minutes: int = Field(15, ge=1, le=1440)


class RateLimit(Strict):
    #: Login attempts one client address may make in the window.
    attempts: int = Field(30, ge=1, le=10000)
    minutes: int = Field(5, ge=1, le=1440)


class LdapSourceTech(LdapConnection):
    """NC Connect's own citizen accounts: a login form of the proxy, checked against LDAP."""

    #: How the login typed in the form finds the entry; ``{login}`` is escaped.
    login_filter: str = Field("(uid={login})", pattern=r"^\(.*\{login\}.*\)$")
    #: The entry's attribute whose values ``loa_mapping`` reads (e.g. identity verified at a
    #: counter); absent: every login reaches ``loa_mapping.unstated`` or is refused.
    loa_attribute: str | None = None
    #: "Mot de passe oublié ?" on the form.
    password_reset_url: str | None = None
    lockout: Lockout = Lockout()
    rate_limit: RateLimit = RateLimit()


class DirectoryMatch(Strict):
    """How a citizen is found in an administration's directory.

    ``filter`` names dictionary attributes in braces, each escaped when filled in:
    ``(&(sn={family_name})(givenName={given_name})(dateNaissance={birthdate:%Y%m%d}))``.
    Every attribute it names must be one the login provides, or nothing is looked up."""

    filter: str = Field(min_length=5, max_length=1024)


class ReleasedAttribute(Strict):
    """Why a service may receive one attribute; optional ones can be unticked by the usager."""

    #: Why, in the words the usager reads: a French string or ``{fr: ..., en: ...}``.
    justification: LocalisedText(10, 500)
    optional: bool = False


class ConsentPolicy(Strict):
    #: How long "Se souvenir de mon choix" lasts; 0 means the screen is shown at every login.
    #: 13 months at most, as the CNIL recommends for a remembered choice.
    remember_days: int = Field(180, ge=0, le=395)


class SourceAttribute(Strict):
    """How one dictionary attribute is read from what this source sends."""

    #: The source's name for it, when it is not the dictionary's name on this protocol.
    #: (``from`` is a Python keyword, hence the alias.)
    from_: str | None = Field(None, alias="from", min_length=1, max_length=256)
    #: ``strptime`` format of a date the source does not send as ISO 8601.
    date_format: str | None = None
    #: The source's codes -> the dictionary's values (e.g. ``{"1": male, "2": female}``).
    values: dict[str, str] | None = None

    @field_validator("date_format")
    @classmethod
    def _date_format(cls, v: str | None) -> str | None:
        if v is not None and not all(part in v for part in ("%Y", "%m", "%d")):
            raise ValueError(f"{v!r} must contain %Y, %m and %d (strptime format)")
        return v


class Service(Strict):
    kind: Literal["service"]
    id: str = Field(pattern=ID_PATTERN)
    #: Texts the usager reads (name, organisation, purpose, and each attribute's
    #: justification) are a French string or ``{fr: ..., en: ...}``: English pages show the
    #: English text where there is one, the French one (marked as French) otherwise.
    name: LocalisedText(2, 200)
    organisation: LocalisedText(2, 200)
    #: The partner organisation this service belongs to, for the partner portal
    #: (``/partenaires/``): its members see and request the services bearing this id.
    organisation_id: str | None = None
    contact: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    logo: str | None = None
    active: bool = True
    #: The finalité, in the words the usager reads on the consent screen.
    purpose: LocalisedText(10, 500)
    legal_basis: LegalBasis
    #: The text that founds the processing (délibération, arrêté…), when there is one.
    legal_reference: str | None = None
    loa_min: Loa = "low"
    #: Services of one sector receive the same pairwise identifier for a citizen.
    sector: str | None = Field(None, pattern=ID_PATTERN)
    consent: ConsentPolicy = ConsentPolicy()
    protocol: Literal["oidc", "saml2"]
    oidc: OidcClient | None = None
    saml2: SamlServiceTech | None = None
    sources: list[str] = Field(min_length=1)
    attributes: dict[str, ReleasedAttribute] = Field(min_length=1)
    #: ``false``: no administration directory completes what the source gave to this service.
    enrichment: bool = True

    @field_validator("organisation_id")
    @classmethod
    def _organisation_id(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(ID_PATTERN, v):
            raise ValueError(f"{v!r} must be an organisation's id like a partner id: lowercase "
                             "letters, digits and hyphens, a letter first, 2 to 63 characters "
                             "(e.g. commune-dumbea)")
        return v

    @property
    def pairwise_sector(self) -> str:
        return f"sector:{self.sector}" if self.sector else f"service:{self.id}"

    @model_validator(mode="after")
    def _tech(self) -> Service:
        _check_tech(self.protocol, self.oidc, self.saml2, None)
        return self


class Source(Strict):
    kind: Literal["source"]
    id: str = Field(pattern=ID_PATTERN)
    #: On the choice and consent screens: a French string or ``{fr: ..., en: ...}``.
    display_name: LocalisedText(2, 200)
    description: LocalisedText(0, 300) = Text("")
    logo: str | None = None
    active: bool = True
    #: The highest eIDAS level this source's authentication reaches (its ceiling): a login
    #: reaches the level its answer states, read through ``loa_mapping``, never above this.
    loa: Loa
    loa_mapping: LoaMapping = LoaMapping()
    #: PEM file of the certificate authorities trusted for this source's TLS (metadata,
    #: discovery, JWKS, token, userinfo), relative to the partner file; the system's otherwise.
    tls_ca_file: str | None = None
    protocol: Literal["oidc", "saml2", "ldap"]
    oidc: OidcSourceTech | None = None
    saml2: SamlSourceTech | None = None
    ldap: LdapSourceTech | None = None
    #: What the source provides, by dictionary name, and how to read each one.
    attributes: dict[str, SourceAttribute] = Field(min_length=1)

    @model_validator(mode="after")
    def _tech(self) -> Source:
        _check_tech(self.protocol, self.oidc, self.saml2, self.ldap)
        return self


class Directory(Strict):
    """An administration's directory that may complete what a source gave ("dites-le nous une
    seule fois"): who holds it, on what legal basis, how to find the citizen, what it supplies."""

    kind: Literal["directory"]
    id: str = Field(pattern=ID_PATTERN)
    #: Shown beside each value it supplied, after "fourni par" / "provided by": write it as it
    #: reads there ("la Province Sud"); a French string or ``{fr: ..., en: ...}``
    #: (``{fr: la Province Sud, en: the Province Sud}``).
    organisation: LocalisedText(2, 200)
    contact: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    active: bool = True
    legal_basis: LegalBasis
    legal_reference: str | None = None
    ldap: LdapConnection
    tls_ca_file: str | None = None
    match: DirectoryMatch
    #: The dictionary attributes it can supply, and how to read each one.
    attributes: dict[str, SourceAttribute] = Field(min_length=1)
    #: ``continue``: a login goes on without its data when it is down; ``stop``: it ends.
    when_unavailable: Literal["continue", "stop"] = "continue"


def _check_tech(protocol: str, oidc: object, saml2: object, ldap: object) -> None:
    present = {"oidc": oidc is not None, "saml2": saml2 is not None, "ldap": ldap is not None}
    if not present[protocol]:
        raise ValueError(f"protocol is {protocol}: add a '{protocol}:' section")
    for other, there in present.items():
        if other != protocol and there:
            raise ValueError(f"protocol is {protocol}: remove the '{other}:' section")
