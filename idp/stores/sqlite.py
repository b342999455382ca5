"""Embedded default store: one SQLite file shared by all workers, no server.

SQLite gives cross-process atomicity (``BEGIN IMMEDIATE``, single-statement
``DELETE … RETURNING``), which is all that one-time use needs; it lets the demo and
small deployments run multi-worker without Redis while keeping the exact semantics of
production.

Nothing is left behind once a record is gone:

* WAL, checkpointed *with truncation* shortly after writes: every write (a delete, but an
  update too leaves the previous version in the WAL) wakes this process's housekeeping
  thread, which runs ``PRAGMA wal_checkpoint(TRUNCATE)`` :data:`CHECKPOINT_DELAY` seconds
  later (one checkpoint for every write in that window), and again after every timed
  sweep and at :meth:`SqliteStore.close`. The ``-wal`` file is then empty: no old copy of
  a record outlives its deletion or replacement by more than about a second (before: 38
  old copies after 8 logins).
  Measured (3 processes, put/get/put/take cycles, on a shared 2-core machine): plain WAL
  11,500-12,400 cycles/s; this deferred checkpoint 9,000-16,000; WAL with a TRUNCATE
  checkpoint after every delete 550-680; rollback journal ``TRUNCATE`` 350-480 and
  ``DELETE`` 320-370 (an fsync per commit). ``bench/logins.py --store embedded -n 150 -c 8
  --workers 3``: oidc->oidc 28.2 logins/s before, 27.7 after (the journal mode
  ``TRUNCATE`` measured 13.1). A journal mode without WAL would cost 25x in store writes.
  A checkpoint that cannot finish (a reader still on an old snapshot) is retried at the
  next wake-up.
* ``secure_delete=ON``: deleted and overwritten content is zeroed in the database file, not
  left in free pages.
* Expired rows are swept by the same thread in every process using the store (every
  ``sweep_seconds``, 60 by default, also when nobody writes), on roughly one write in
  :data:`_SWEEP_EVERY`, and at :meth:`SqliteStore.close` (gunicorn calls it at worker exit,
  :mod:`idp.gunicorn_app`).

What records hold is sealed by their writers anyway (:mod:`idp.stores.sealing`); this is
about not keeping even sealed or pseudonymous data longer than its TTL.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from .base import Put, Record, Store, StoreUnavailable, check_ttl, checked_batch
from .codec import decode, encode

logger = logging.getLogger("ncconnect.store")

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

#: Expired rows are also swept on roughly one write in this many.
_SWEEP_EVERY = 200
#: Default seconds between two sweeps by the timer thread of each process.
SWEEP_SECONDS = 60.0
#: Seconds between a delete and the WAL checkpoint (with truncation) that follows it.
CHECKPOINT_DELAY = 1.0


class SqliteStore(Store):
    def __init__(self, path: str | Path, sweep_seconds: float = SWEEP_SECONDS) -> None:
        if sweep_seconds <= 0:
            raise ValueError("sweep_seconds must be positive")
        self.path = str(path)
        self.sweep_seconds = float(sweep_seconds)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # Readable by the proxy's user only: SQLite gives its -wal and -shm files the mode of
        # the database file, so creating it 0600 covers all three.
        os.close(os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600))
        self._local = threading.local()
        self._writes = 0
        self._sweeper: tuple[int, threading.Thread, threading.Event] | None = None
        self._sweeper_lock = threading.Lock()
        self._written = threading.Event()
        # No timer thread yet: this may be gunicorn's master, about to fork (a thread inside
        # SQLite at fork time could leave a child a held lock); each process starts its own
        # at its first use of the store.
        conn = self._connect(sweeper=False)
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)
            self.checkpoint(conn)
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"embedded store {self.path} cannot be opened") from exc

    def _connect(self, sweeper: bool = True) -> sqlite3.Connection:
        # One connection per (process, thread): a connection must never cross a fork.
        conn = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            try:
                conn = sqlite3.connect(self.path, timeout=10, isolation_level=None,
                                       check_same_thread=False)
                conn.execute("PRAGMA busy_timeout=10000")
                conn.execute("PRAGMA synchronous=NORMAL")
                conn.execute("PRAGMA secure_delete=ON")
            except sqlite3.Error as exc:
                raise StoreUnavailable(f"embedded store {self.path} cannot be opened") from exc
            self._local.conn = conn
            self._local.pid = os.getpid()
        if sweeper:
            self._start_sweeper()
        return conn

    # -- expiry ------------------------------------------------------------------------

    def sweep(self) -> int:
        """Delete every expired row now; the number deleted. Never starts the timer thread:
        :meth:`close` sweeps a last time after stopping it."""
        now = time.time()
        conn = self._connect(sweeper=False)
        try:
            deleted = sum(conn.execute(sql, (now,)).rowcount for sql in (
                "DELETE FROM records WHERE expires <= ?", "DELETE FROM items WHERE expires <= ?",
                "DELETE FROM counters WHERE expires <= ?"))
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store sweep failed") from exc
        return deleted

    def _start_sweeper(self) -> None:
        """One timer thread per process (a thread does not survive a fork: a gunicorn worker
        starts its own at its first use of the store)."""
        running = self._sweeper
        if running is not None and running[0] == os.getpid():
            return
        with self._sweeper_lock:
            if self._sweeper is not None and self._sweeper[0] == os.getpid():
                return
            stop = threading.Event()
            thread = threading.Thread(target=self._sweep_loop, args=(stop,),
                                      name="ncc-store-sweeper", daemon=True)
            self._sweeper = (os.getpid(), thread, stop)
            thread.start()

    def checkpoint(self, conn: sqlite3.Connection | None = None) -> bool:
        """Copy the WAL into the database and truncate it to zero bytes; ``False`` when a
        reader or writer kept it from finishing (retried later)."""
        try:
            row = (conn or self._connect()).execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error as exc:
            logger.warning("embedded store checkpoint failed", extra={"detail": str(exc)})
            return False
        return row is not None and row[0] == 0

    def _sweep_loop(self, stop: threading.Event) -> None:
        next_sweep = time.monotonic() + self.sweep_seconds
        conn = self._connect()
        conn.execute("PRAGMA busy_timeout=2000")  # housekeeping never waits long on requests
        while not stop.is_set():
            deleted = self._written.wait(max(0.0, next_sweep - time.monotonic()))
            if stop.is_set():
                break
            if deleted:
                stop.wait(CHECKPOINT_DELAY)  # one checkpoint for the deletes of this window
                self._written.clear()
            try:
                if time.monotonic() >= next_sweep:
                    next_sweep = time.monotonic() + self.sweep_seconds
                    self.sweep()
                if not self.checkpoint(conn):
                    self._written.set()  # a reader held it: try again after the delay
            except StoreUnavailable as exc:  # busy or gone: the next tick tries again
                logger.warning("embedded store sweep failed", extra={"detail": str(exc)})
        conn.close()
        self._local.conn = None

    def _write(self, sql: str, params: tuple) -> sqlite3.Cursor:
        conn = self._connect()
        try:
            cur = conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store write failed") from exc
        self._wrote()
        return cur

    def _wrote(self) -> None:
        """After every write: the occasional sweep, and the housekeeping thread woken (its
        WAL checkpoint follows a second later)."""
        self._writes += 1
        if self._writes % _SWEEP_EVERY == 0:
            self.sweep()
        self._written.set()

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` … ``COMMIT``, rolled back on any failure: all or nothing, across
        processes; a SQLite error is the store being unavailable."""
        conn = self._connect()
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
        except sqlite3.Error as exc:
            raise StoreUnavailable("embedded store write failed") from exc

    def put(self, namespace: str, key: str, value: Record, ttl: int) -> None:
        check_ttl(ttl)
        self._write(
            "INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
            (namespace, key, encode(value), time.time() + ttl),
        )

    def add(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        check_ttl(ttl)
        now = time.time()
        with self._transaction() as conn:
            conn.execute("DELETE FROM records WHERE namespace=? AND key=? AND expires<=?",
                         (namespace, key, now))
            cur = conn.execute("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?)",
                               (namespace, key, encode(value), now + ttl))
        self._written.set()
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
        self._written.set()
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
        self._written.set()
        if row is None or row[1] <= time.time():
            return None
        return decode(row[0])

    def delete(self, namespace: str, key: str) -> None:
        self._write("DELETE FROM records WHERE namespace=? AND key=?", (namespace, key))

    def put_item(self, namespace: str, owner: str, item: str, value: Record, ttl: int) -> None:
        check_ttl(ttl)
        self._write("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?)",
                    (namespace, owner, item, encode(value), time.time() + ttl))

    def put_many(self, writes: Sequence[Put],
                 deletes: Sequence[tuple[str, str]] = ()) -> None:
        if not checked_batch(writes, deletes):
            return
        now = time.time()
        with self._transaction() as conn:
            for w in writes:
                if w.item is None:
                    conn.execute("INSERT OR REPLACE INTO records VALUES (?, ?, ?, ?)",
                                 (w.namespace, w.key, encode(w.value), now + w.ttl))
                else:
                    conn.execute("INSERT OR REPLACE INTO items VALUES (?, ?, ?, ?, ?)",
                                 (w.namespace, w.key, w.item, encode(w.value), now + w.ttl))
            for namespace, key in deletes:
                conn.execute("DELETE FROM records WHERE namespace=? AND key=?",
                             (namespace, key))
        self._wrote()

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
        """Sweep a last time, stop this process's timer thread, close the connection."""
        sweeper, self._sweeper = self._sweeper, None
        if sweeper is not None and sweeper[0] == os.getpid():
            sweeper[2].set()
            self._written.set()  # wakes the thread now
            sweeper[1].join(timeout=5)
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            try:
                self.sweep()
            except StoreUnavailable as exc:
                logger.warning("embedded store: last sweep failed", extra={"detail": str(exc)})
            self.checkpoint(conn)
            conn.close()
        self._local.conn = None
