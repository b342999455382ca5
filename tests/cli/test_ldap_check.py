"""``ncconnect ldap check`` against a real slapd: each step ok, or the step and the fix named.

The directory is the demo's (both suffixes, seeded from the demo citizens); each test writes
the partner files it needs. No line may hold the service account's password or a citizen's
value: the output goes to terminals and tickets.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import shutil
import socket
import time
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from idp.cli import main
from idp.demo.citizens import CITIZENS
from idp.demo.directory import accounts_ldif, start_directories
from idp.testbed.servers import free_port
from idp.testbed.slapd import ACCOUNTS_SUFFIX, PROVINCE_SUFFIX, Slapd

from .conftest import DICTIONARY

PASSWORD_ENV = "NCC_TEST_LDAP_PASSWORD"


@pytest.fixture(scope="module")
def slapd(tmp_path_factory) -> Slapd:
    directory = start_directories(tmp_path_factory.mktemp("slapd"))
    yield directory
    directory.stop()


def source(url: str, **ldap: object) -> dict:
    return {
        "kind": "source", "id": "compte-nc", "display_name": "Compte NC Connect",
        "loa": "substantial", "loa_mapping": {"values": {"TRUE": "substantial", "FALSE": "low"}},
        "protocol": "ldap",
        "ldap": {"url": url, "base_dn": f"ou=personnes,{ACCOUNTS_SUFFIX}",
                 "bind_dn": f"cn=admin,{ACCOUNTS_SUFFIX}", "bind_password_env": PASSWORD_ENV,
                 "loa_attribute": "ncIdentiteVerifiee", "connect_timeout": 1,
                 "search_timeout": 1, **ldap},
        "attributes": {"given_name": {"from": "givenName"},
                       "family_name": {"from": "ncNomNaissance"},
                       "birthdate": {"from": "ncDateNaissance", "date_format": "%Y%m%d"},
                       "email": {"from": "mail"}, "phone_number": {"from": "mobile"}}}


def directory(url: str, **ldap: object) -> dict:
    return {
        "kind": "directory", "id": "annuaire-province-sud", "organisation": "Province Sud",
        "contact": "dpo@province-sud.example.nc", "legal_basis": "public_task",
        "ldap": {"url": url, "base_dn": PROVINCE_SUFFIX, "bind_dn": f"cn=admin,{PROVINCE_SUFFIX}",
                 "bind_password_env": PASSWORD_ENV, "connect_timeout": 1, "search_timeout": 1,
                 **ldap},
        "match": {"filter": "(&(ncNomNaissance={family_name})(givenName={given_name})"
                            "(ncDateNaissance={birthdate:%Y%m%d}))"},
        "attributes": {"address": {"from": "postalAddress"},
                       "phone_number": {"from": "telephoneNumber"},
                       "province": {"from": "ncProvince"}}}


def check(tmp_path: Path, password: str, *partners: dict, login: str | None = None) -> Result:
    folder = tmp_path / "partenaires"
    folder.mkdir(exist_ok=True)
    for p in partners:
        (folder / f"{p['id']}.yaml").write_text(yaml.safe_dump(p, allow_unicode=True))
    config = tmp_path / "proxy.yaml"
    config.write_text(yaml.safe_dump({
        "base_url": "http://127.0.0.1:8440", "data_dir": "data", "partners_dir": "partenaires",
        "dictionary": str(DICTIONARY), "allow_loopback_http": True}))
    args = ["ldap", "check", "--config", str(config)] + (["--login", login] if login else [])
    result = CliRunner().invoke(main, args, env={PASSWORD_ENV: password})
    assert password not in result.output
    for citizen in CITIZENS:  # attribute names only, never a citizen's value
        for value in (citizen.username, citizen.claims["family_name"], "Bourail", "+687"):
            assert value not in result.output, value
    return result


def lines(result: Result, partner: str) -> dict[str, str]:
    out = {}
    for line in result.output.splitlines():
        if line.startswith(partner + ": "):
            step, _, status = line[len(partner) + 2:].partition(": ")
            out[step] = status
    return out


def test_good_configuration_every_step_ok(slapd, tmp_path):
    result = check(tmp_path, slapd.admin_password, source(slapd.url), directory(slapd.url),
                   login="paul.tran")
    assert result.exit_code == 0, result.output
    for partner in ("source compte-nc", "directory annuaire-province-sud"):
        got = lines(result, partner)
        assert list(got) == ["connect", "bind", "search base", "sample lookup", "attributes"]
        assert all(status.startswith("ok") for status in got.values()), result.output
    assert "level of assurance (ncIdentiteVerifiee)" in result.output
    assert "province (ncProvince)" in result.output


def test_without_login_any_account_is_the_sample(slapd, tmp_path):
    result = check(tmp_path, slapd.admin_password, source(slapd.url))
    assert result.exit_code == 0, result.output


def test_unknown_login_is_named_not_echoed(slapd, tmp_path):
    result = check(tmp_path, slapd.admin_password, source(slapd.url), login="nobody*)(uid=*")
    assert result.exit_code == 1
    assert lines(result, "source compte-nc")["sample lookup"].startswith(
        "FAILED: no entry under ou=personnes")
    assert "nobody" not in result.output


def test_wrong_password(slapd, tmp_path):
    result = check(tmp_path, "not-the-password", source(slapd.url))
    assert result.exit_code == 1
    got = lines(result, "source compte-nc")
    assert got["connect"].startswith("ok")
    assert got["bind"] == (f"FAILED: the directory refused the password of cn=admin,"
                           f"{ACCOUNTS_SUFFIX} (invalidCredentials): check ldap.bind_dn and the "
                           f"password in {PASSWORD_ENV}")
    assert got["search base"] == "skipped (bind failed)"


def test_password_variable_not_set(slapd, tmp_path):
    result = check(tmp_path, slapd.admin_password,
                   source(slapd.url, bind_password_env="NCC_NOT_SET_ANYWHERE"))
    assert result.exit_code == 1
    assert "bind: FAILED: environment variable NCC_NOT_SET_ANYWHERE is not set" in result.output


def test_wrong_base(slapd, tmp_path):
    result = check(tmp_path, slapd.admin_password,
                   directory(slapd.url, base_dn=f"ou=usagers,{PROVINCE_SUFFIX}"))
    assert result.exit_code == 1
    status = lines(result, "directory annuaire-province-sud")["search base"]
    assert status.startswith(f"FAILED: base_dn ou=usagers,{PROVINCE_SUFFIX} does not exist")
    assert status.endswith("fix ldap.base_dn")


def test_directory_down(tmp_path):
    result = check(tmp_path, "never-printed-1", source(f"ldap://127.0.0.1:{free_port()}"))
    assert result.exit_code == 1
    status = lines(result, "source compte-nc")["connect"]
    assert status.startswith("FAILED: connection refused by ldap://127.0.0.1:"), status
    assert status.endswith("start it or fix ldap.url")
    assert lines(result, "source compte-nc")["attributes"] == "skipped (connect failed)"


def test_listener_that_never_answers_costs_the_timeout(tmp_path):
    """The TCP handshake completes (the kernel's backlog) and nothing ever answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        url = f"ldap://127.0.0.1:{silent.getsockname()[1]}"
        started = time.monotonic()
        result = check(tmp_path, "never-printed-1", source(url, search_timeout=1))
        elapsed = time.monotonic() - started
    assert result.exit_code == 1
    assert lines(result, "source compte-nc")["bind"].startswith(
        "FAILED: no answer to the bind within search_timeout 1s")
    assert elapsed < 4, elapsed


def test_start_tls_refused_is_named(slapd, tmp_path):
    result = check(tmp_path, slapd.admin_password, source(slapd.url, start_tls=True))
    assert result.exit_code == 1
    status = lines(result, "source compte-nc")["connect"]
    assert status.startswith(f"FAILED: StartTLS refused by {slapd.url}"), status


def test_missing_attribute_is_named(slapd, tmp_path):
    src = source(slapd.url)
    src["attributes"]["phone_number"] = {"from": "telephoneNumber"}  # accounts hold 'mobile'
    result = check(tmp_path, slapd.admin_password, src, login="marie.wamytan")
    assert result.exit_code == 1
    status = lines(result, "source compte-nc")["attributes"]
    assert status.startswith("FAILED: missing on the sample entry: phone_number "
                             "(telephoneNumber); present: birthdate (ncDateNaissance), "
                             "email (mail), family_name (ncNomNaissance)"), status
    assert status.endswith("Fix the attribute's 'from:' in the partner file, or let the "
                           "service account read it (ACL)")


def _tls_files(folder: Path, name: str) -> tuple[Path, Path, Path]:
    """A CA of its own and a certificate for 127.0.0.1 it signed: (CA, certificate, key)."""
    now = dt.datetime.now(dt.UTC)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} CA")])

    def issued(subject: x509.Name, public_key, extension) -> x509.Certificate:
        return (x509.CertificateBuilder().subject_name(subject).issuer_name(ca_name)
                .public_key(public_key).serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=1))
                .add_extension(extension, critical=False).sign(ca_key, hashes.SHA256()))

    ca = issued(ca_name, ca_key.public_key(), x509.BasicConstraints(ca=True, path_length=None))
    cert = issued(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]),
                  key.public_key(),
                  x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]))
    folder.mkdir(parents=True, exist_ok=True)
    paths = folder / f"{name}-ca.pem", folder / f"{name}.crt", folder / f"{name}.key"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return paths


