"""The frontend's configuration, read once from the dict ``idp.assemble`` builds.

A missing or wrong key fails at start-up with its name, not at the first login.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clients import ClientRegistry


@dataclass(frozen=True)
class Lifetimes:
    code: int
    access_token: int
    id_token: int


@dataclass(frozen=True)
class FrontendSettings:
    issuer: str
    store_url: str
    signing_key_path: Path
    lifetimes: Lifetimes
    #: OIDC scope -> the claims it asks for.
    scopes: dict[str, tuple[str, ...]]
    #: OIDC claim -> dictionary (internal) name.
    claim_names: dict[str, str]
    clients: ClientRegistry

    @classmethod
    def from_dict(cls, conf: Mapping[str, Any]) -> FrontendSettings:
        try:
            life = conf["lifetimes"]
            lifetimes = Lifetimes(code=int(life["code"]), access_token=int(life["access_token"]),
                                  id_token=int(life["id_token"]))
            settings = cls(
                issuer=str(conf["issuer"]),
                store_url=str(conf["store_url"]),
                signing_key_path=Path(conf["signing_key_path"]),
                lifetimes=lifetimes,
                scopes={str(s): tuple(c) for s, c in (conf.get("scopes") or {}).items()},
                claim_names={str(c): str(n) for c, n in conf["claim_names"].items()},
                clients=ClientRegistry(conf.get("clients") or {}),
            )
        except KeyError as exc:
            raise ValueError(f"oidc frontend configuration: missing key {exc}") from exc
        if min(lifetimes.code, lifetimes.access_token, lifetimes.id_token) <= 0:
            raise ValueError("oidc frontend configuration: lifetimes must be positive")
        return settings
