"""NC Connect's account source against a real OpenLDAP ``slapd`` (with its ppolicy overlay),
seeded from :file:`comptes.ldif`, behind the proxy under gunicorn (two workers, Redis).

Services: ``rp-compte`` (OIDC) and ``sp-compte`` (SAML) accept only the account source;
``rp-substantiel`` requires ``substantial``; ``rp-choix`` offers the account source and the
testbed's OIDC source (the other sources keep working when the directory is down).

Every test sends its own ``X-Forwarded-For`` (the proxy trusts 127.0.0.1 as a reverse proxy),
so the rate limit per address of one test never touches another.
"""

from __future__ import annotations

import itertools
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from idp.testbed.browser import Browser
from idp.testbed.federation import Federation, build_federation
from idp.testbed.slapd import ACCOUNTS_SUFFIX, Slapd

SOURCE = "src-compte"
#: An account source whose "directory" accepts TCP connections and never answers.
SILENT = "src-muet"
SILENT_TIMEOUTS = {"connect_timeout": 0.5, "search_timeout": 1.0}
HERE = Path(__file__).resolve().parent
PEOPLE = f"ou=personnes,{ACCOUNTS_SUFFIX}"
NAMES = ["given_name", "family_name", "birthdate"]
LOCKOUT_FAILURES = 3
RATE_ATTEMPTS = 8
RESET_URL = "https://comptes.nc-connect.nc/mot-de-passe-oublie"
SERVICES: dict[str, tuple] = {
    "rp-compte": ("oidc", [SOURCE], NAMES),
    "sp-compte": ("saml2", [SOURCE], NAMES),
    "rp-substantiel": ("oidc", [SOURCE], ["given_name"], {"loa_min": "substantial"}),
    "rp-choix": ("oidc", [SOURCE, "src-op"], ["given_name"]),
    "rp-substantiel-choix": ("oidc", [SOURCE, "src-op"], ["given_name"],
                             {"loa_min": "substantial"}),
    "rp-muet": ("oidc", [SILENT], ["given_name"]),
}
PPOLICY = (f"overlay ppolicy\nppolicy_default cn=politique,{ACCOUNTS_SUFFIX}\n"
           "ppolicy_use_lockout\n")
_addresses = itertools.count(1)


def password_of(uid: str) -> str:
    return f"secret-{uid}"


def source_partner(url: str, source_id: str = SOURCE, **ldap: object) -> dict:
    """The account source's partner file (``ldap``: fields changed for one test)."""
    return {
        "kind": "source", "id": source_id, "display_name": "Compte NC Connect",
        "loa": "substantial", "protocol": "ldap",
        "loa_mapping": {"values": {"TRUE": "substantial", "FALSE": "low"}, "unstated": "low"},
        "attributes": {"given_name": {"from": "givenName"}, "family_name": {"from": "sn"},
                       "birthdate": {"from": "ncDateNaissance", "date_format": "%Y%m%d"},
                       "gender": {"from": "ncSexe", "values": {"F": "female", "M": "male"}},
                       "birthplace": {"from": "ncCommuneNaissance"},
                       "birthcountry": {"from": "ncPaysNaissance"}, "email": {"from": "mail"}},
        "ldap": {"url": url, "base_dn": PEOPLE, "bind_dn": f"cn=admin,{ACCOUNTS_SUFFIX}",
                 "bind_password_env": "NCC_TEST_LDAP_PASSWORD", "connect_timeout": 1.0,
                 "search_timeout": 2.0, "loa_attribute": "ncIdentiteVerifiee",
                 "password_reset_url": RESET_URL,
                 "lockout": {"failures": LOCKOUT_FAILURES, "minutes": 15},
                 "rate_limit": {"attempts": RATE_ATTEMPTS, "minutes": 5}, **ldap}}


@pytest.fixture(scope="package")
def slapd(tmp_path_factory) -> Iterator[Slapd]:
    server = Slapd(tmp_path_factory.mktemp("slapd"), global_conf="moduleload ppolicy",
                   database_conf={ACCOUNTS_SUFFIX: PPOLICY})
    server.seed((HERE / "comptes.ldif").read_text(encoding="utf-8") + timing_accounts())
    with server:
        yield server


@pytest.fixture(scope="package")
def silent_listener() -> Iterator[str]:
    """``ldap://`` URL of a loopback socket that completes the TCP handshake (the kernel's
    backlog) and never reads nor answers."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        yield f"ldap://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture(scope="package")
def fed(tmp_path_factory, redis_server, slapd, silent_listener) -> Iterator[Federation]:
    federation = build_federation(tmp_path_factory.mktemp("ldap"), SERVICES, log_level="INFO")
    federation.env["NCC_TEST_LDAP_PASSWORD"] = slapd.admin_password
    (federation.folder / "partenaires" / f"{SOURCE}.yaml").write_text(
        yaml.safe_dump(source_partner(slapd.url), allow_unicode=True, sort_keys=False),
        encoding="utf-8")
    (federation.folder / "partenaires" / f"{SILENT}.yaml").write_text(
        yaml.safe_dump(source_partner(silent_listener, SILENT, **SILENT_TIMEOUTS),
                       allow_unicode=True, sort_keys=False), encoding="utf-8")
    settings = yaml.safe_load(federation.config.read_text(encoding="utf-8"))
    settings["trusted_proxies"] = ["127.0.0.1"]
    federation.config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


#: Accounts that exist only to be tried with a wrong password, once each (the timing test:
#: one failure each stays below the lockout).
TIMING_ACCOUNTS = [f"essai.{n:02d}" for n in range(60)]


def timing_accounts() -> str:
    return "".join(f"""
dn: uid={uid},{PEOPLE}
objectClass: inetOrgPerson
uid: {uid}
cn: {uid}
sn: Essai
userPassword: {password_of(uid)}
""" for uid in TIMING_ACCOUNTS)


def new_address() -> str:
    """A client address of its own (documentation range), sent as ``X-Forwarded-For``."""
    n = next(_addresses)
    return f"198.51.{n // 250}.{n % 250 + 1}"


@pytest.fixture
def browser() -> Browser:
    b = Browser()
    b.session.headers["X-Forwarded-For"] = new_address()
    return b


def proxy_log(fed: Federation) -> str:
    return (fed.folder / "proxy.log").read_text(encoding="utf-8", errors="replace")


def token() -> str:
    return secrets.token_hex(4)


@pytest.fixture(scope="package")
def other_proxy(fed, redis_server):
    """A second ``ncconnect serve`` sharing the store, as on another host."""
    proxy = fed.second_host(redis_server.url)
    yield proxy
    proxy.stop()
