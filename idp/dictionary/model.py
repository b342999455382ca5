"""The NC Connect attribute dictionary, and what SATOSA and pysaml2 need generated from it.

One entry per attribute says everything about it once: its names on each
protocol, the words the usager reads on the consent screen, the format its
values are normalised to, and whether it belongs to the identity pivot.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..schema_errors import ConfigError, explain
from .formats import FORMATS

Format = Literal[tuple(FORMATS)]  # type: ignore[valid-type]

#: The identity pivot, as FranceConnect defines it: what identifies a person across sources.
PIVOT = ("family_name", "given_name", "birthdate", "gender", "birthplace", "birthcountry")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OidcName(Strict):
    claim: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    scope: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    #: For structured claims (OIDC Core §5.1.1 ``address``): the member carrying the value.
    member: str | None = None


class SamlName(Strict):
    name: str = Field(pattern=r"^urn:oid:[0-9.]+$")
    friendly: str
    #: The eIDAS natural-person attribute URI, where one exists.
    eidas: str | None = Field(None, pattern=r"^http://eidas\.europa\.eu/attributes/")


class Attribute(Strict):
    label_fr: str = Field(min_length=2)
    label_en: str = Field(min_length=2)
    #: What the usager reads under the label on the consent screen, in plain words.
    description_fr: str = Field(min_length=10, max_length=400)
    description_en: str = Field(min_length=10, max_length=400)
    format: Format
    sensitivity: Literal["low", "medium", "high"]
    oidc: OidcName
    saml: SamlName

    @property
    def oidc_name(self) -> str:
        """The name in SATOSA's ``openid`` profile (dotted for a structured claim)."""
        return f"{self.oidc.claim}.{self.oidc.member}" if self.oidc.member else self.oidc.claim

    @property
    def saml_names(self) -> list[str]:
        """``urn:oid`` first (what we send), then the eIDAS URI (also accepted from sources)."""
        return [self.saml.name, *([self.saml.eidas] if self.saml.eidas else [])]


class Dictionary(Strict):
    attributes: dict[str, Attribute] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_and_complete(self) -> Dictionary:
        missing = [p for p in PIVOT if p not in self.attributes]
        if missing:
            raise ValueError(f"the identity pivot needs {', '.join(missing)}: add them")
        seen: dict[str, str] = {}
        for key, a in self.attributes.items():
            for name in [a.oidc_name, *a.saml_names]:
                if name in seen:
                    raise ValueError(f"{key}: name {name!r} is already used by {seen[name]}")
                seen[name] = key
        return self

    def internal_attributes(self) -> dict:
        """SATOSA's ``INTERNAL_ATTRIBUTES``: internal name -> per-profile external names."""
        return {"attributes": {name: {"openid": [a.oidc_name], "saml": a.saml_names}
                               for name, a in self.attributes.items()}}

    def scopes(self) -> dict[str, list[str]]:
        """OIDC scope -> claims it carries."""
        out: dict[str, list[str]] = {}
        for a in self.attributes.values():
            claims = out.setdefault(a.oidc.scope, [])
            if a.oidc.claim not in claims:
                claims.append(a.oidc.claim)
        return out

    def by_claim(self) -> dict[str, str]:
        """OIDC claim -> internal name."""
        return {a.oidc.claim: name for name, a in self.attributes.items()}

    def formats(self) -> dict[str, str]:
        return {name: a.format for name, a in self.attributes.items()}

    def screen_words(self) -> dict[str, dict[str, str]]:
        """attribute -> what the screens show of it: labels and descriptions in French and
        English, and its format (to show a value as a person reads it), in dictionary order."""
        return {name: {"label_fr": a.label_fr, "label_en": a.label_en,
                       "description_fr": a.description_fr, "description_en": a.description_en,
                       "format": a.format}
                for name, a in self.attributes.items()}


def load_dictionary(path: Path) -> Dictionary:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot be read as YAML ({exc})") from exc
    try:
        return Dictionary.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(explain(path, exc)) from exc
