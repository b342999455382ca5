"""The scanner finds what is there (so that "nothing found" after a soak means something)."""

from __future__ import annotations

import redis

from idp.stores import open_store
from idp.stores.scan import forms, main, scan_redis, scan_sqlite


def test_a_clear_value_in_the_embedded_store_is_found_in_any_form(tmp_path):
    store = open_store(f"sqlite://{tmp_path}/store.db")
    store.put("flow", "k", {"given_name": ["Léa"], "birthdate": "14/05/1987", "n": "98814"}, 60)
    store.put_item("history", "o", "i", {"family_name": "Wamytan"}, 60)

    report = scan_sqlite(tmp_path / "store.db", ["Léa", "1987-05-14", "98814", "Wamytan"])

    assert sorted({v for hits in report.found.values() for v in hits}) == \
        ["1987-05-14", "98814", "Léa", "Wamytan"]


def test_a_clear_value_in_redis_is_found_in_every_key_kind(redis_server):
    url = redis_server.url.rsplit("/", 1)[0] + "/8"
    redis.Redis.from_url(url).flushdb()
    store = open_store(url)
    store.put("flow", "k", {"family_name": "Wamytan" * 10}, 60)  # long: DUMP compresses it
    store.put_item("history", "o", "i", {"email": "marie.wamytan@example.nc"}, 60)

    report = scan_redis(url, ["Wamytan", "marie.wamytan@example.nc"])

    assert set(report.found) == {"redis ncc:flow:k", "redis ncc:history:o"}


def test_short_values_are_looked_for_quoted_only():
    assert forms("Tran") == {b'"Tran"'}
    assert b"Marie-Claire" in forms("Marie-Claire")


def test_the_command_exits_1_when_it_finds_something(tmp_path, capsys):
    store = open_store(f"sqlite://{tmp_path}/store.db")
    store.put("flow", "k", {"family_name": "Wamytan"}, 60)

    assert main(["--store", f"sqlite://{tmp_path}/store.db", "Wamytan"]) == 1
    assert main(["--store", f"sqlite://{tmp_path}/store.db", "Vautrin"]) == 0
    assert "nothing found" in capsys.readouterr().out
