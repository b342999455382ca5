"""Hosts sharing a partner folder reload together: the registry generation in the shared store.

Real parts only: ``ncconnect serve`` processes (two "hosts" on free loopback ports, one
partner folder) and a real redis-server (the embedded store has one host: no watcher),
the command line run in-process. A service added on host A's side is served by host B within
its poll interval (2 s here), without anyone signalling B.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
import yaml

from idp.partners import generation
from idp.testbed.browser import error_code_of
from idp.testbed.federation import DEFAULT_SERVICES, Federation, build_federation
from idp.testbed.servers import GunicornProxy, RedisServer, free_port
from tests.cli.conftest import ncconnect

POLL = 2
#: Bound on a host noticing a bump and its new workers serving (poll + reload + fork).
WAIT = 3 * POLL + 10


def eventually(check: Callable[[], bool], what: str, timeout: float = WAIT) -> float:
    """Seconds until ``check()`` held."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout:.0f}s: {what}")


# -- the generation itself, on both store kinds ----------------------------------------------


@pytest.fixture(params=["sqlite", "redis"])
def store_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite://{tmp_path / 'store.db'}"
    server = request.getfixturevalue("redis_server")
    return server.url.rsplit("/", 1)[0] + "/5"  # a db of its own: other tests share the server


def test_bump_counts_from_zero_and_lives_about_four_hundred_days(store_url):
    store = generation._private_store(store_url)
    try:
        store.reset(generation.NAMESPACE, generation.KEY)
        assert generation.current(store) == 0
        assert [generation.bump(store), generation.bump(store)] == [1, 2]
        assert generation.bump_url(store_url) == 3  # another instance, closed at once
        assert generation.current(store) == 3
        count, ttl = store.count(generation.NAMESPACE, generation.KEY)
        assert count == 3 and 399 * 86400 < ttl <= 400 * 86400
    finally:
        store.close()


def test_watcher_calls_back_once_per_change(store_url):
    changes: list[int] = []
    watcher = generation.Watcher(store_url, 0.1, on_change=lambda: changes.append(1))
    watcher.start()
    try:
        eventually(lambda: watcher.seen is not None, "the baseline is read", 5)
        generation.bump_url(store_url)
        eventually(lambda: changes == [1], "the bump is seen", 5)
        time.sleep(0.5)
        assert changes == [1]  # seen once, not at every poll
        generation.bump_url(store_url)
        eventually(lambda: changes == [1, 1], "a later bump is seen", 5)
    finally:
        watcher.stop()
    assert not watcher._thread.is_alive()


def test_a_reload_takes_the_generation_current_then_as_seen(store_url):
    """This host bumped, then reloaded itself: its watcher does not reload it again."""
    changes: list[int] = []
    watcher = generation.Watcher(store_url, 60, on_change=lambda: changes.append(1))
    watcher.start()  # reads once now, then only when told of a reload (60 s polls)
    try:
        eventually(lambda: watcher.seen is not None, "the baseline is read", 5)
        bumped = generation.bump_url(store_url)
        watcher.reloading()
        assert watcher.seen == bumped
        assert changes == []
    finally:
        watcher.stop()


def test_watcher_survives_a_store_outage_warns_once_and_sees_bumps_after_it(tmp_path, caplog):
    redis = RedisServer(tmp_path / "redis")
    changes: list[int] = []
    watcher = generation.Watcher(redis.url, 0.1, on_change=lambda: changes.append(1))
    try:
        with caplog.at_level(logging.WARNING, logger="ncconnect.reload"):
            watcher.start()
            eventually(lambda: watcher.seen == 0, "the baseline is read", 5)
            redis.stop()
            time.sleep(2.5)  # several polls, each failing
            assert watcher._thread.is_alive()
            unreadable = [r for r in caplog.records
                          if r.getMessage().startswith("registry generation unreadable")]
            assert len(unreadable) == 1
            assert unreadable[0].problem == "StoreUnavailable"
            assert redis.url not in caplog.text

            redis = RedisServer(tmp_path / "redis", port=redis.port)
            generation.bump_url(redis.url)
            eventually(lambda: changes == [1], "the bump after the outage is seen", 10)
            assert "registry generation readable again" in caplog.text
    finally:
        watcher.stop()
        redis.stop()


