"""What the sentinel store adds to the contract: one-time writes wait for a replica in the
same round trip, fail closed when no replica acknowledges, and a bad URL is refused with the
fix."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest

from idp.schema_errors import ConfigError
from idp.settings import load_settings
from idp.stores import StoreUnavailable, open_store
from idp.testbed.sentinel import SentinelCluster


def _waits(cluster: SentinelCluster) -> int:
    """WAIT commands the primary ran so far."""
    stats = cluster.client(cluster.primary()).info("commandstats")
    return stats.get("cmdstat_wait", {}).get("calls", 0)


def _once_served(operation):
    """``operation()`` once the new primary's replica is attached (a one-time write fails
    closed until one acknowledges it; the record stays taken on an attempt that fails)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            return operation()
        except StoreUnavailable:
            assert time.monotonic() < deadline, "the new primary got no replica within 5 s"
            time.sleep(0.1)


@pytest.fixture
def ns():
    return f"ha-{uuid.uuid4().hex[:8]}"


def test_each_one_time_write_waits_for_a_replica(shared_cluster, ns):
    """One ``WAIT`` per ``take`` and per ``add``, sent in the same pipeline as the write."""
    store = open_store(shared_cluster.url())
    store.put(ns, "code", {"v": 1}, ttl=60)
    waits = _waits(shared_cluster)
    assert store.take(ns, "code") == {"v": 1}
    assert _waits(shared_cluster) - waits == 1
    assert store.add(ns, "assertion-id", {"seen": 1}, ttl=60) is True
    assert store.add(ns, "assertion-id", {"seen": 1}, ttl=60) is False
    assert _waits(shared_cluster) - waits == 3


def test_plain_writes_and_reads_do_not_wait(shared_cluster, ns):
    store = open_store(shared_cluster.url())
    waits = _waits(shared_cluster)
    store.put(ns, "flow", {"v": 1}, ttl=60)
    store.get(ns, "flow")
    store.replace(ns, "flow", {"v": 2}, ttl=60)
    store.put_item(ns, "owner", "item", {"v": 1}, ttl=60)
    store.incr(ns, "failures", ttl=60)
    store.delete(ns, "flow")
    assert _waits(shared_cluster) == waits


def test_a_one_time_write_no_replica_acknowledges_fails_closed(shared_cluster, ns):
    """Three replicas asked, two exist: the login stops (503), and what was taken stays
    taken, what was recorded stays recorded — never handed out twice."""
    store = open_store(shared_cluster.url(wait_replicas=3, wait_ms=50))
    store.put(ns, "code", {"v": 1}, ttl=60)
    with pytest.raises(StoreUnavailable, match="acknowledged by 2 of 3 replicas"):
        store.take(ns, "code")
    assert store.get(ns, "code") is None
    with pytest.raises(StoreUnavailable):
        store.add(ns, "assertion-id", {"seen": 1}, ttl=60)
    assert store.add(ns, "assertion-id", {"seen": 1}, ttl=60) is False  # a replay: refused
    assert store.take(ns, "absent") is None  # nothing consumed, nothing to fail on


def test_the_replica_wait_can_be_turned_off(shared_cluster, ns):
    store = open_store(shared_cluster.url(wait_replicas=0))
    waits = _waits(shared_cluster)
    store.put(ns, "code", {"v": 1}, ttl=60)
    assert store.take(ns, "code") == {"v": 1}
    assert _waits(shared_cluster) == waits


def test_a_one_time_write_is_not_retried_when_the_primary_dies_but_a_read_is(cluster, ns):
    """A GETDEL whose outcome is unknown is never sent again (it may have consumed the
    record): it fails at once. An idempotent read retries for about two seconds and is served
    by the new primary when the promotion is that quick."""
    store = open_store(cluster.url())
    store.put(ns, "code", {"v": 1}, ttl=60)
    cluster.kill_primary()
    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        store.take(ns, "code")
    assert time.monotonic() - started < 0.5
    cluster.wait_promoted()
    assert store.get(ns, "code") == {"v": 1}  # acknowledged by a replica before the kill
    assert _once_served(lambda: store.take(ns, "code")) == {"v": 1}


