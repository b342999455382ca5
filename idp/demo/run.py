"""``ncconnect demo``: the demo federation of ``partenaires/demo/`` on 127.0.0.1.

The proxy is started exactly as in production (``ncconnect serve`` under
gunicorn, settings ``config/demo.yaml``, partner files ``partenaires/demo/``);
the four peers it talks to are started here, first, because the proxy reads
their metadata when it starts; so is a real ``slapd`` on port 8445 (NC Connect's
own accounts and the Province Sud's directory, re-seeded from the demo citizens at
every start, see :mod:`idp.demo.directory`), whose manager password reaches the
proxy through ``NCC_DEMO_LDAP_PASSWORD`` like the other secrets.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

import click
import requests

from ..keys import init_keys, rsa_key_pem, write_key_pair
from ..testbed.slapd import PROVINCE_SUFFIX, Slapd
from .citizens import CITIZENS
from .directory import PROVINCE_RECORDS, VERIFIED, start_directories
from .op import make_demo_op
from .rp import make_demo_rp
from .saml_idp import make_demo_idp
from .saml_sp import make_demo_sp
from .serve import BackgroundServer

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "demo.yaml"
HOST = "127.0.0.1"
PROXY, OP, IDP, RP, SP, LDAP = 8440, 8441, 8442, 8443, 8444, 8445
PARTNERS = ROOT / "partenaires" / "demo"
#: The demo's partner files for the LDAP account source and the Province's directory.
LDAP_SOURCE_FILE, DIRECTORY_FILE = "source-compte-nc-ldap.yaml", "annuaire-province-sud.yaml"
#: Where the proxy reads the directory manager's password (bind_password_env of both files).
LDAP_PASSWORD_ENV = "NCC_DEMO_LDAP_PASSWORD"
#: Public on purpose: the hash in partenaires/demo/service-mairie-oidc.yaml is of this value.
RP_SECRET = "demo-mairie-secret"  # noqa: S105 - demo-only, documented


def url(port: int) -> str:
    return f"http://{HOST}:{port}"


def _secret(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_urlsafe(24))
        path.chmod(0o600)
    return path.read_text().strip()


def _peer_key(folder: Path, name: str) -> tuple[Path, Path]:
    key, cert = folder / f"{name}.pem", folder / f"{name}.crt"
    if not key.exists():
        write_key_pair(key, cert, f"NC Connect demo {name}")
    return key, cert


def _wait(health: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise click.ClickException("the proxy stopped while starting: see its log above")
        try:
            if requests.get(health, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise click.ClickException(f"the proxy did not answer at {health} within {timeout:.0f}s")


def start_peers(data_dir: Path) -> tuple[list[BackgroundServer], dict[str, str]]:
    """The two identity sources and two services of the demo, in threads of this process."""
    peers = data_dir / "peers"
    peers.mkdir(parents=True, exist_ok=True)
    oidc_secret = _secret(peers / "demo-oidc-client.secret")
    op_key = peers / "op-signing.pem"
    if not op_key.exists():
        op_key.write_bytes(rsa_key_pem()[1])
    op = make_demo_op(url(OP), {"ncconnect": {
        "client_secret": oidc_secret,
        "redirect_uris": [f"{url(PROXY)}/demo-oidc/oidc/callback"],
        # Logout at the source comes back to the proxy, which finishes the single logout.
        "post_logout_redirect_uris": [f"{url(PROXY)}/demo-oidc/oidc/logout"]}},
        op_key.read_bytes(), CITIZENS)
    idp = make_demo_idp(url(IDP), *_peer_key(peers, "idp"),
                        [f"{url(PROXY)}/demo-saml/saml2/metadata"], CITIZENS)
    rp = make_demo_rp(url(RP), url(PROXY), "demo-mairie", RP_SECRET,
                      "Mairie démo — démarches en ligne")
    sp = make_demo_sp(url(SP), *_peer_key(peers, "sp"), f"{url(PROXY)}/saml2/metadata",
                      "Province démo — aides et bourses")
    servers: list[BackgroundServer] = []
    for app, port in ((op, OP), (idp, IDP), (rp, RP), (sp, SP)):
        server = BackgroundServer(app, host=HOST, port=port)
        try:
            server.start()
        except OSError as exc:
            for s in servers:
                s.stop()
            raise click.ClickException(f"port {port} is busy ({exc.strerror}): stop what uses "
                                       "it, the demo needs ports 8440-8444") from exc
        servers.append(server)
    return servers, {"NCC_DEMO_OIDC_SECRET": oidc_secret}


def start_directory(data_dir: Path) -> Slapd:
    """The account source's and the Province's directory: a real slapd on :data:`LDAP`,
    re-seeded from the demo citizens at every start (nothing a previous run changed stays)."""
    try:
        return start_directories(data_dir / "ldap", port=LDAP)
    except (RuntimeError, TimeoutError) as exc:
        raise click.ClickException(f"the demo directory (slapd, port {LDAP}) did not start: "
                                   f"{exc}") from exc


def run_demo(data_dir: Path, workers: int) -> None:
    init_keys(data_dir / "keys")
    directory = start_directory(data_dir)
    try:
        servers, env = start_peers(data_dir)
    except BaseException:
        directory.stop()
        raise
    env[LDAP_PASSWORD_ENV] = directory.admin_password
    cmd = [sys.executable, "-m", "idp.cli", "serve", "--config", str(CONFIG),
           "--workers", str(workers), "--data-dir", str(data_dir)]
    proxy = subprocess.Popen(cmd, env={**os.environ, **env}, start_new_session=True)
    try:
        _wait(f"{url(PROXY)}/healthz", proxy)
        click.echo(banner(), nl=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        proxy.wait()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if proxy.poll() is None:
            os.killpg(proxy.pid, signal.SIGTERM)
            proxy.wait(10)
        for s in servers:
            s.stop()
        directory.stop()


def banner() -> str:
    people = "\n".join(f"    {c.username:<26} mot de passe : {c.password:<8} "
                       f"({c.claims.get('given_name')} {c.claims.get('family_name')})"
                       for c in CITIZENS)
    return f"""