def test_a_master_that_could_not_read_at_start_reloads_once_the_store_answers(tmp_path):
    """The bump may have come after its files were read: one reload, to be sure."""
    redis = RedisServer(tmp_path / "redis")
    redis.stop()  # down when the master starts
    changes: list[int] = []
    watcher = generation.Watcher(redis.url, 0.1, on_change=lambda: changes.append(1))
    try:
        watcher.start()
        time.sleep(0.5)
        redis = RedisServer(tmp_path / "redis", port=redis.port)
        eventually(lambda: changes == [1], "one reload once the store answers", 10)
        time.sleep(0.5)
        assert changes == [1] and watcher.seen == 0
    finally:
        watcher.stop()
        redis.stop()


@pytest.mark.parametrize(("value", "ok"), [(None, True), (2, True), (60, True), (1, False),
                                           (61, False)])
def test_poll_seconds_setting_defaults_to_20_within_2_to_60(tmp_path, value, ok):
    from idp.schema_errors import ConfigError
    from idp.settings import load_settings

    settings = {"base_url": "https://connect.example.nc"}
    if value is not None:
        settings["registry"] = {"poll_seconds": value}
    path = tmp_path / "proxy.yaml"
    path.write_text(yaml.safe_dump(settings), encoding="utf-8")
    if ok:
        assert load_settings(path).registry.poll_seconds == (value or 20)
    else:
        with pytest.raises(ConfigError, match="poll_seconds"):
            load_settings(path)


# -- two hosts -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> Iterator[Federation]:
    """The demo peers, one service, and settings polling every 2 s; hosts start per test."""
    federation = build_federation(tmp_path_factory.mktemp("generation"),
                                  {"rp-op": DEFAULT_SERVICES["rp-op"]})
    settings = yaml.safe_load(federation.config.read_text(encoding="utf-8"))
    settings["registry"] = {"poll_seconds": POLL}
    federation.config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    try:
        yield federation
    finally:
        federation.stop()


