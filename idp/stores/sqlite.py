"""Embedded default store: one SQLite file shared by all workers, no server.

SQLite in WAL mode gives cross-process atomicity (``BEGIN IMMEDIATE``), which is
all that one-time use needs; it lets the demo and small deployments run
multi-worker without Redis while keeping the exact semantics of production.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from pathlib import Path

from .base import Record, Store, StoreUnavailable, check_ttl
from .codec import decode, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    value BLOB NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counters (
    namespace TEXT NOT NULL,
    key TEXT NOT NULL,
    count INTEGER NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (namespace, key)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS items (
    namespace TEXT NOT NULL,
    owner TEXT NOT NULL,
    item TEXT NOT NULL,
    value BLOB NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (namespace, owner, item)
) WITHOUT ROWID;
"""

#: Expired rows are swept on roughly one write in this many, so no cron is needed.
_SWEEP_EVERY = 200


class SqliteStore(Store):
    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._writes = 0
        with self._connect() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    def _connect(self) -> sqlite3.Connection:
        # One connection per (process, thread): a connection must never cross a fork.
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=10, isolation_level=None)
                conn.execute("PRAGMA busy_timeout=10000")
                conn.execute("PRAGMA synchronous=NORMAL")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"embedded store {self.path} cannot be opened") from exc
            self._local.conn = conn
            self._local.pid = os.getpid()
        return conn

    def _write(self, sql: str, params: tuple) -> sqlite3.Cursor:
        conn = self._connect()
        try:
            cur = conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store write failed") from exc
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            conn.execute("DELETE FROM records WHERE expires <= ?", (time.time(),))
            conn.execute("DELETE FROM items WHERE expires <= ?", (time.time(),))
            conn.execute("DELETE FROM counters WHERE expires <= ?", (time.time(),))
        return cur

    def put(self, namespace: str, key: str, value: Record, ttl: int) -> None:
        check_ttl(ttl)
        self._write(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
            (namespace, key, encode(value), time.time() + ttl),
        )

    def add(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        check_ttl(ttl)
        now = time.time()
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                conn.execute(
                    "DELETE FROM records WHERE namespace=? AND key=? AND expires<=?",
                    (namespace, key, now),
                )
                cur = conn.execute(
                    "INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?)",
                    (namespace, key, encode(value), now + ttl),
                )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store write failed") from exc
        return cur.rowcount == 1

    def incr(self, namespace: str, key: str, ttl: int) -> tuple[int, int]:
        check_ttl(ttl)
        now = time.time()
        try:
            row = self._connect().execute(
                # One statement, so atomic: an expired counter starts again at 1 with a new
                # window; a live one counts on and keeps its expiry.
                "INSERT INTO counters VALUES (?, ?, 1, ?) ON CONFLICT (namespace, key) DO UPDATE "
                "SET count = CASE WHEN expires <= ? THEN 1 ELSE count + 1 END, "
                "expires = CASE WHEN expires <= ? THEN excluded.expires ELSE expires END "
                "RETURNING count, expires",
                (namespace, key, now + ttl, now, now),
            ).fetchall()[0]  # fetch all: the statement, and its lock, end here
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store write failed") from exc
        return int(row[0]), max(int(row[1] - now + 0.999), 0)

    def reset(self, namespace: str, key: str) -> None:
        self._write("DELETE FROM counters WHERE namespace=? AND key=?", (namespace, key))

    def count(self, namespace: str, key: str) -> tuple[int, int]:
        now = time.time()
        try:
            row = self._connect().execute(
                "SELECT count, expires FROM counters WHERE namespace=? AND key=? AND expires>?",
                (namespace, key, now),
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store read failed") from exc
        return (int(row[0]), max(int(row[1] - now + 0.999), 0)) if row else (0, 0)

    def replace(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        check_ttl(ttl)
        now = time.time()
        cur = self._write("UPDATE records SET value=?, expires=? WHERE namespace=? AND key=? "
                          "AND expires>?", (encode(value), now + ttl, namespace, key, now))
        return cur.rowcount == 1

    def get(self, namespace: str, key: str) -> Record | None:
        try:
            row = self._connect().execute(
                "SELECT value FROM records WHERE namespace=? AND key=? AND expires>?",
                (namespace, key, time.time()),
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store read failed") from exc
        return decode(row[0]) if row else None

    def take(self, namespace: str, key: str) -> Record | None:
        try:
            row = self._connect().execute(
                "DELETE FROM records WHERE namespace=? AND key=? RETURNING value, expires",
                (namespace, key),
            ).fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store write failed") from exc
        if row is None or row[1] <= time.time():
            return None
        return decode(row[0])

    def delete(self, namespace: str, key: str) -> None:
        self._write("DELETE FROM records WHERE namespace=? AND key=?", (namespace, key))

    def put_item(self, namespace: str, owner: str, item: str, value: Record, ttl: int) -> None:
        check_ttl(ttl)
        self._write("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?)",
                    (namespace, owner, item, encode(value), time.time() + ttl))

    def items(self, namespace: str, owner: str) -> dict[str, Record]:
        try:
            rows = self._connect().execute(
                "SELECT item, value FROM items WHERE namespace=? AND owner=? AND expires>? "
                "ORDER BY item", (namespace, owner, time.time())).fetchall()
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store read failed") from exc
        return {item: decode(value) or {} for item, value in rows}

    def delete_item(self, namespace: str, owner: str, item: str) -> bool:
        cur = self._write("DELETE FROM items WHERE namespace=? AND owner=? AND item=? "
                          "AND expires>?", (namespace, owner, item, time.time()))
        return cur.rowcount == 1

    def delete_owner(self, namespace: str, owner: str) -> None:
        self._write("DELETE FROM items WHERE namespace=? AND owner=?", (namespace, owner))

    def ping(self) -> None:
        try:
            self._connect().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store unavailable") from exc

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