NC Connect — fédération de démonstration prête (Ctrl-C pour arrêter)

  Services partenaires : ouvrez l'un d'eux et cliquez « Se connecter avec NC Connect »
    OIDC  Mairie démo    {url(RP)}/
    SAML  Province démo  {url(SP)}/
  Connecté à l'un, vous l'êtes à l'autre (session unique) ; « Se déconnecter » vous
  déconnecte des deux.
  Mon espace NC Connect  {url(PROXY)}/mon-compte

  Proxy NC Connect       {url(PROXY)}/.well-known/openid-configuration
                         {url(PROXY)}/saml2/metadata
  Sources d'identité     OIDC {url(OP)}/.well-known/openid-configuration
                         SAML {url(IDP)}/metadata

  Citoyens de test (sur l'une ou l'autre source) :
{people}
{ldap_banner()}"""


def ldap_banner() -> str:
    """What each citizen shows through the LDAP account source and the Province's directory;
    empty while their partner files are not in the demo registry."""
    if not (PARTNERS / LDAP_SOURCE_FILE).exists():
        return ""
    enrichment = (PARTNERS / DIRECTORY_FILE).exists()
    rows = []
    for c in CITIZENS:
        level = ("identité vérifiée au guichet (niveau substantiel)" if c.username in VERIFIED
                 else "identité non vérifiée (niveau faible)")
        known = "  + adresse Province Sud" if enrichment and c.username in PROVINCE_RECORDS else ""
        rows.append(f"    {c.username:<20} {level:<50}{known}".rstrip())
    lines = "\n".join(rows)
    directory = ("""
  « + adresse Province Sud » : à la Province démo, l'annuaire de la Province Sud complète
  l'adresse (quelle que soit la source), affichée « fournie par la Province Sud ».
  Annuaire de la Province Sud  """ f"{ldap_url()}, {PROVINCE_SUFFIX}\n" if enrichment else "")
    return f"""
  Source « Compte NC Connect » : formulaire du proxy, annuaire LDAP {ldap_url()}
  (mêmes identifiants, mot de passe demo) :
{lines}
{directory}"""


def ldap_url() -> str:
    return f"ldap://{HOST}:{LDAP}"

