"""The one storage contract every piece of flow state goes through.

Any gunicorn worker must be able to serve any step of a login, so nothing that
outlives a request may sit in a per-process dict. Each record lives in a
*namespace* (``oidc-code``, ``saml-outstanding``, ``flow``...), carries a TTL,
and is JSON-serialisable. ``take`` and ``add`` are atomic across processes:
they are what makes codes, assertions and flow steps one-time.

They are also *durable before they return*, on every store: once ``take`` has handed a
record out or ``add`` has recorded a key, no failure of the store brings the record back or
forgets the key. The embedded store (SQLite) gets this for nothing: one local file, written
synchronously. A replicated store must make it so: the sentinel store
(:class:`.redis.SentinelStore`) waits for a replica to acknowledge the write (``WAIT``) and
raises :class:`StoreUnavailable` when none does — the record then stays consumed, the safe
direction. Every other write (``put``, ``replace``, ``put_many``, ``delete``...) may be lost
by a replicated store's failover: a login then starts again, a citizen signs in again.

Some records belong to someone and must be listed together: a citizen's consents,
connection history and sessions. Those are *items* of an *owner*'s collection,
each with its own TTL, so that a consent expires on its own date and history
older than the retention period disappears without a cleanup job.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Record = dict[str, Any]

#: Upper bound on one serialised record: flow state is small, a record this
#: large is a bug or an attack, never a login.
MAX_RECORD_BYTES = 256 * 1024


@dataclass(frozen=True)
class Put:
    """One write of :meth:`Store.put_many`: :meth:`Store.put` of ``key`` when ``item`` is
    ``None``, otherwise :meth:`Store.put_item` of ``item`` in the collection of ``key`` (the
    owner)."""

    namespace: str
    key: str
    value: Record
    ttl: int
    item: str | None = None


class StoreUnavailable(RuntimeError):
    """The backing store cannot be reached; the login must stop cleanly."""


class Store(abc.ABC):
    """Shared key/value store with TTLs and one-time reads."""

    @abc.abstractmethod
    def put(self, namespace: str, key: str, value: Record, ttl: int) -> None:
        """Store ``value`` under ``key``, replacing any previous one, for ``ttl`` seconds."""

    @abc.abstractmethod
    def add(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        """Store only if absent; ``False`` means the key was already there (a replay). A
        ``True`` survives any failure of the store (see the module's docstring), or the call
        raises :class:`StoreUnavailable`."""

    @abc.abstractmethod
    def replace(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        """Store only if present, atomically; ``False`` when the key is gone (taken, deleted or
        expired): what was ended is never brought back by a late update."""

    @abc.abstractmethod
    def get(self, namespace: str, key: str) -> Record | None:
        """Read without consuming; ``None`` when absent or expired."""

    @abc.abstractmethod
    def take(self, namespace: str, key: str) -> Record | None:
        """Read and delete in one atomic step: only one caller ever gets the record, even
        across a failure of the store (see the module's docstring); when that cannot be
        ensured, :class:`StoreUnavailable` is raised and the record stays consumed."""

    @abc.abstractmethod
    def delete(self, namespace: str, key: str) -> None:
        """Forget ``key``; absent keys are not an error."""

    @abc.abstractmethod
    def incr(self, namespace: str, key: str, ttl: int) -> tuple[int, int]:
        """Add one to the counter ``key`` atomically across processes and return (the new
        count, seconds until it expires). The TTL is set when the counter is created and never
        extended: N failures within a window count, the window does not slide (lockouts and
        rate limits end when they say)."""

    @abc.abstractmethod
    def count(self, namespace: str, key: str) -> tuple[int, int]:
        """(count, seconds left) of the counter ``key``; (0, 0) when absent or expired."""

    @abc.abstractmethod
    def reset(self, namespace: str, key: str) -> None:
        """Forget the counter ``key`` (e.g. a login's failures once it succeeds); absent
        counters are not an error."""

    @abc.abstractmethod
    def put_item(self, namespace: str, owner: str, item: str, value: Record, ttl: int) -> None:
        """Store ``value`` as ``item`` of ``owner``'s collection, replacing it, for ``ttl`` s."""

    @abc.abstractmethod
    def items(self, namespace: str, owner: str) -> dict[str, Record]:
        """Every unexpired item of ``owner``, keyed and sorted by item name."""

    @abc.abstractmethod
    def delete_item(self, namespace: str, owner: str, item: str) -> bool:
        """Forget one item; ``False`` when it was not there."""

    @abc.abstractmethod
    def delete_owner(self, namespace: str, owner: str) -> None:
        """Forget ``owner``'s whole collection."""

    def put_many(self, writes: Sequence[Put],
                 deletes: Sequence[tuple[str, str]] = ()) -> None:
        """Several ``put`` and ``put_item`` written together, in order, then the records
        ``deletes`` (namespace, key) forgotten: on Redis one ``MULTI/EXEC`` (one round trip),
        on SQLite one transaction; either way all of it or, on a failure
        (:class:`StoreUnavailable`), none. Records written together on a login (a session and
        its index entry, a service and its link, a request's records and its flow state) go
        through here. This default writes them one by one."""
        for w in writes:
            check_ttl(w.ttl)
        for w in writes:
            if w.item is None:
                self.put(w.namespace, w.key, w.value, w.ttl)
            else:
                self.put_item(w.namespace, w.key, w.item, w.value, w.ttl)
        for namespace, key in deletes:
            self.delete(namespace, key)

    @abc.abstractmethod
    def ping(self) -> None:
        """Raise :class:`StoreUnavailable` when the store cannot serve requests."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections; the default has none to release."""


def check_ttl(ttl: int) -> None:
    if ttl <= 0:
        raise ValueError(f"ttl must be a positive number of seconds, got {ttl}")


def checked_batch(writes: Sequence[Put], deletes: Sequence[tuple[str, str]]) -> bool:
    """Check a :meth:`Store.put_many` batch before anything is written (every TTL positive);
    ``False`` when there is nothing to do."""
    for w in writes:
        check_ttl(w.ttl)
    return bool(writes or deletes)
