"""``/healthz`` says the process is alive; ``/readyz`` says whether it can serve logins: it
turns unready when the store stops and ready again when it is back, and reports each source's
reachability without failing on it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import requests

from idp.testbed.federation import build_federation
from idp.testbed.servers import RedisServer


class Store:
    """The proxy's Redis, which a test stops and starts again on the same port."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = RedisServer(folder)
        self.port, self.url = self.server.port, self.server.url

    def stop(self) -> None:
        self.server.stop()

    def start(self) -> None:
        self.server = RedisServer(self.folder, port=self.port)


@pytest.fixture(scope="module")
def alone(tmp_path_factory):
    """A proxy on a Redis of its own; its SAML source is stopped before the first check."""
    folder = tmp_path_factory.mktemp("readiness")
    store = Store(folder / "redis")
    fed = build_federation(folder / "fed")
    try:
        fed.start_proxy(workers=1, store=store.url)
        fed.servers["src-idp"].stop()
        yield fed, store
    finally:
        fed.stop()
        store.stop()


def ready(fed) -> requests.Response:
    return requests.get(f"{fed.proxy_url}/readyz", timeout=10)


def wait_for_status(fed, status: int, seconds: float = 10) -> requests.Response:
    deadline = time.monotonic() + seconds
    while True:
        resp = ready(fed)
        if resp.status_code == status or time.monotonic() > deadline:
            return resp
        time.sleep(0.2)


def test_ready_names_each_check_and_reports_a_source_out_of_reach(alone):
    fed, _store = alone
    resp = ready(fed)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["ready"] is True
    assert body["checks"] == {"store": "ok", "keys": "ok", "registry": "ok"}
    assert body["sources"] == {"src-op": "joignable", "src-idp": "injoignable"}
    assert resp.headers["Cache-Control"] == "no-store"


def test_unready_while_the_store_is_stopped_and_ready_once_it_is_back(alone):
    fed, store = alone
    store.stop()
    down = wait_for_status(fed, 503)
    assert down.status_code == 503
    assert down.json()["ready"] is False and down.json()["checks"]["store"].startswith("ko")
    assert requests.get(f"{fed.proxy_url}/healthz", timeout=10).status_code == 200
    store.start()
    assert wait_for_status(fed, 200).json()["ready"] is True


def test_readiness_holds_no_address(alone):
    fed, _store = alone
    assert "127.0.0.1" not in ready(fed).text
