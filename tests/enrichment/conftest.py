"""A federation whose logins a real Province directory completes ("dites-le nous une seule fois").

A private ``slapd`` (idp/testbed/slapd.py) holds the Province suffix, seeded from
``province.ldif``; the proxy runs under gunicorn (two workers) with two directory files:

* ``province-sud``: the directory above, matched on the identity pivot, supplying address,
  phone and province; ``when_unavailable: continue``;
* ``cafat-fermee``: a directory nobody listens for (``when_unavailable: stop``), supplying the
  CAFAT number that only ``rp-cafat`` may receive, so it is asked for that service alone;
* ``ridet-muet``: a port that accepts connections and never answers (``continue``), supplying
  the RIDET that only ``rp-ridet`` may receive.

The testbed's OIDC source is re-declared without ``phone_number``: the phone then comes from
the directory only, which shows that what enrichment adds is still cut by minimisation.
``src-piege``, a SAML source, knows one account whose names look like LDAP filters.
``src-complet``, a SAML source declared to provide address, phone and province (its citizen
sends none of them), is the one source of ``rp-refus``, which opts out of enrichment: a
service may only be allowed what one of its sources or directories provides.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import requests
import yaml
from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS, Citizen
from idp.testbed.browser import Browser
from idp.testbed.federation import (
    SOURCE_ATTRIBUTES,
    Federation,
    add_saml_source,
    build_federation,
)
from idp.testbed.login import sign_in
from idp.testbed.servers import free_port
from idp.testbed.slapd import PROVINCE_SUFFIX, Slapd

HERE = Path(__file__).resolve().parent
PROVINCE = "la Province Sud"
PIVOT_FILTER = ("(&(ncNomNaissance={family_name})(givenName={given_name})"
                "(ncDateNaissance={birthdate:%Y%m%d})(ncCommuneNaissance={birthplace}))")
#: What the tests' relying parties ask for: names, birth, phone and address scopes.
SCOPE = "openid profile birth phone address"
CAFAT_SCOPE = "openid profile cafat"
RIDET_SCOPE = "openid profile entreprise"
PASSWORD_ENV = "NCC_TEST_PROVINCE_PASSWORD"

SERVICES: dict[str, tuple] = {
    "rp-province": ("oidc", ["src-op"],
                    ["given_name", "family_name", "address", "phone_number", "province"],
                    {"consent": {"remember_days": 0}}),
    "rp-sans-tel": ("oidc", ["src-op"], ["given_name", "family_name", "address", "province"],
                    {"consent": {"remember_days": 0}}),
    "rp-refus": ("oidc", ["src-complet"],
                 ["given_name", "family_name", "address", "phone_number", "province"],
                 {"consent": {"remember_days": 0}, "enrichment": False}),
    "rp-cafat": ("oidc", ["src-op"], ["given_name", "family_name", "cafat_number"],
                 {"consent": {"remember_days": 0}}),
    "rp-ridet": ("oidc", ["src-op"], ["given_name", "family_name", "ridet"],
                 {"consent": {"remember_days": 0}}),
    "rp-piege": ("oidc", ["src-piege"],
                 ["given_name", "family_name", "address", "phone_number", "province"],
                 {"consent": {"remember_days": 0}}),
}

#: A source account whose names are shaped like LDAP filters (Marie-Claire's birth otherwise).
TRAP = Citizen("piege", "demo", {**CITIZENS[0].claims, "given_name": "*)(uid=*",
                                 "family_name": "*", "preferred_username": "x)(|(uid=*"})
#: Marie-Claire at ``src-complet``: her pivot (the directory knows her), no phone.
MARIE_SANS_TEL = Citizen(CITIZENS[0].username, CITIZENS[0].password,
                         {k: v for k, v in CITIZENS[0].claims.items() if k != "phone_number"})


def directory_file(url: str, base_dn: str, bind_dn: str | None, **extra: Any) -> dict:
    """A ``kind: directory`` partner file for the Province directory (``extra`` overrides)."""
    bind = {"bind_dn": bind_dn, "bind_password_env": PASSWORD_ENV} if bind_dn else {}
    return {"kind": "directory", "id": "province-sud", "organisation": PROVINCE,
            "contact": "dsi@province-sud.nc", "legal_basis": "public_task",
            "legal_reference": "Délibération de test relative au guichet unique",
            "ldap": {"url": url, "base_dn": base_dn, "connect_timeout": 1,
                     "search_timeout": 2, **bind},
            "match": {"filter": PIVOT_FILTER},
            "attributes": {"address": {"from": "postalAddress"},
                           "phone_number": {"from": "telephoneNumber"},
                           "province": {"from": "ncProvince"}},
            "when_unavailable": "continue", **extra}


def _write(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="package")
def slapd(tmp_path_factory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd"), suffixes=(PROVINCE_SUFFIX,))
    server.seed((HERE / "province.ldif").read_text(encoding="utf-8"), PROVINCE_SUFFIX)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="package")
def silent_port() -> Iterator[int]:
    """A loopback port whose connections the kernel accepts (backlog) and nobody answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield listener.getsockname()[1]


