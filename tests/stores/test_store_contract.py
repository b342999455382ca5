"""The store contract, run identically against the embedded (SQLite) store and Redis."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from collections.abc import Callable

import pytest

from idp.stores import StoreUnavailable, open_store
from idp.stores.redis import RedisStore


@pytest.fixture(params=["embedded", "redis"])
def store_url(request, tmp_path):
    if request.param == "embedded":
        return f"sqlite://{tmp_path}/store.db"
    server = request.getfixturevalue("redis_server")
    return server.url


@pytest.fixture
def store(store_url):
    return open_store(store_url)


@pytest.fixture
def ns():
    return f"t-{uuid.uuid4().hex[:8]}"


def test_put_then_get_returns_the_record(store, ns):
    store.put(ns, "k", {"a": 1, "b": ["x"]}, ttl=60)
    assert store.get(ns, "k") == {"a": 1, "b": ["x"]}


def test_get_of_an_absent_key_is_none(store, ns):
    assert store.get(ns, "absent") is None


def test_namespaces_do_not_see_each_other(store, ns):
    store.put(ns, "k", {"v": 1}, ttl=60)
    assert store.get(ns + "-other", "k") is None


def test_take_returns_the_record_once(store, ns):
    store.put(ns, "code", {"v": 1}, ttl=60)
    assert store.take(ns, "code") == {"v": 1}
    assert store.take(ns, "code") is None
    assert store.get(ns, "code") is None


def test_add_refuses_a_key_already_present(store, ns):
    assert store.add(ns, "assertion-id", {"seen": True}, ttl=60) is True
    assert store.add(ns, "assertion-id", {"seen": True}, ttl=60) is False


def test_records_expire_after_their_ttl(store, ns):
    store.put(ns, "k", {"v": 1}, ttl=1)
    store.add(ns, "a", {"v": 1}, ttl=1)
    time.sleep(1.3)
    assert store.get(ns, "k") is None
    assert store.take(ns, "k") is None
    assert store.add(ns, "a", {"v": 2}, ttl=60) is True


def test_delete_forgets_and_tolerates_absent_keys(store, ns):
    store.put(ns, "k", {"v": 1}, ttl=60)
    store.delete(ns, "k")
    store.delete(ns, "k")
    assert store.get(ns, "k") is None


def test_zero_ttl_is_refused(store, ns):
    with pytest.raises(ValueError):
        store.put(ns, "k", {}, ttl=0)


def test_oversized_record_is_refused(store, ns):
    with pytest.raises(ValueError):
        store.put(ns, "k", {"blob": "x" * 300_000}, ttl=60)


#: Processes in each race, and the seconds a race may take.
RACERS = 8
RACE_SECONDS = 60


def race(target: Callable[..., None], store_url: str, ns: str) -> list:
    """What :data:`RACERS` processes running ``target(store_url, ns, barrier, results)`` put
    in ``results``. They come from the forkserver, a fresh single-threaded interpreter: this
    test process runs threads (SQLite sweepers, loopback servers), and a child forked from it
    while one of them held SQLite's allocator mutex waits for it forever. None outlives the
    race (a process left behind would hang the session at exit)."""
    ctx = multiprocessing.get_context("forkserver")
    barrier, results = ctx.Barrier(RACERS, timeout=RACE_SECONDS), ctx.Queue()
    procs = [ctx.Process(target=target, args=(store_url, ns, barrier, results), daemon=True)
             for _ in range(RACERS)]
    try:
        for p in procs:
            p.start()
        return [results.get(timeout=RACE_SECONDS) for _ in procs]
    finally:
        for p in procs:
            p.join(5)
            if p.is_alive():
                p.kill()
                p.join(5)


def _race_take(url: str, ns: str, barrier, results) -> None:
    store = open_store(url)
    barrier.wait()
    results.put(store.take(ns, "code") is not None)


def test_take_is_atomic_across_processes(store_url, store, ns):
    """Eight processes race for one code: exactly one of them gets it."""
    store.put(ns, "code", {"v": 1}, ttl=60)
    wins = race(_race_take, store_url, ns)
    assert wins.count(True) == 1


def test_sqlite_store_refuses_a_relative_path():
    with pytest.raises(ValueError, match="absolute"):
        open_store("sqlite://relative.db")


def test_unknown_store_scheme_is_refused():
    with pytest.raises(ValueError, match="scheme"):
        open_store("memcached://127.0.0.1")


def test_redis_outage_raises_store_unavailable():
    from idp.testbed.servers import free_port

    store = RedisStore(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(StoreUnavailable):
        store.get("ns", "k")
    with pytest.raises(StoreUnavailable):
        store.ping()


# -- collections: items of an owner (consents, history, sessions) ------------------------


def test_items_of_an_owner_are_listed_together_and_sorted(store, ns):
    store.put_item(ns, "citizen-a", "b", {"n": 2}, ttl=60)
    store.put_item(ns, "citizen-a", "a", {"n": 1}, ttl=60)
    store.put_item(ns, "citizen-b", "c", {"n": 3}, ttl=60)
    assert store.items(ns, "citizen-a") == {"a": {"n": 1}, "b": {"n": 2}}
    assert list(store.items(ns, "citizen-a")) == ["a", "b"]


def test_put_item_replaces_an_item_of_the_same_name(store, ns):
    store.put_item(ns, "o", "i", {"v": 1}, ttl=60)
    store.put_item(ns, "o", "i", {"v": 2}, ttl=60)
    assert store.items(ns, "o") == {"i": {"v": 2}}


def test_each_item_expires_on_its_own(store, ns):
    store.put_item(ns, "o", "short", {"v": 1}, ttl=1)
    store.put_item(ns, "o", "long", {"v": 2}, ttl=60)
    time.sleep(1.2)
    assert store.items(ns, "o") == {"long": {"v": 2}}


def test_a_short_item_does_not_shorten_the_life_of_the_others(store, ns):
    store.put_item(ns, "o", "long", {"v": 1}, ttl=60)
    store.put_item(ns, "o", "short", {"v": 2}, ttl=1)
    time.sleep(1.2)
    assert store.items(ns, "o") == {"long": {"v": 1}}


def test_delete_item_forgets_one_item_and_says_whether_it_was_there(store, ns):
    store.put_item(ns, "o", "a", {"v": 1}, ttl=60)
    store.put_item(ns, "o", "b", {"v": 2}, ttl=60)
    assert store.delete_item(ns, "o", "a") is True
    assert store.delete_item(ns, "o", "a") is False
    assert store.items(ns, "o") == {"b": {"v": 2}}


def test_delete_owner_forgets_the_whole_collection_only(store, ns):
    store.put_item(ns, "o", "a", {"v": 1}, ttl=60)
    store.put_item(ns, "other", "a", {"v": 1}, ttl=60)
    store.delete_owner(ns, "o")
    assert store.items(ns, "o") == {}
    assert store.items(ns, "other") == {"a": {"v": 1}}


def test_items_of_an_unknown_owner_is_empty(store, ns):
    assert store.items(ns, "nobody") == {}


def test_item_ttl_must_be_positive(store, ns):
    with pytest.raises(ValueError):
        store.put_item(ns, "o", "a", {"v": 1}, ttl=0)


def test_replace_updates_a_present_record_and_its_ttl(store, ns):
    store.put(ns, "k", {"v": 1}, ttl=1)
    assert store.replace(ns, "k", {"v": 2}, ttl=60) is True
    time.sleep(1.2)
    assert store.get(ns, "k") == {"v": 2}


def test_replace_never_brings_back_a_taken_or_expired_record(store, ns):
    store.put(ns, "taken", {"v": 1}, ttl=60)
    store.take(ns, "taken")
    store.put(ns, "expired", {"v": 1}, ttl=1)
    time.sleep(1.2)
    assert store.replace(ns, "taken", {"v": 2}, ttl=60) is False
    assert store.replace(ns, "expired", {"v": 2}, ttl=60) is False
    assert store.replace(ns, "never", {"v": 2}, ttl=60) is False
    assert store.get(ns, "taken") is None and store.get(ns, "expired") is None
    assert store.get(ns, "never") is None


def test_incr_counts_from_one_and_reports_the_time_left(store, ns):
    assert store.incr(ns, "login", ttl=60)[0] == 1
    count, left = store.incr(ns, "login", ttl=60)
    assert count == 2 and 55 <= left <= 60
    assert store.count(ns, "login")[0] == 2


def test_a_counter_keeps_the_window_it_was_created_with(store, ns):
    store.incr(ns, "login", ttl=2)
    _count, left = store.incr(ns, "login", ttl=600)
    assert left <= 2, "a later increment never extends the window"


def test_an_expired_counter_starts_again_at_one(store, ns):
    store.incr(ns, "login", ttl=1)
    store.incr(ns, "login", ttl=1)
    time.sleep(1.6)
    assert store.count(ns, "login") == (0, 0)
    assert store.incr(ns, "login", ttl=60)[0] == 1


def test_count_of_an_absent_counter_is_zero(store, ns):
    assert store.count(ns, "absent") == (0, 0)


def _race_incr(url: str, namespace: str, barrier, results) -> None:
    store = open_store(url)
    barrier.wait()
    results.put([store.incr(namespace, "login", ttl=60)[0] for _ in range(5)])


def test_incr_is_atomic_across_processes(store_url, store, ns):
    """Eight processes count five failures each: every count from 1 to 40 is given once."""
    counts = sorted(c for counted in race(_race_incr, store_url, ns) for c in counted)
    assert counts == list(range(1, 41))
    assert store.count(ns, "login")[0] == 40


def test_reset_forgets_a_counter_and_tolerates_absent_ones(store, ns):
    store.incr(ns, "login", ttl=60)
    store.incr(ns, "other", ttl=60)
    store.reset(ns, "login")
    store.reset(ns, "never-counted")
    assert store.count(ns, "login") == (0, 0)
    assert store.incr(ns, "login", ttl=60)[0] == 1
    assert store.count(ns, "other")[0] == 1


# -- several writes together (put_many) ---------------------------------------------------


def test_put_many_writes_records_and_items_together(store, ns):
    from idp.stores import Put

    store.put(ns, "old", {"v": 0}, ttl=60)
    store.put_many([Put(ns, "old", {"v": 1}, 60), Put(ns, "new", {"v": 2}, 60),
                    Put(ns + "-c", "owner", {"i": 1}, 60, item="a"),
                    Put(ns + "-c", "owner", {"i": 2}, 60, item="b")])
    assert store.get(ns, "old") == {"v": 1} and store.get(ns, "new") == {"v": 2}
    assert store.items(ns + "-c", "owner") == {"a": {"i": 1}, "b": {"i": 2}}
    store.put_many([])  # nothing to write is not an error


def test_put_many_keeps_each_ttl(store, ns):
    from idp.stores import Put

    store.put_many([Put(ns, "short", {"v": 1}, 1), Put(ns, "long", {"v": 2}, 60),
                    Put(ns + "-c", "o", {"i": 1}, 1, item="short"),
                    Put(ns + "-c", "o", {"i": 2}, 60, item="long")])
    time.sleep(2.1)
    assert store.get(ns, "short") is None and store.get(ns, "long") == {"v": 2}
    assert store.items(ns + "-c", "o") == {"long": {"i": 2}}


def test_put_many_writes_all_or_none(store, ns):
    from idp.stores import Put

    with pytest.raises(ValueError):
        store.put_many([Put(ns, "a", {"v": 1}, 60), Put(ns, "b", {"v": 2}, 0)])
    with pytest.raises(ValueError):
        store.put_many([Put(ns, "a", {"v": 1}, 60),
                        Put(ns, "b", {"blob": "x" * 300_000}, 60)])
    assert store.get(ns, "a") is None and store.get(ns, "b") is None


def test_put_many_is_one_round_trip_on_redis(redis_server, ns):
    from idp.stores import Put

    store = RedisStore(redis_server.url)
    reads = store._client.info("stats")["total_reads_processed"]
    store.put_many([Put(ns, "s", {"v": 1}, 60), Put(ns + "-i", "o", {"v": 2}, 60, item="x"),
                    Put(ns, "l", {"v": 3}, 60)])
    # the INFO call that reads the counter is one read of its own
    assert store._client.info("stats")["total_reads_processed"] - reads == 2


def test_put_many_forgets_the_deleted_records_in_the_same_step(store, ns):
    from idp.stores import Put

    store.put(ns, "flow", {"v": 1}, ttl=60)
    store.put_many([Put(ns, "code", {"v": 2}, 60)], deletes=[(ns, "flow"), (ns, "absent")])
    assert store.get(ns, "flow") is None and store.get(ns, "code") == {"v": 2}
    store.put(ns, "flow", {"v": 1}, ttl=60)
    store.put_many([], deletes=[(ns, "flow")])
    assert store.get(ns, "flow") is None
    with pytest.raises(ValueError):  # a refused write forgets nothing either
        store.put_many([Put(ns, "x", {"blob": "x" * 300_000}, 60)], deletes=[(ns, "code")])
    assert store.get(ns, "code") == {"v": 2}
