"""Production store on Redis: native TTLs, ``SET NX`` and ``GETDEL`` for atomicity.

An owner's collection is one hash. Redis 7.0 (Debian 12) has no per-field TTL,
so each field carries its own expiry, expired fields are dropped when read, and
the hash itself expires with its longest-lived item.

:class:`SentinelStore` is the same store on a Redis primary watched by Redis Sentinel
(``redis+sentinel://``): it follows a failover, and makes the one-time writes wait for a
replica so that a failover cannot bring back what was consumed.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from .base import Put, Record, Store, StoreUnavailable, check_ttl, checked_batch
from .codec import decode, encode


class RedisStore(Store):
    """``redis://`` store; ``client``: the redis-py client to use instead of one made from
    ``url`` (:class:`SentinelStore` gives its own)."""

    #: Replicas that must acknowledge a one-time write (``take`` that consumed something,
    #: ``add`` that recorded something) before it is reported done; 0: no wait.
    wait_replicas: int = 0
    #: How long ``WAIT`` waits for them, in milliseconds.
    wait_ms: int = 0

    def __init__(self, url: str, prefix: str = "ncc", client: redis.Redis | None = None) -> None:
        self.url = url
        self.prefix = prefix
        # redis-py resets its pool after fork, so one client per process is safe under gunicorn.
        self._client = client if client is not None else redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
        )

    @property
    def client(self) -> redis.Redis:
        """The redis-py client on the primary (for admin tools: :mod:`idp.stores.scan`)."""
        return self._client

    def _key(self, namespace: str, key: str) -> str:
        return f"{self.prefix}:{namespace}:{key}"

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(self._client, method)(*args, **kwargs)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis store unavailable ({type(exc).__name__})") from exc

    def _one_time(self, wrote: Callable[[Any], bool], method: str, *args: Any,
                  **kwargs: Any) -> Any:
        """Run a one-time write (``GETDEL``, ``SET NX``); with :attr:`wait_replicas`, in one
        pipeline with ``WAIT`` (one round trip), and when the
        write changed something (``wrote(reply)``) but fewer replicas acknowledged it, fail
        closed: replication is asynchronous, and a consumption only the primary knows of is
        undone by a failover. The record stays consumed (or recorded) on the primary — the
        safe direction: the login ends on the 503 page, nothing is handed out twice."""
        try:
            if not self.wait_replicas:
                return getattr(self._client, method)(*args, **kwargs)
            with self._client.pipeline(transaction=False) as pipe:
                getattr(pipe, method)(*args, **kwargs)
                pipe.wait(self.wait_replicas, self.wait_ms)
                reply, acked = pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis store unavailable ({type(exc).__name__})") from exc
        if wrote(reply) and int(acked) < self.wait_replicas:
            raise StoreUnavailable(
                f"redis store: a one-time write was acknowledged by {acked} of "
                f"{self.wait_replicas} replicas within {self.wait_ms} ms")
        return reply

    def put(self, namespace: str, key: str, value: Record, ttl: int) -> None:
        check_ttl(ttl)
        self._call("set", self._key(namespace, key), encode(value), ex=ttl)

    def add(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        check_ttl(ttl)
        return bool(self._one_time(bool, "set", self._key(namespace, key), encode(value),
                                   ex=ttl, nx=True))

    def replace(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        check_ttl(ttl)
        return bool(self._call("set", self._key(namespace, key), encode(value), ex=ttl, xx=True))

    def get(self, namespace: str, key: str) -> Record | None:
        return decode(self._call("get", self._key(namespace, key)))

    def take(self, namespace: str, key: str) -> Record | None:
        return decode(self._one_time(lambda raw: raw is not None, "getdel",
                                     self._key(namespace, key)))

    def delete(self, namespace: str, key: str) -> None:
        self._call("delete", self._key(namespace, key))

    def incr(self, namespace: str, key: str, ttl: int) -> tuple[int, int]:
        check_ttl(ttl)
        name = self._key(namespace, key)
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.incr(name)
                pipe.expire(name, ttl, nx=True)  # set once, at creation: the window is fixed
                pipe.ttl(name)
                count, _set, left = pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis store unavailable ({type(exc).__name__})") from exc
        return int(count), max(int(left), 0)

    def reset(self, namespace: str, key: str) -> None:
        self._call("delete", self._key(namespace, key))

    def count(self, namespace: str, key: str) -> tuple[int, int]:
        name = self._key(namespace, key)
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.get(name)
                pipe.ttl(name)
                raw, left = pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis store unavailable ({type(exc).__name__})") from exc
        if raw is None or int(left) <= 0:
            return 0, 0
        return int(raw), int(left)

    def put_item(self, namespace: str, owner: str, item: str, value: Record, ttl: int) -> None:
        check_ttl(ttl)
        key = self._key(namespace, owner)
        entry = encode({"exp": time.time() + ttl, "value": value})
        try:
            with self._client.pipeline(transaction=True) as pipe:
                pipe.hset(key, item, entry)
                pipe.expire(key, ttl, nx=True)  # a new hash gets a TTL...
                pipe.expire(key, ttl, gt=True)  # ...an existing one lives as long as its items
                pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis store unavailable ({type(exc).__name__})") from exc

    def put_many(self, writes: Sequence[Put],
                 deletes: Sequence[tuple[str, str]] = ()) -> None:
        if not checked_batch(writes, deletes):
            return
        now = time.time()
        try:
            with self._client.pipeline(transaction=True) as pipe:
                for w in writes:
                    key = self._key(w.namespace, w.key)
                    if w.item is None:
                        pipe.set(key, encode(w.value), ex=w.ttl)
                    else:  # as put_item
                        pipe.hset(key, w.item, encode({"exp": now + w.ttl, "value": w.value}))
                        pipe.expire(key, w.ttl, nx=True)
                        pipe.expire(key, w.ttl, gt=True)
                for namespace, key in deletes:
                    pipe.delete(self._key(namespace, key))
                pipe.execute()
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis store unavailable ({type(exc).__name__})") from exc

    def items(self, namespace: str, owner: str) -> dict[str, Record]:
        key = self._key(namespace, owner)
        raw = self._call("hgetall", key)
        now, out, expired = time.time(), {}, []
        for field, data in raw.items():
            entry = decode(data) or {}
            name = field.decode("utf-8") if isinstance(field, bytes) else str(field)
            if entry.get("exp", 0) <= now:
                expired.append(name)
            else:
                out[name] = entry["value"]
        if expired:
            self._call("hdel", key, *expired)
        return dict(sorted(out.items()))

    def delete_item(self, namespace: str, owner: str, item: str) -> bool:
        return bool(self._call("hdel", self._key(namespace, owner), item))

    def delete_owner(self, namespace: str, owner: str) -> None:
        self._call("delete", self._key(namespace, owner))

    def ping(self) -> None:
        self._call("ping")

    def close(self) -> None:
        self._client.close()


#: Seconds to open a connection to a sentinel or to the primary: a host that does not answer
#: is given up quickly, the login ends on the 503 page instead of hanging.
CONNECT_TIMEOUT = 0.5
#: Seconds to wait for one reply; ``wait_ms`` stays below it (a ``WAIT`` must end before).
REPLY_TIMEOUT = 2.0


@dataclass(frozen=True)
class SentinelSettings:
    """What a ``redis+sentinel://`` URL says (parsed by :mod:`idp.stores`)."""

    sentinels: tuple[tuple[str, int], ...]
    master: str
    db: int = 0
    #: Replicas that must acknowledge each one-time write; 0 turns the wait off.
    wait_replicas: int = 1
    wait_ms: int = 500


