"""The registry generation: one counter in the shared store that every registry change bumps
and every host's gunicorn master watches, so that all hosts sharing a partner folder reload
within a poll interval of a change, not only the host where it was made.

``bump`` is called after a change is written and validated (``ncconnect partenaires reload``,
the admin portal's approval); :class:`Watcher` runs in each master and sends SIGHUP to it when
the number differs from the one it last saw. The number says *that* something changed, never
*what*: the partner files (shared folder) stay the only source of the registry.

The counter expires like every item of the store: :data:`TTL` (400 days) after its first
bump, since the store never extends a counter's TTL. Watchers compare for inequality, not
order, so an expiry is still a change: they read 0 instead of the N they saw and every host
reloads once (harmless: the files did not change), and the next bump starts again at 1,
again different from what they saw. No watcher ever waits for a number to grow.

Each master takes the first value it reads, right after it started, as what it loaded; a
bump in the instant between its reading the files and that read is served at its next
reload. A master that could not read the store at start reloads once at its first read.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable

from ..stores import Store
from ..stores.sqlite import SqliteStore

logger = logging.getLogger("ncconnect.reload")

NAMESPACE = "registry"
KEY = "generation"
#: Seconds the counter lives after its creation (the store's TTL is never extended by
#: ``incr``): long enough that it practically never restarts, and harmless when it does.
TTL = 400 * 86400


def bump(store: Store) -> int:
    """Record a registry change; the new generation. Raises
    :class:`idp.stores.StoreUnavailable` when the store cannot be reached (other hosts then
    see the change only at their next reload, whatever sends it)."""
    return store.incr(NAMESPACE, KEY, TTL)[0]


def current(store: Store) -> int:
    """The generation now (0 when never bumped or expired)."""
    return store.count(NAMESPACE, KEY)[0]


def bump_url(url: str) -> int:
    """:func:`bump` on the store at ``url`` from a short-lived process (the command line): a
    store instance of its own, closed before returning, so the caller's cached stores
    (:func:`idp.stores.open_store`) are left alone. Raises
    :class:`idp.stores.StoreUnavailable` (unreachable) or ``ValueError`` (not a store URL)."""
    store = _private_store(url)
    try:
        return bump(store)
    finally:
        store.close()


# Every store access of a watcher holds this lock, and so does every fork of the process
# (``os.register_at_fork``): gunicorn forks workers while the watcher thread runs in the
# master, and a child forked while a thread is inside SQLite or redis-py could inherit a
# held internal lock.
_FORK_LOCK = threading.Lock()
os.register_at_fork(before=_FORK_LOCK.acquire, after_in_parent=_FORK_LOCK.release,
                    after_in_child=_FORK_LOCK.release)


class _MasterSqliteStore(SqliteStore):
    """The embedded store without its housekeeping thread: in the gunicorn master, every
    SQLite call is the watcher's, made under ``_FORK_LOCK``; a timer thread there would enter
    SQLite while a worker is forked (the workers sweep and checkpoint, each its own)."""

    def _start_sweeper(self) -> None:
        return


def _private_store(url: str) -> Store:
    """A store instance of the caller's own, never the process's cached one
    (:func:`idp.stores.open_store`), whose connections workers inherit at fork."""
    from ..stores import build_store

    if url.startswith("sqlite://"):
        path = url[len("sqlite://"):].split("?", 1)[0]
        if not path.startswith("/"):
            raise ValueError(f"store url {url!r}: use sqlite:///absolute/path.db")
        return _MasterSqliteStore(path)
    return build_store(url)


class Watcher:
    """A daemon thread of the gunicorn master reading :func:`current` every
    ``poll_seconds`` and calling ``on_change`` (by default SIGHUP to this process) when it
    differs from the last value seen. It opens its own store in the thread and closes it
    when stopped. A store outage is logged once, as a warning, and polling goes on: the
    master keeps serving the configuration it has."""

    def __init__(self, url: str, poll_seconds: float,
                 on_change: Callable[[], None] | None = None) -> None:
        self.url = url
        self.poll_seconds = poll_seconds
        self.on_change = on_change or (lambda: os.kill(os.getpid(), signal.SIGHUP))
        #: The last generation seen; ``None`` until the first read (the baseline).
        self.seen: int | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._sync_requests: list[threading.Event] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ncc-registry-watcher",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        """Stop polling and close the store; a read blocked on an unreachable store does not
        hold the master's exit longer than ``timeout`` (the thread is a daemon)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def configure(self, url: str, poll_seconds: float) -> None:
        """New settings after a reload: another store URL is opened at the next poll (its
        first read is a new baseline: another store's number says nothing about ours)."""
        with self._lock:
            self.url, self.poll_seconds = url, poll_seconds

    def reloading(self, timeout: float = 3.0) -> None:
        """Called by the master as a reload starts, *before* it reads the partner files: the
        generation read now is taken as seen, so the change that caused the reload (this
        host's own bump, or a SIGHUP from the command line) does not cause a second one,
        while a bump after this moment still does. Waits at most ``timeout`` for the read
        (a store outage does not hold the reload)."""
        if self._thread is None or not self._thread.is_alive():
            return
        done = threading.Event()
        with self._lock:
            self._sync_requests.append(done)
        self._wake.set()
        done.wait(timeout)

    def _run(self) -> None:
        store: Store | None = None
        opened_url = ""
        warned = False
        # Unreadable before any baseline (store down at start): the first value read may
        # already include a change this master never loaded, so it reloads once then.
        blind = False
        try:
            while not self._stop.is_set():
                self._wake.clear()
                with self._lock:
                    url, poll = self.url, self.poll_seconds
                    syncs, self._sync_requests = self._sync_requests, []
                try:
                    with _FORK_LOCK:
                        if store is None or url != opened_url:
                            if store is not None:
                                with contextlib.suppress(Exception):  # the old store's fate
                                    store.close()
                                store = None
                            store = _private_store(url)
                            if opened_url != url:
                                self.seen = None  # another store: its first read is a baseline
                            opened_url = url
                        value = current(store)
                except Exception as exc:  # noqa: BLE001 - an outage never stops the master
                    if not warned:
                        # Neither the store URL (it may name hosts) nor the message: the kind
                        # of failure says enough, and no personal data is involved.
                        logger.warning("registry generation unreadable: this host reloads "
                                       "only on SIGHUP until the store answers",
                                       extra={"problem": type(exc).__name__})
                        warned = True
                    blind = blind or self.seen is None
                else:
                    if warned:
                        logger.warning("registry generation readable again")
                        warned = False
                    if syncs or (self.seen is None and not blind):
                        self.seen = value  # what this master just loaded, or loaded at start
                    elif value != self.seen:
                        self.seen = value
                        logger.warning("registry generation changed: reloading",
                                       extra={"generation": value})
                        self.on_change()
                    blind = False
                for done in syncs:
                    done.set()
                self._wake.wait(poll)
        except Exception as exc:  # noqa: BLE001 - the watcher never takes the master down
            logger.error("registry watcher stopped: this host reloads only on SIGHUP",
                         extra={"problem": type(exc).__name__})
        finally:
            if store is not None:
                with _FORK_LOCK, contextlib.suppress(Exception):  # at exit: nothing else to do
                    store.close()
