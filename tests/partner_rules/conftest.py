"""A federation whose services exercise the registry's rules: minimisation, disabled services,
pairwise sectors and services reachable through both identity sources.

Real peers and ``ncconnect serve`` under gunicorn (two workers, embedded store); the e2e
folder runs the same paths on Redis.
"""

from __future__ import annotations

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.federation import DEFAULT_SERVICES, build_federation

PIVOT_AND_MORE = ["family_name", "birthdate"]
ASKS_FOR_MORE = {"peer": {"requested": ["sn", "dateOfBirth", "givenName", "mail"]}}

SERVICES: dict[str, tuple] = {
    # allowed {family_name, birthdate}; the RP asks "openid profile email birth", the SPs
    # request sn, dateOfBirth, givenName and mail in their metadata.
    "rp-min-op": ("oidc", ["src-op"], PIVOT_AND_MORE),
    "rp-min-idp": ("oidc", ["src-idp"], PIVOT_AND_MORE),
    "sp-min-op": ("saml2", ["src-op"], PIVOT_AND_MORE, ASKS_FOR_MORE),
    "sp-min-idp": ("saml2", ["src-idp"], PIVOT_AND_MORE, ASKS_FOR_MORE),
    # an SP allowed more than it requests gets only what it requests
    "sp-demande-peu": ("saml2", ["src-op"], ["family_name", "birthdate", "email"],
                       {"peer": {"requested": ["mail"]}}),
    "rp-desactive": ("oidc", ["src-op"], PIVOT_AND_MORE, {"active": False}),
    "sp-desactive": ("saml2", ["src-op"], PIVOT_AND_MORE, {"active": False}),
    # one citizen, one identifier, whichever source; and one per sector
    "rp-deux-sources": DEFAULT_SERVICES["rp-choix"],
    "rp-sante-a": ("oidc", ["src-op", "src-idp"], ["given_name"], {"sector": "sante"}),
    "sp-sante-b": ("saml2", ["src-op", "src-idp"], ["given_name"], {"sector": "sante"}),
    "rp-autre": ("oidc", ["src-op"], ["given_name"], {"logo": "logo-autre.svg"}),
}

LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 8 8">'
        b'<rect width="8" height="8" fill="#00558c"/></svg>')


@pytest.fixture(scope="package")
def fed(tmp_path_factory):
    federation = build_federation(tmp_path_factory.mktemp("partner-rules"), SERVICES)
    (federation.folder / "partenaires" / "logo-autre.svg").write_bytes(LOGO)
    try:
        federation.start_proxy(workers=2)
        yield federation
    finally:
        federation.stop()


@pytest.fixture
def citizen():
    return CITIZENS[2]
