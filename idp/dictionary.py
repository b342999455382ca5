"""The NC Connect attribute dictionary, and what SATOSA needs generated from it."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from .schema_errors import ConfigError, explain


class OidcName(BaseModel):
    model_config = ConfigDict(extra="forbid")
    claim: str
    scope: str


class SamlName(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    friendly: str


class Attribute(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label_fr: str
    oidc: OidcName
    saml: SamlName


class Dictionary(BaseModel):
    model_config = ConfigDict(extra="forbid")
    attributes: dict[str, Attribute]

    def internal_attributes(self) -> dict:
        """SATOSA's ``INTERNAL_ATTRIBUTES``: internal name -> per-profile external names."""
        return {
            "attributes": {
                name: {"openid": [a.oidc.claim], "saml": [a.saml.name]}
                for name, a in self.attributes.items()
            }
        }

    def scopes(self) -> dict[str, list[str]]:
        """OIDC scope -> claims it carries."""
        out: dict[str, list[str]] = {}
        for a in self.attributes.values():
            out.setdefault(a.oidc.scope, []).append(a.oidc.claim)
        return out


def load_dictionary(path: Path) -> Dictionary:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({exc})") from exc
    try:
        return Dictionary.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain(path, exc)) from exc
