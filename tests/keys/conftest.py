"""Key rotation: the keyring folder, the command line, and a whole federation whose keys
rotate while it serves (``ncconnect serve`` under gunicorn, two workers, real demo peers).

The federation (package scope, shared by the OIDC and SAML rollovers, which touch keys of
different purposes): ``rp-op`` (OIDC, on the OIDC source), ``sp-tot`` and ``sp-tard`` (SAML,
on the OIDC source: the first loads NC Connect's metadata before a rollover and never
again, the second loads it during the publication window), ``rp-chiffre`` (OIDC) on
``src-chiffre``, a SAML source that encrypts its assertions to our SP's encryption key.
The demo peers cache what they fetched as real partners do: the RP its JWKS (fetched again
once on an unknown ``kid``), the SPs and the IdP the metadata of their first login.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from click.testing import CliRunner, Result
from cryptojwt.jwk.jwk import key_from_jwk_dict
from cryptojwt.jws.jws import JWS

from idp.cli import main
from idp.demo.citizens import CITIZENS
from idp.demo.saml_idp_encryption import AES256_GCM
from idp.keyring import loader
from idp.keys import init_keys
from idp.testbed.browser import Browser
from idp.testbed.federation import Federation, add_saml_source, build_federation
from idp.testbed.login import login

NAMES = ["given_name", "family_name"]
SERVICES: dict[str, tuple] = {
    "rp-op": ("oidc", ["src-op"], NAMES),
    "sp-tot": ("saml2", ["src-op"], NAMES),
    "sp-tard": ("saml2", ["src-op"], NAMES),
    "rp-chiffre": ("oidc", ["src-chiffre"], NAMES),
}
#: A worker sees a keyring change within this long (:data:`idp.keyring.loader.CHECK_INTERVAL`).
PICK_UP = loader.CHECK_INTERVAL + 0.5


def ncconnect(*args: str) -> Result:
    """``ncconnect ARGS`` in this process, as an administrator types it."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture
def keys_dir(tmp_path: Path) -> Path:
    """A data folder whose keys ``ncconnect keys init`` made."""
    init_keys(tmp_path / "keys")
    return tmp_path


def kid_of(result: Result) -> str:
    """The kid ``keys add`` printed."""
    assert result.exit_code == 0, result.output
    return result.output.split(" key ", 1)[1].split(":", 1)[0]


def header(token: str) -> dict[str, Any]:
    head = token.split(".", 1)[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


class CachingRP:
    """A relying party that caches the JWKS: fetched at first use, again once when a token
    names a kid it does not hold (what OIDC client libraries do)."""

    def __init__(self, jwks_uri: str) -> None:
        self.jwks_uri = jwks_uri
        self.keys: dict[str, Any] = {}
        self.fetches = 0

    def fetch(self) -> None:
        self.fetches += 1
        body = requests.get(self.jwks_uri, timeout=10).json()
        self.keys = {k["kid"]: key_from_jwk_dict(k) for k in body["keys"]}

    def verify(self, token: str) -> dict[str, Any]:
        kid = header(token)["kid"]
        if not self.keys or kid not in self.keys:
            self.fetch()
        if kid not in self.keys:
            raise ValueError(f"kid {kid} not in the JWKS")
        return JWS(alg="RS256").verify_compact(token, keys=[self.keys[kid]], sigalg="RS256")


@pytest.fixture(scope="package")
def fed(tmp_path_factory, redis_server) -> Iterator[Federation]:
    federation = build_federation(tmp_path_factory.mktemp("keys"), SERVICES)
    try:
        add_saml_source(federation, "src-chiffre", encryption=AES256_GCM)
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


def keys_command(fed: Federation, command: str, *args: str, options: tuple[str, ...] = ()
                 ) -> Result:
    """``ncconnect keys COMMAND --config <the federation's> OPTIONS -- ARGS`` (a kid may begin
    with '-': RFC 7638 thumbprints are base64url)."""
    return ncconnect("keys", command, "--config", str(fed.config), *options, "--", *args)


def rotate(fed: Federation, command: str, *args: str, options: tuple[str, ...] = ()) -> Result:
    """:func:`keys_command`, successful, then time for every worker to see the change."""
    result = keys_command(fed, command, *args, options=options)
    assert result.exit_code == 0, result.output
    time.sleep(PICK_UP)
    return result


def sign_in(fed: Federation, service: str) -> tuple[Browser, Any]:
    """A citizen's whole login at ``service``, in a fresh browser (no SSO session)."""
    browser = Browser()
    fed.apps[service].last_result = None
    return browser, login(browser, fed.url(service), CITIZENS[0])