@pytest.fixture(scope="package")
def fed(tmp_path_factory, slapd: Slapd, silent_port: int) -> Iterator[Federation]:
    federation = build_federation(tmp_path_factory.mktemp("enrichment"), SERVICES,
                                  log_level="INFO")
    try:
        partners = federation.folder / "partenaires"
        source = yaml.safe_load((partners / "src-op.yaml").read_text(encoding="utf-8"))
        source["attributes"] = {a: {} for a in SOURCE_ATTRIBUTES if a != "phone_number"}
        _write(partners / "src-op.yaml", source)
        federation.env[PASSWORD_ENV] = slapd.admin_password
        _write(partners / "province-sud.yaml", directory_file(
            slapd.url, f"ou=usagers,{PROVINCE_SUFFIX}", slapd.admin_dn(PROVINCE_SUFFIX)))
        _write(partners / "cafat-fermee.yaml", {
            **directory_file(f"ldap://127.0.0.1:{free_port()}", "dc=cafat,dc=nc", None),
            "id": "cafat-fermee", "organisation": "la CAFAT",
            "match": {"filter": "(&(sn={family_name})(givenName={given_name}))"},
            "attributes": {"cafat_number": {"from": "employeeNumber"}},
            "when_unavailable": "stop"})
        _write(partners / "ridet-muet.yaml", {
            **directory_file(f"ldap://127.0.0.1:{silent_port}", "dc=entreprises,dc=nc", None),
            "id": "ridet-muet", "organisation": "l'ISEE",
            "match": {"filter": "(&(sn={family_name})(givenName={given_name}))"},
            "attributes": {"ridet": {"from": "ncRidet"}}})
        add_saml_source(federation, "src-piege", citizens=[TRAP], partner={"attributes": {
            a: {} for a in SOURCE_ATTRIBUTES if a != "phone_number"}})
        add_saml_source(federation, "src-complet", citizens=[MARIE_SANS_TEL], partner={
            "attributes": {a: {} for a in [*SOURCE_ATTRIBUTES, "address", "province"]}})
        federation.start_proxy(workers=2)
        yield federation
    finally:
        federation.stop()


def to_screen(browser: Browser, fed: Federation, service: str, citizen: Citizen,
              scope: str = SCOPE) -> requests.Response:
    """Start a login at ``service`` asking ``scope`` and sign in: the proxy's next page."""
    page = browser.get(f"{fed.url(service)}/login?{urlencode({'scope': scope})}")
    return sign_in(browser, page, citizen, consent=False)


def screen_lines(page: requests.Response) -> dict[str, str]:
    """attribute name -> the line the usager reads, provenance included."""
    soup = BeautifulSoup(page.text, "html.parser")
    return {li["data-name"]: " ".join(li.select_one(".ligne").get_text().split())
            for li in soup.select("li.attribut[data-name]")}


def proxy_log(fed: Federation) -> list[dict[str, Any]]:
    lines = (fed.folder / "proxy.log").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]
