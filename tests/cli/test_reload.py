"""`partenaires reload`: the running proxy takes a new registry without losing logins.

A real federation (peers on loopback, ``ncconnect serve`` under gunicorn with two workers
and a real Redis store): the registry is changed with the command line, the master gets
SIGHUP, new workers replace the old ones, and a login started before finishes after.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.federation import DEFAULT_SERVICES, Federation, build_federation
from idp.testbed.login import login, sign_in, start
from idp.testbed.servers import free_port
from tests.cli.conftest import ncconnect

SERVICES = {sid: DEFAULT_SERVICES[sid] for sid in ("rp-op", "rp-idp")}
WORKERS = 2
#: Bound on waiting for gunicorn to replace its workers after SIGHUP.
WAIT = 20.0


@pytest.fixture
def fed(tmp_path, redis_server):
    federation = build_federation(tmp_path / "fed", SERVICES)
    try:
        proxy = federation.start_proxy(workers=WORKERS, store=redis_server.url)
        eventually(lambda: len(proxy.worker_pids()) == WORKERS, "every worker is up")
        yield federation
    finally:
        federation.stop()


def eventually(check: Callable[[], bool], what: str, timeout: float = WAIT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout:.0f}s: {what}")


def workers_replaced(fed: Federation, old: set[int]) -> Callable[[], bool]:
    def check() -> bool:
        now = set(fed.proxy.worker_pids())
        return len(now) == WORKERS and not now & old
    return check


def refused(fed: Federation, service: str) -> bool:
    """Whether the proxy answers this service's login with its unknown-client page."""
    return error_code_of(start(Browser(), fed.url(service))) == "client_inconnu"


def reload_log(fed: Federation) -> list[dict]:
    lines = (fed.folder / "proxy.log").read_text(encoding="utf-8").splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return [e for e in events if e.get("logger") == "ncconnect.reload"]


def pid_file(fed: Federation) -> Path:
    return fed.folder / "data" / "ncconnect.pid"


def test_serve_writes_the_master_pid_in_the_data_folder_and_removes_it_on_exit(fed):
    assert pid_file(fed).read_text().strip() == str(fed.proxy.proc.pid)
    fed.proxy.stop()
    assert not pid_file(fed).exists()


def test_login_started_before_a_reload_finishes_after_it_and_the_change_applies(fed):
    citizen = CITIZENS[0]
    browser = Browser()
    form = start(browser, fed.url("rp-op"))  # at the source's login form: flow in the store
    assert not refused(fed, "rp-idp")
    old = set(fed.proxy.worker_pids())

    assert ncconnect("partenaires", "disable", "rp-idp", "--config", fed.config).exit_code == 0
    result = ncconnect("partenaires", "reload", "--config", fed.config)
    assert result.exit_code == 0, result.output
    assert f"sent SIGHUP to the proxy (pid {fed.proxy.proc.pid})" in result.stdout

    eventually(workers_replaced(fed, old), "new workers replace the old ones")
    assert refused(fed, "rp-idp")
    attributes = attributes_of(sign_in(browser, form, citizen))
    assert attributes["given_name"] == citizen.claims["given_name"]
    assert [e["event"] for e in reload_log(fed)] == ["configuration reloaded: new workers serve it"]


def test_reload_of_an_invalid_registry_is_refused_and_nothing_is_sent(fed):
    path = fed.folder / "partenaires" / "rp-idp.yaml"
    data = yaml.safe_load(path.read_text())
    data["attributes"]["pointure"] = {"justification": "Commander les chaussons."}
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    old = set(fed.proxy.worker_pids())

    result = ncconnect("partenaires", "reload", "--config", fed.config)
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0].startswith(f"error: {path}: attributes.pointure: not in the attribute "
                               "dictionary")
    assert lines[-1] == "error: the registry is invalid: nothing was sent to the proxy"
    time.sleep(3)  # a SIGHUP would have replaced the workers by now
    assert set(fed.proxy.worker_pids()) == old
    assert reload_log(fed) == []


def test_proxy_keeps_its_configuration_when_the_new_one_cannot_be_assembled(fed, tmp_path):
    """A valid registry whose new SAML service's metadata cannot be fetched: the reload is
    sent, the proxy logs why it refuses, and keeps serving everything as before."""
    citizen = CITIZENS[1]
    down = f"http://127.0.0.1:{free_port()}/metadata"  # nothing listens there
    request = tmp_path / "demande.yaml"
    request.write_text(yaml.safe_dump({
        "organisation": "Province Sud", "contact": "dpo@province-sud.nc",
        "service_name": "Province Sud — aides", "purpose": "Étudier votre demande d'aide.",
        "legal_basis": "consent", "protocol": "saml2",
        "saml2": {"entity_id": down, "metadata_url": down}, "sources": ["src-op"],
        "attributes": {"family_name": {"justification": "Identifier le demandeur."}},
    }, allow_unicode=True))
    assert ncconnect("partenaires", "add", request, "--config", fed.config).exit_code == 0
    assert ncconnect("partenaires", "disable", "rp-idp", "--config", fed.config).exit_code == 0
    old = set(fed.proxy.worker_pids())

    result = ncconnect("partenaires", "reload", "--config", fed.config)
    assert result.exit_code == 0, result.output
    eventually(lambda: bool(reload_log(fed)), "the proxy logs the reload")
    [event] = reload_log(fed)
    assert event["level"] == "error"
    assert event["event"] == "configuration reload refused: keeping the previous configuration"
    assert "saml2.metadata_url: cannot fetch" in event["problem"]

    eventually(workers_replaced(fed, old), "new workers replace the old ones")
    assert not refused(fed, "rp-idp")
    attributes = attributes_of(login(Browser(), fed.url("rp-idp"), citizen))
    assert attributes["family_name"] == citizen.claims["family_name"]
