"""The embedded store leaves nothing behind: no old copy in the WAL or in free pages once a
record is deleted or replaced, and expired rows swept on a timer (no write needed) and at
close. Read as an attacker would: the bytes of every file next to ``store.db``."""

from __future__ import annotations

import sqlite3
import time

from idp.stores.scan import scan_sqlite
from idp.stores.sqlite import CHECKPOINT_DELAY, SqliteStore

MARKER = "Wamytan-residue-marker"


def _rows(path) -> int:
    """Every row in the file, expired or not (the store's reads hide expired ones)."""
    with sqlite3.connect(path) as conn:
        return sum(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                   for t in ("records", "items", "counters"))


def _settle() -> None:
    time.sleep(CHECKPOINT_DELAY + 1.0)


def test_deletion_is_secure_on_every_connection(tmp_path):
    store = SqliteStore(tmp_path / "store.db")

    assert store._connect().execute("PRAGMA secure_delete").fetchone()[0] == 1
    store.close()


def test_a_taken_or_deleted_record_leaves_no_copy_in_any_file(tmp_path):
    path = tmp_path / "store.db"
    store = SqliteStore(path)
    for i in range(50):
        store.put("flow", f"k{i}", {"v": f"{MARKER}-{i}"}, 600)
    for i in range(50):
        store.take("flow", f"k{i}") if i % 2 else store.delete("flow", f"k{i}")
    store.put_item("history", "owner", "item", {"v": MARKER}, 600)
    store.delete_owner("history", "owner")

    _settle()

    report = scan_sqlite(path, [MARKER])
    print(report.summary())
    assert report.clean
    wal = tmp_path / "store.db-wal"
    assert not wal.exists() or wal.stat().st_size == 0
    store.close()


def test_a_replaced_record_leaves_no_copy_of_its_old_value(tmp_path):
    path = tmp_path / "store.db"
    store = SqliteStore(path)
    store.put("sso-session", "k", {"v": MARKER}, 600)
    store.put("sso-session", "k", {"v": "new"}, 600)
    store.replace("sso-session", "k", {"v": "newer"}, 600)

    _settle()

    assert scan_sqlite(path, [MARKER]).clean
    assert store.get("sso-session", "k") == {"v": "newer"}
    store.close()


def test_expired_rows_are_gone_after_the_sweep_interval_with_no_writes(tmp_path):
    path = tmp_path / "store.db"
    store = SqliteStore(path, sweep_seconds=0.5)
    store.put("oidc-code", "k", {"v": MARKER}, 1)
    store.put_item("history", "owner", "item", {"v": MARKER}, 1)
    store.incr("ldap-failures", "k", 1)
    assert _rows(path) == 3

    time.sleep(1.0 + 0.5 + CHECKPOINT_DELAY + 1.0)  # expiry, a sweep, its checkpoint

    assert _rows(path) == 0
    assert scan_sqlite(path, [MARKER]).clean
    store.close()


def test_closing_the_store_sweeps_expired_rows(tmp_path):
    path = tmp_path / "store.db"
    store = SqliteStore(path, sweep_seconds=3600)
    store.put("flow", "k", {"v": MARKER}, 1)
    time.sleep(1.2)
    assert _rows(path) == 1

    store.close()

    assert _rows(path) == 0
    assert scan_sqlite(path, [MARKER]).clean


def test_an_open_url_sets_the_sweep_interval(tmp_path):
    from idp.stores import open_store

    store = open_store(f"sqlite://{tmp_path}/s.db?sweep_seconds=2.5")

    assert isinstance(store, SqliteStore) and store.sweep_seconds == 2.5
    assert store.path == f"{tmp_path}/s.db"


def test_the_store_files_are_readable_by_the_proxys_user_only(tmp_path):
    store = SqliteStore(tmp_path / "store.db")
    store.put("flow", "k", {"v": 1}, 60)
    for file in tmp_path.glob("store.db*"):
        assert file.stat().st_mode & 0o077 == 0, f"{file.name} is readable by others"
    store.close()
