"""Schema of a partner file: a *service* (relying party) or an identity *source*.

URLs must be https, except loopback ones when the proxy runs in demo/dev mode
(``allow_loopback_http``), which is checked by the registry, not here, because
the same file is valid or not depending on the deployment.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ID_PATTERN = r"^[a-z][a-z0-9-]{1,62}$"


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OidcClient(Strict):
    client_id: str = Field(min_length=3, max_length=128)
    #: SHA-256 (hex) of the client secret. Client secrets are random and long, so a
    #: fast hash is enough; the secret itself never sits in a partner file.
    client_secret_sha256: str | None = None
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post", "none"] = (
        "client_secret_basic"
    )
    redirect_uris: list[str] = Field(min_length=1)
    require_pkce: bool = True

    @field_validator("client_secret_sha256")
    @classmethod
    def _hex(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"[0-9a-f]{64}", v):
            raise ValueError("must be 64 lowercase hex digits: the SHA-256 of the secret "
                             "(ncconnect partenaires hash-secret prints it)")
        return v

    @field_validator("redirect_uris")
    @classmethod
    def _exact(cls, v: list[str]) -> list[str]:
        for uri in v:
            if "#" in uri or "*" in uri:
                raise ValueError(
                    f"{uri!r}: a redirect URI is matched exactly: no fragment, no wildcard"
                )
        return v

    @model_validator(mode="after")
    def _auth(self) -> OidcClient:
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


class SamlSourceTech(SamlMetadata):
    entity_id: str = Field(min_length=3)


class OidcSourceTech(Strict):
    issuer: str
    client_id: str = Field(min_length=1)
    #: Name of the environment variable holding the secret NC Connect uses at this
    #: source: secrets stay out of the repository.
    client_secret_env: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    scope: list[str] = ["openid", "profile", "email"]
    id_token_signing_alg: Literal["RS256", "PS256", "ES256"] = "RS256"


class Service(Strict):
    kind: Literal["service"]
    id: str = Field(pattern=ID_PATTERN)
    name: str = Field(min_length=2)
    organisation: str = Field(min_length=2)
    contact: str = Field(pattern=r"^[^@\s]+@[^@\s]+$")
    active: bool = True
    protocol: Literal["oidc", "saml2"]
    oidc: OidcClient | None = None
    saml2: SamlServiceTech | None = None
    sources: list[str] = Field(min_length=1)
    attributes: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _tech(self) -> Service:
        _check_tech(self.protocol, self.oidc, self.saml2)
        return self


class Source(Strict):
    kind: Literal["source"]
    id: str = Field(pattern=ID_PATTERN)
    display_name: str = Field(min_length=2)
    description: str = ""
    active: bool = True
    protocol: Literal["oidc", "saml2"]
    oidc: OidcSourceTech | None = None
    saml2: SamlSourceTech | None = None

    @model_validator(mode="after")
    def _tech(self) -> Source:
        _check_tech(self.protocol, self.oidc, self.saml2)
        return self


def _check_tech(protocol: str, oidc: object, saml2: object) -> None:
    present = {"oidc": oidc is not None, "saml2": saml2 is not None}
    if not present[protocol]:
        raise ValueError(f"protocol is {protocol}: add a '{protocol}:' section")
    other = "saml2" if protocol == "oidc" else "oidc"
    if present[other]:
        raise ValueError(f"protocol is {protocol}: remove the '{other}:' section")