#: Seconds a failed connection is retried for, by operations whose replay is harmless.
RETRY_SECONDS = 2.0


def _retried(operation: Callable[..., Any]) -> Callable[..., Any]:
    """``operation`` of :class:`RedisStore`, tried again while the store cannot be *reached*
    (no primary known yet, connection refused or lost, primary demoted), with a backoff of
    0.1, 0.2, 0.4, 0.5… s for at most :data:`RETRY_SECONDS`: a request in progress survives
    a quick promotion. Only for operations whose replay is harmless (setting a value, reading,
    deleting): sent twice, they leave the store as sent once. A timeout (``TimeoutError``: a
    connection or a reply that did not come in time) is not retried: a primary that hangs or a
    host that is gone must not hold a login."""

    @functools.wraps(operation)
    def retried(self: RedisStore, *args: Any, **kwargs: Any) -> Any:
        deadline, delay = time.monotonic() + RETRY_SECONDS, 0.1
        while True:
            try:
                return operation(self, *args, **kwargs)
            except StoreUnavailable as exc:
                if (not isinstance(exc.__cause__, redis.ConnectionError)
                        or time.monotonic() + delay > deadline):
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)

    return retried


class SentinelStore(RedisStore):
    """The Redis store on the primary Redis Sentinel names, followed across a failover.

    redis-py's Sentinel client asks the sentinels for the primary when it opens a
    connection, and drops a connection whose primary was demoted. redis-py's own retries are
    off (they would retry everything, and its connects retry inside its commands' retries,
    multiplying the waits): operations whose replay is harmless are retried here, for at most
    :data:`RETRY_SECONDS` (:func:`_retried`); one-time operations (``take``, ``add``,
    ``incr``) are sent once — a ``GETDEL`` whose reply was lost may have consumed the record,
    sending it again could hand it out — and fail closed. So does ``delete_item``, whose answer
    (was it there?) a replay would change. Every redis-py error — ``MasterNotFoundError``
    while no primary is known, ``ConnectionError`` when it dies, ``ReadOnlyError`` (turned
    into a ``ConnectionError``) when it was demoted, ``TimeoutError`` — ends as
    :class:`StoreUnavailable`: the login stops on the 503 page.
    """

    def __init__(self, url: str, settings: SentinelSettings, prefix: str = "ncc") -> None:
        self.settings = settings
        self.wait_replicas = settings.wait_replicas
        self.wait_ms = settings.wait_ms
        timeouts = {"socket_timeout": REPLY_TIMEOUT, "socket_connect_timeout": CONNECT_TIMEOUT,
                    "retry": Retry(NoBackoff(), 0)}
        self._sentinel = Sentinel(list(settings.sentinels), sentinel_kwargs=timeouts,
                                  **timeouts)
        # No health-check PING: a connection the dead primary closed is found when taken from
        # the pool, and opened again to the primary the sentinels name.
        super().__init__(url, prefix, client=self._sentinel.master_for(
            settings.master, db=settings.db))

    put = _retried(RedisStore.put)
    replace = _retried(RedisStore.replace)
    get = _retried(RedisStore.get)
    delete = _retried(RedisStore.delete)
    count = _retried(RedisStore.count)
    reset = _retried(RedisStore.reset)
    put_item = _retried(RedisStore.put_item)
    items = _retried(RedisStore.items)
    delete_owner = _retried(RedisStore.delete_owner)
    put_many = _retried(RedisStore.put_many)
    ping = _retried(RedisStore.ping)

    def close(self) -> None:
        self._client.close()
        self._sentinel.close()