@pytest.fixture(scope="module")
def tls_slapd(tmp_path_factory) -> tuple[Slapd, Path, Path]:
    """A directory speaking StartTLS with a certificate of its own CA; and another CA."""
    folder = tmp_path_factory.mktemp("tls")
    ca, cert, key = _tls_files(folder / "pki", "annuaire")
    other_ca = _tls_files(folder / "other", "autre")[0]
    server = Slapd(folder / "slapd", global_conf=f"TLSCACertificateFile {ca}\n"
                   f"TLSCertificateFile {cert}\nTLSCertificateKeyFile {key}")
    server.seed(accounts_ldif())
    with server:
        yield server, ca, other_ca


@pytest.mark.parametrize("trusted", [True, False])
def test_start_tls_with_the_partner_files_ca(tls_slapd, tmp_path, trusted):
    server, ca, other_ca = tls_slapd
    (tmp_path / "partenaires").mkdir()
    shutil.copy(ca if trusted else other_ca, tmp_path / "partenaires" / "ca.pem")
    partner = {**source(server.url, start_tls=True), "tls_ca_file": "ca.pem"}
    result = check(tmp_path, server.admin_password, partner)
    status = lines(result, "source compte-nc")["connect"]
    if trusted:
        assert result.exit_code == 0, result.output
        assert status.startswith(f"ok ({server.url}, StartTLS,")
    else:
        assert result.exit_code == 1
        assert status == (f"FAILED: TLS with {server.url}: the directory's certificate is not "
                          f"trusted by tls_ca_file {(tmp_path / 'partenaires' / 'ca.pem')}"
                          " (or does not name this host): set tls_ca_file to the CA that signed "
                          "it"), status
