"""An OIDC identity source behind a private certificate authority, as administrations run them.

One demo OP serves https on 127.0.0.1 with a certificate of a private CA generated here. Three
partner files name it as their issuer (``https://127.0.0.1:<port>``): ``src-tls`` with that
CA as ``tls_ca_file``, ``src-tls-systeme`` without (the system store, which does not know
the CA), ``src-tls-autre-ac`` with another private CA. The proxy is ``ncconnect serve``
(one worker: the sources share a process, so a CA trusted for one source and not for the
others shows it is not trusted process-wide).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import secrets
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from bs4 import BeautifulSoup
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from werkzeug.serving import BaseWSGIServer, make_server

from idp.demo.citizens import CITIZENS
from idp.demo.op import make_demo_op
from idp.keys import rsa_key_pem
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.federation import SOURCE_ATTRIBUTES, Federation, build_federation
from idp.testbed.login import choose, login, start
from plugins.backends.oidc.fetch import Trust

SOURCES = ["src-tls", "src-tls-systeme", "src-tls-autre-ac"]
SERVICE = "rp-tls"
NAMES = ["given_name", "family_name", "birthdate"]


# -- a private CA and a server certificate for 127.0.0.1 --------------------------------


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Administration de test"),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def private_ca(common_name: str) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(common_name))
            .issuer_name(_name(common_name)).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=False, data_encipherment=False,
                                         key_agreement=False, key_cert_sign=True, crl_sign=True,
                                         encipher_only=False, decipher_only=False),
                           critical=True)
            .sign(key, hashes.SHA256()))
    return key, cert


def server_certificate(ca_key: ec.EllipticCurvePrivateKey, ca: x509.Certificate
                       ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1"))
            .issuer_name(ca.subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .sign(ca_key, hashes.SHA256()))
    return key, cert


def write_pem(path: Path, *items: Any) -> Path:
    out = b""
    for item in items:
        if isinstance(item, x509.Certificate):
            out += item.public_bytes(serialization.Encoding.PEM)
        else:
            out += item.private_bytes(serialization.Encoding.PEM,
                                      serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(out)
    return path


# -- the demo OP over TLS ------------------------------------------------------------------


class _Late:
    """WSGI shim: the OP needs its https URL (so the server's port) before it exists."""

    app: Any = None

    def __call__(self, environ: dict, start_response: Any) -> Any:
        return self.app(environ, start_response)


class TlsServer:
    """A threaded werkzeug server on 127.0.0.1 speaking TLS with the given certificate."""

    def __init__(self, cert_chain: Path, key: Path) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert_chain, key)
        self.target = _Late()
        self._server: BaseWSGIServer = make_server("127.0.0.1", 0, self.target, threaded=True,
                                                   ssl_context=context)
        self.url = f"https://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever,
                                        kwargs={"poll_interval": 0.1}, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)
        self._server.server_close()


def source_partner(sid: str, issuer: str, tls_ca_file: str | None) -> dict[str, Any]:
    return {"kind": "source", "id": sid, "display_name": f"Administration {sid}",
            "loa": "substantial", "protocol": "oidc",
            **({"tls_ca_file": tls_ca_file} if tls_ca_file else {}),
            "attributes": {name: {} for name in SOURCE_ATTRIBUTES},
            "oidc": {"issuer": issuer, "client_id": "ncconnect",
                     "client_secret_env": "NCC_TEST_TLS_SECRET",
                     "scope": ["openid", "profile", "email", "birth", "phone"]}}


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("tls-ca")
    ca_key, ca = private_ca("AC privee de test")
    server_key, server_cert = server_certificate(ca_key, ca)
    _, other_ca = private_ca("Autre AC privee")
    server = TlsServer(write_pem(folder / "serveur.pem", server_cert),
                       write_pem(folder / "serveur.key", server_key))
    fed = build_federation(folder / "federation", {SERVICE: ("oidc", SOURCES, NAMES)})
    try:
        partners = fed.folder / "partenaires"
        write_pem(partners / "ac" / "ac-privee.pem", ca)
        write_pem(partners / "ac" / "autre-ac.pem", other_ca)
        secret = secrets.token_urlsafe(24)
        fed.env["NCC_TEST_TLS_SECRET"] = secret
        op = make_demo_op(server.url, {"ncconnect": {
            "client_secret": secret,
            "redirect_uris": [f"{fed.proxy_url}/{s}/oidc/callback" for s in SOURCES],
            "post_logout_redirect_uris": [f"{fed.proxy_url}/{s}/oidc/logout" for s in SOURCES],
        }}, rsa_key_pem()[1], CITIZENS)
        server.target.app = op
        for sid, ca_file in zip(SOURCES, ["ac/ac-privee.pem", None, "ac/autre-ac.pem"],
                                strict=True):
            (partners / f"{sid}.yaml").write_text(yaml.safe_dump(
                source_partner(sid, server.url, ca_file), sort_keys=False), encoding="utf-8")
        fed.start_proxy(workers=1)
        yield {"fed": fed, "op": op, "ca": partners / "ac" / "ac-privee.pem"}
    finally:
        fed.stop()
        server.stop()


