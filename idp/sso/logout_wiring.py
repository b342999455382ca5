"""Handing single logout its configuration: one dict, given to every plugin that takes part.

A logout may start at the OIDC frontend, the SAML frontend or *Mon espace*, and continue
at a backend when an identity source sends the browser back; each of them needs the same
orchestration. SATOSA gives plugins no handle on each other, so the assembled
configuration of each participating plugin gets the same ``logout`` entry (the store, the
lifetimes, the names the result page shows), :func:`idp.sso.logout.logout_hub` builds the
orchestration once per process from it, and each plugin registers there what it can tell
(its own configuration is all it needs).

Its ``id`` is new at every assembly: a configuration reloaded on SIGHUP gets its own
orchestration, never the previous one's.
"""

from __future__ import annotations

import secrets
from typing import Any

from ..settings import Settings

#: Plugin names (they are also URL prefixes, so they do not change).
OIDC_FRONTEND = "oidc"
SAML_FRONTEND = "saml2"
ACCOUNT_FRONTEND = "compte"


def logout_config(satosa: dict[str, Any], settings: Settings) -> dict[str, Any]:
    frontends = {m["name"]: m for m in satosa["FRONTEND_MODULES"]}
    sources = [b for b in satosa["BACKEND_MODULES"] if "source_id" in b["config"]]
    oidc = frontends.get(OIDC_FRONTEND)
    saml = frontends.get(SAML_FRONTEND)
    services: dict[str, str] = {}
    if oidc is not None:
        services |= {c["service_id"]: c["name"] for c in oidc["config"]["clients"].values()}
    if saml is not None:
        services |= {sp["service_id"]: sp["name"] for sp in saml["config"]["sps"].values()}
    return {
        "id": secrets.token_hex(8),
        "store_url": settings.store_url,
        "lifetimes": {"idle": settings.lifetimes.sso_idle,
                      "absolute": settings.lifetimes.sso_absolute},
        "csrf_secret_path": str(settings.keys.csrf_secret),
        "at_rest_key_path": str(settings.keys.at_rest_key),
        "names": {"services": services,
                  "sources": {b["name"]: b["config"]["display_name"] for b in sources}},
    }


def wire_logout(satosa: dict[str, Any], settings: Settings) -> None:
    """Add the same ``logout`` entry to the frontends' and the sources' backends' configs."""
    conf = logout_config(satosa, settings)
    for module in [*satosa["FRONTEND_MODULES"], *satosa["BACKEND_MODULES"]]:
        if module["name"] in (OIDC_FRONTEND, SAML_FRONTEND, ACCOUNT_FRONTEND) \
                or "source_id" in module["config"]:
            module["config"]["logout"] = conf