@pytest.mark.parametrize(("url", "message"), [
    ("redis+sentinel:///ncc/0", "sentinel '' must be host:port"),
    ("redis+sentinel://10.0.0.1/ncc/0", "sentinel '10.0.0.1' must be host:port"),
    ("redis+sentinel://10.0.0.1:26379,10.0.0.2:x/ncc", "sentinel '10.0.0.2:x'"),
    ("redis+sentinel://10.0.0.1:26379", "give the master name"),
    ("redis+sentinel://10.0.0.1:26379/ncc/zero", "db 'zero' must be a whole number"),
    ("redis+sentinel://10.0.0.1:26379/ncc/0/extra", "give the master name"),
    ("redis+sentinel://10.0.0.1:26379/ncc?wait_ms=0", "wait_ms must be a whole number from 1"),
    ("redis+sentinel://10.0.0.1:26379/ncc?wait_replicas=-1", "wait_replicas must be"),
    ("redis+sentinel://10.0.0.1:26379/ncc?wait=1", "unknown option 'wait'"),
    ("redis+sentinel://u:secret@10.0.0.1:26379/ncc", "credentials in the URL"),
])
def test_a_bad_sentinel_url_is_refused_with_the_fix(url, message):
    with pytest.raises(ValueError, match="form: redis\\+sentinel://host:port") as refused:
        open_store(url)
    assert message in str(refused.value)


def test_a_bad_store_setting_stops_the_start_naming_file_field_and_fix(tmp_path: Path):
    config = tmp_path / "proxy.yaml"
    config.write_text("base_url: https://connect.example.nc\n"
                      "store: redis+sentinel://10.0.0.1:26379/ncc?wait_ms=0\n",
                      encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_settings(config)
    assert str(refused.value).startswith(f"{config}: store: ")
    assert "wait_ms must be a whole number from 1 to 1500" in str(refused.value)
    good = "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/ncc/0"
    assert load_settings(config, store=good).store == good


def test_a_code_taken_while_replicas_lag_is_handed_out_once_across_a_failover(cluster, ns):
    """Why one-time writes wait. The replicas miss what the primary writes, then the primary
    dies: without the wait, a code taken on the old primary is back on the new one and is
    handed out a second time; with it, the take fails closed (the login ends on the 503
    page) and the code is handed out once, after the failover."""
    waiting = open_store(cluster.url(wait_ms=200))
    not_waiting = open_store(cluster.url(wait_replicas=0))
    waiting.put(ns, "code-a", {"v": "a"}, ttl=60)
    waiting.put(ns, "code-b", {"v": "b"}, ttl=60)
    assert waiting.add(ns, "replicated", {}, ttl=60)  # waits: both codes are on a replica
    cluster.cut_replication()
    assert not_waiting.take(ns, "code-a") == {"v": "a"}  # handed out
    with pytest.raises(StoreUnavailable, match="acknowledged by 0 of 1"):
        waiting.take(ns, "code-b")  # not handed out
    cluster.kill_primary()
    cluster.resume_replicas()
    cluster.wait_promoted()
    second_a = not_waiting.take(ns, "code-a")
    b = _once_served(lambda: waiting.take(ns, "code-b"))
    assert second_a == {"v": "a"}, "without the wait, the failover brought the code back"
    assert b == {"v": "b"}  # handed out for the first time


def test_the_store_scanner_reads_a_sentinel_store_through_its_primary(shared_cluster):
    from idp.stores.scan import scan_store

    url = shared_cluster.url()
    store = open_store(url)
    store.put("scan-test", "clair", {"nom": "Valeur-En-Clair-42"}, 60)
    found = scan_store(url, ["Valeur-En-Clair-42"])
    assert not found.clean
    assert scan_store(url, ["Absente-Partout-17"]).clean