def log_events(path: Path) -> list[str]:
    """The reload events of a host's log (logger ``ncconnect.reload``), oldest first."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return [e["event"] for e in events if e.get("logger") == "ncconnect.reload"]


def add_service(fed: Federation, sid: str) -> Path:
    """A new OIDC service in the shared folder, as ``partenaires add`` would write it."""
    data = yaml.safe_load((fed.folder / "partenaires" / "rp-op.yaml").read_text())
    data.update(id=sid, name=f"Service {sid}")
    data["oidc"].update(client_id=sid, redirect_uris=[f"http://127.0.0.1:9/{sid}/callback"])
    path = fed.folder / "partenaires" / f"{sid}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def knows(host: GunicornProxy, sid: str) -> bool:
    """Whether ``host`` takes an authorization request of client ``sid`` (not its
    unknown-client page)."""
    resp = requests.get(f"{host.url}/oidc/authorize", allow_redirects=False, timeout=5, params={
        "client_id": sid, "redirect_uri": f"http://127.0.0.1:9/{sid}/callback",
        "response_type": "code", "scope": "openid", "state": "s", "nonce": "n"})
    return resp.status_code < 500 and error_code_of(resp) != "client_inconnu"


def test_a_service_added_on_host_a_is_served_by_host_b_within_its_poll_interval(
        fed, redis_server):
    store = redis_server.url.rsplit("/", 1)[0] + "/6"
    log_a, log_b = fed.folder / "proxy.log", fed.folder / "second-host" / "proxy.log"
    for log in (log_a, log_b):
        log.unlink(missing_ok=True)
    sid = "rp-neuf-redis"
    host_a = fed.start_proxy(workers=1, store=store)
    host_b = fed.second_host(store)
    try:
        assert not knows(host_a, sid) and not knows(host_b, sid)
        add_service(fed, sid)

        result = ncconnect("partenaires", "reload", "--config", fed.config, "--store", store,
                           "--pid-file", fed.folder / "data" / "ncconnect.pid")
        assert result.exit_code == 0, result.output
        assert f"sent SIGHUP to the proxy (pid {host_a.proc.pid})" in result.stdout
        assert "every host sharing the store reloads within its registry.poll_seconds " \
               f"({POLL} s in these settings)" in result.stdout

        seconds = eventually(lambda: knows(host_b, sid), "host B serves the new service")
        print(f"\nhost B (redis) served the new service {seconds:.1f} s after the bump")
        assert knows(host_a, sid)
        assert seconds <= POLL + 8
        assert log_events(log_b) == ["registry generation changed: reloading",
                                     "configuration reloaded: new workers serve it"]
        time.sleep(2 * POLL + 0.5)  # host A took its own bump as seen: no second reload
        assert log_events(log_a) == ["configuration reloaded: new workers serve it"]
        assert log_events(log_b) == ["registry generation changed: reloading",
                                     "configuration reloaded: new workers serve it"]
    finally:
        host_b.stop()
        fed.proxy.stop()
        fed.proxy = None
        (fed.folder / "partenaires" / f"{sid}.yaml").unlink(missing_ok=True)


def test_reload_without_a_local_proxy_bumps_and_succeeds(fed, redis_server):
    store = redis_server.url.rsplit("/", 1)[0] + "/7"
    before = generation.bump_url(store)
    result = ncconnect("partenaires", "reload", "--config", fed.config, "--store", store,
                       "--pid-file", fed.folder / "nobody.pid")
    assert result.exit_code == 0, result.output
    assert "no proxy runs here" in result.stdout
    assert f"registry generation {before + 1}:" in result.stdout



def test_reload_with_the_store_unreachable_and_no_local_proxy_fails(fed):
    down = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    result = ncconnect("partenaires", "reload", "--config", fed.config, "--store", down,
                       "--pid-file", fed.folder / "nobody.pid")
    assert result.exit_code == 2
    assert "warning: registry generation not bumped (redis store unavailable" in result.stderr
    assert "no pid file" in result.stderr

def test_a_store_outage_while_polling_does_not_stop_the_master(fed, tmp_path):
    redis = RedisServer(tmp_path / "redis")
    log = fed.folder / "proxy.log"
    log.unlink(missing_ok=True)
    host = fed.start_proxy(workers=1, store=redis.url)
    try:
        time.sleep(0.5)  # the baseline read
        redis.stop()
        time.sleep(3 * POLL)
        assert host.proc.poll() is None
        os.kill(host.proc.pid, 0)
        assert log_events(log).count("registry generation unreadable: this host reloads only "
                                     "on SIGHUP until the store answers") == 1

        redis = RedisServer(tmp_path / "redis", port=redis.port)  # empty: generation 0 -> 1
        generation.bump_url(redis.url)
        eventually(lambda: "configuration reloaded: new workers serve it" in log_events(log),
                   "the master reloads on the bump after the outage")
        assert "registry generation changed: reloading" in log_events(log)
    finally:
        fed.proxy.stop()
        fed.proxy = None
        redis.stop()


def test_a_master_on_the_embedded_store_watches_nothing(fed):
    """The embedded store lives on one host (a SQLite file): there is no other host to
    follow, and the master keeps no SQLite connection across its workers' forks. It still
    reloads on SIGHUP ('partenaires reload', a portal approval)."""
    log = fed.folder / "proxy.log"
    log.unlink(missing_ok=True)
    fed.start_proxy(workers=1, store=f"sqlite://{fed.folder / 'alone' / 'store.db'}")
    try:
        eventually(lambda: "registry watcher not needed" in log.read_text(), "the notice")
    finally:
        fed.proxy.stop()
        fed.proxy = None
