"""Sources stating their own level values, read through their partner file's ``loa_mapping``.

Two demo OIDC sources of a federation of their own (their partner files must exist when the
proxy starts): ``src-lemon`` states ``acr=loa-2`` as LemonLDAP::NG does and maps it
(``loa_mapping: {values: {loa-2: substantial}}``), ``src-muet`` states no ``acr`` and says
what that reaches (``loa_mapping: {unstated: low}``). Both are registered *substantial*
(their ceiling). The tests act as the service (:class:`tests.sso.clients.OidcClient`) to read
the ID token's ``acr``.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import yaml

from idp.demo.citizens import CITIZENS
from idp.demo.op import DemoOP, make_demo_op
from idp.keys import rsa_key_pem
from idp.testbed.browser import Browser, error_code_of
from idp.testbed.federation import SOURCE_ATTRIBUTES, Federation, build_federation
from idp.testbed.login import choose
from idp.testbed.servers import free_port

from .clients import OidcClient, sign_in_at_source

LOW = "http://eidas.europa.eu/LoA/low"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
SERVICE = "rp-niveaux"
LEMON_ACR = "loa-2"
#: source id -> its partner file's loa_mapping, and the acr its demo OP states by default.
SOURCES: dict[str, tuple[dict[str, Any], str | None]] = {
    "src-lemon": ({"values": {LEMON_ACR: "substantial"}}, LEMON_ACR),
    "src-muet": ({"unstated": "low"}, None),
}


def add_source(fed: Federation, sid: str, loa_mapping: dict[str, Any], acr: str | None) -> None:
    env = f"NCC_TEST_{sid.upper().replace('-', '_')}_SECRET"
    fed.env[env] = secret = secrets.token_urlsafe(24)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    op = make_demo_op(url, {"ncconnect": {
        "client_secret": secret, "redirect_uris": [f"{fed.proxy_url}/{sid}/oidc/callback"],
        "post_logout_redirect_uris": [f"{fed.proxy_url}/{sid}/oidc/logout"]}},
        rsa_key_pem()[1], CITIZENS, acr=acr)
    fed.add(sid, op, port)
    partner = {"kind": "source", "id": sid, "display_name": f"Source {sid}",
               "loa": "substantial", "loa_mapping": loa_mapping, "protocol": "oidc",
               "attributes": {name: {} for name in SOURCE_ATTRIBUTES},
               "oidc": {"issuer": url, "client_id": "ncconnect", "client_secret_env": env,
                        "scope": ["openid", "profile", "email", "birth", "phone"]}}
    (fed.folder / "partenaires" / f"{sid}.yaml").write_text(
        yaml.safe_dump(partner, allow_unicode=True, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def mapping_fed(tmp_path_factory) -> Iterator[Federation]:
    fed = build_federation(tmp_path_factory.mktemp("niveaux"),
                           {SERVICE: ("oidc", list(SOURCES), ["given_name"])}, log_level="INFO")
    try:
        for sid, (mapping, acr) in SOURCES.items():
            add_source(fed, sid, mapping, acr)
        fed.start_proxy(workers=1)
        yield fed
    finally:
        fed.stop()


@pytest.fixture
def sources(mapping_fed) -> Iterator[dict[str, DemoOP]]:
    """The sources' demo OPs by id, put back to the acr they state by default after the test."""
    ops = {sid: mapping_fed.apps[sid] for sid in SOURCES}
    yield ops
    for sid, (_, acr) in SOURCES.items():
        ops[sid].acr = acr


def login_at(fed: Federation, sid: str, **request: str) -> tuple[OidcClient, Any, Any]:
    """A fresh browser (no SSO session) signs in at ``sid`` for the service; (client, the
    request, the page the browser ends on)."""
    browser = Browser()
    client = OidcClient(fed, SERVICE)
    req = client.request(**request)
    page = choose(browser, client.start(browser, req), sid)
    return client, req, sign_in_at_source(browser, page, CITIZENS[1], client.redirect_uri)


def stopped(fed: Federation, sid: str) -> dict[str, Any]:
    """The proxy's last "login stopped" line about ``sid``."""
    lines = (fed.folder / "proxy.log").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.startswith("{")]
    return [r for r in records if r.get("event") == "login stopped"
            and str(r.get("detail", "")).startswith(f"{sid}: ")][-1]


def test_a_mapped_source_value_gives_the_service_the_eidas_uri_of_its_level(mapping_fed):
    client, req, page = login_at(mapping_fed, "src-lemon")

    assert client.tokens(req, page)["acr"] == SUBSTANTIAL


def test_an_unmapped_source_value_ends_on_niveau_insuffisant_naming_value_and_setting(
        mapping_fed, sources):
    sources["src-lemon"].acr = "loa-3"

    _, _, page = login_at(mapping_fed, "src-lemon")

    assert page.status_code == 403 and error_code_of(page) == "niveau_insuffisant"
    detail = stopped(mapping_fed, "src-lemon")["detail"]
    assert "'loa-3'" in detail and "loa_mapping.values" in detail


def test_an_answer_stating_nothing_reaches_the_unstated_level(mapping_fed):
    client, req, page = login_at(mapping_fed, "src-muet")

    assert client.tokens(req, page)["acr"] == LOW


def test_an_answer_stating_nothing_without_unstated_is_refused(mapping_fed, sources):
    sources["src-lemon"].acr = None

    _, _, page = login_at(mapping_fed, "src-lemon")

    assert page.status_code == 403 and error_code_of(page) == "niveau_insuffisant"
    detail = stopped(mapping_fed, "src-lemon")["detail"]
    assert "states no level" in detail and "loa_mapping.unstated" in detail


def test_an_unstated_level_below_the_level_asked_is_refused(mapping_fed):
    _, _, page = login_at(mapping_fed, "src-muet", acr_values=SUBSTANTIAL)

    assert page.status_code == 403 and error_code_of(page) == "niveau_insuffisant"
    assert "reaches level low, this login requires substantial" in \
        stopped(mapping_fed, "src-muet")["detail"]
