"""The demo's LDAP directories: NC Connect's own accounts and the Province Sud's directory.

``ncconnect demo`` shows an account source whose level of assurance comes from the entry
(identity verified at a counter or not) and enrichment from an administration's directory;
both need a real ``slapd`` seeded from the same demo citizens as the other demo sources, so a
citizen keeps one identity (and one pairwise identifier) whichever source they pick. The tests
of ``ncconnect ldap check`` and the benchmark seed their directories from here too.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from ..testbed.slapd import ACCOUNTS_SUFFIX, PROVINCE_SUFFIX, Slapd
from .citizens import CITIZENS, Citizen

#: Accounts whose identity was verified at a counter (``ncIdentiteVerifiee: TRUE``): they
#: reach ``substantial``; the others stay ``low``.
VERIFIED = frozenset({"marie.wamytan", "jean.vautrin", "paul.tran"})


@dataclass(frozen=True)
class ProvinceRecord:
    """What the Province Sud's user-relations directory knows of a citizen."""

    address: str
    phone: str
    province: str = "Sud"


#: Citizens the Province Sud knows (the others are found nowhere: enrichment adds nothing).
PROVINCE_RECORDS: Mapping[str, ProvinceRecord] = {
    "jean.vautrin": ProvinceRecord("12 rue des Flamboyants, 98870 Bourail", "+687442599"),
    "malia.tuifua": ProvinceRecord("4 allée des Niaoulis, 98835 Dumbéa", "+687795644"),
    "paul.tran": ProvinceRecord("27 rue Jean Jaurès, 98800 Nouméa", "+687923300"),
}

#: Read access for everyone, passwords only for binding (never readable).
ACCESS = ("access to attrs=userPassword by anonymous auth by * none\n"
          "access to * by * read")


def ssha(password: str, salt: bytes | None = None) -> str:
    """``{SSHA}`` as slapd checks it: base64(SHA-1(password + salt) + salt)."""
    salt = salt if salt is not None else secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - slapd's scheme
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _line(name: str, value: str) -> str:
    """One LDIF line; a value that is not plain ASCII (accents) is base64, as LDIF requires."""
    if value.isascii() and not value.startswith((" ", ":", "<")):
        return f"{name}: {value}"
    return f"{name}:: {base64.b64encode(value.encode()).decode()}"


def _entry(dn: str, attrs: Iterable[tuple[str, str]]) -> str:
    return "\n".join([_line("dn", dn), *(_line(k, v) for k, v in attrs)]) + "\n"


def _top(suffix: str, organisation: str) -> str:
    dc = suffix.split(",")[0].split("=")[1]
    return "\n".join([
        _entry(suffix, [("objectClass", "dcObject"), ("objectClass", "organization"),
                        ("dc", dc), ("o", organisation)]),
        _entry(f"ou=personnes,{suffix}", [("objectClass", "organizationalUnit"),
                                          ("ou", "personnes")])])


def _pivot(c: Citizen) -> list[tuple[str, str]]:
    claims = c.claims
    return [("objectClass", "inetOrgPerson"), ("objectClass", "ncCitoyen"),
            ("cn", f"{claims['given_name']} {claims['preferred_username']}"),
            ("sn", claims["preferred_username"]), ("givenName", claims["given_name"]),
            ("ncNomNaissance", claims["family_name"]),
            ("ncDateNaissance", claims["birthdate"].replace("-", "")),
            ("ncSexe", "F" if claims["gender"] == "female" else "M"),
            ("ncCommuneNaissance", claims["birthplace"]),
            ("ncPaysNaissance", claims["birthcountry"])]


def accounts_ldif(citizens: Iterable[Citizen] = CITIZENS, suffix: str = ACCOUNTS_SUFFIX,
                  verified: Collection[str] = VERIFIED) -> str:
    """NC Connect's accounts: ``uid`` = the citizen's username, the pivot in ``ncCitoyen``."""
    entries = [_top(suffix, "NC Connect")]
    for c in citizens:
        entries.append(_entry(f"uid={c.username},ou=personnes,{suffix}", [
            *_pivot(c), ("uid", c.username), ("userPassword", ssha(c.password)),
            ("mail", c.claims["email"]), ("mobile", c.claims["phone_number"]),
            ("ncIdentiteVerifiee", "TRUE" if c.username in verified else "FALSE")]))
    return "\n".join(entries)


def province_ldif(citizens: Iterable[Citizen] = CITIZENS, suffix: str = PROVINCE_SUFFIX,
                  records: Mapping[str, ProvinceRecord] = PROVINCE_RECORDS) -> str:
    """The Province's directory: the pivot to be found by, and what it can add."""
    entries = [_top(suffix, "Province Sud")]
    for i, c in enumerate(c for c in citizens if c.username in records):
        record = records[c.username]
        entries.append(_entry(f"employeeNumber=PS{i + 1:05d},ou=personnes,{suffix}", [
            *_pivot(c), ("employeeNumber", f"PS{i + 1:05d}"),
            ("postalAddress", record.address), ("telephoneNumber", record.phone),
            ("ncProvince", record.province)]))
    return "\n".join(entries)


def start_directories(folder: Path, port: int | None = None,
                      citizens: Iterable[Citizen] = CITIZENS) -> Slapd:
    """A fresh slapd (its folder emptied) holding both suffixes, seeded and started."""
    people = list(citizens)
    for old in sorted(folder.glob("db*/*.mdb")):
        old.unlink()
    slapd = Slapd(folder, (ACCOUNTS_SUFFIX, PROVINCE_SUFFIX), port=port,
                  database_conf={ACCOUNTS_SUFFIX: ACCESS, PROVINCE_SUFFIX: ACCESS})
    slapd.seed(accounts_ldif(people), ACCOUNTS_SUFFIX)
    slapd.seed(province_ldif(people), PROVINCE_SUFFIX)
    return slapd.start()