def browser_trusting(ca: Path) -> Browser:
    """The citizen's browser trusts the administration's CA (its login page is https)."""
    browser = Browser()
    # requests prefers REQUESTS_CA_BUNDLE from the environment to a session's ``verify``.
    browser.session.trust_env = False
    browser.session.verify = str(ca)
    return browser


def choosing(fed: Federation, ca: Path, source: str):
    """The page the citizen gets after choosing ``source`` on the choice page."""
    browser = browser_trusting(ca)
    return choose(browser, start(browser, fed.url(SERVICE)), source)


def proxy_log(fed: Federation) -> list[dict[str, Any]]:
    lines = (fed.folder / "proxy.log").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


def stopped_logins(fed: Federation, source: str) -> list[dict[str, Any]]:
    return [r for r in proxy_log(fed) if r.get("event") == "login stopped"
            and str(r.get("detail", "")).startswith(f"{source}: ")]


# -- the tests -------------------------------------------------------------------------------


def test_the_login_completes_through_a_source_trusted_by_its_tls_ca_file(tls):
    fed, citizen = tls["fed"], CITIZENS[0]

    page = login(browser_trusting(tls["ca"]), fed.url(SERVICE), citizen, source="src-tls")

    attributes = attributes_of(page)
    assert attributes["family_name"] == citizen.claims["family_name"]
    assert set(attributes) == {"sub", *NAMES}


def test_without_tls_ca_file_the_login_ends_on_our_source_unavailable_page(tls):
    fed = tls["fed"]
    # The same worker trusted the CA for src-tls just before: per source, not process-wide.
    login(browser_trusting(tls["ca"]), fed.url(SERVICE), CITIZENS[0], source="src-tls")
    asked = tls["op"].authorize_requests

    page = choosing(fed, tls["ca"], "src-tls-systeme")

    assert page.status_code == 502 and error_code_of(page) == "source_indisponible"
    assert "Fournisseur d'identité indisponible" in BeautifulSoup(page.text, "html.parser").text
    assert tls["op"].authorize_requests == asked, "the browser was never sent to the source"


def test_the_log_names_the_source_tls_and_the_fix(tls):
    fed = tls["fed"]
    choosing(fed, tls["ca"], "src-tls-systeme")

    [*_, record] = stopped_logins(fed, "src-tls-systeme")

    assert record["code"] == "source_indisponible"
    detail = record["detail"]
    assert "TLS" in detail and "discovery" in detail
    assert "system store" in detail and "set tls_ca_file" in detail


def test_a_tls_ca_file_of_another_authority_is_refused_naming_that_file(tls):
    fed = tls["fed"]

    page = choosing(fed, tls["ca"], "src-tls-autre-ac")

    assert page.status_code == 502 and error_code_of(page) == "source_indisponible"
    [*_, record] = stopped_logins(fed, "src-tls-autre-ac")
    assert "TLS" in record["detail"] and "autre-ac.pem" in record["detail"]


def test_logout_at_a_source_behind_a_private_ca_reaches_it(tls):
    fed, op = tls["fed"], tls["op"]
    browser = browser_trusting(tls["ca"])
    login(browser, fed.url(SERVICE), CITIZENS[0], source="src-tls")
    before = op.end_session_requests

    browser.get(f"{fed.url(SERVICE)}/logout")

    assert op.end_session_requests == before + 1


def test_a_tls_ca_file_gone_since_validation_stops_the_start_up(tmp_path):
    with pytest.raises(ValueError, match=r"backend src-tls: tls_ca_file .*absente\.pem not found"):
        Trust.of({"tls_ca_file": str(tmp_path / "absente.pem")}, "src-tls")
