"""Production store on Redis: native TTLs, ``SET NX`` and ``GETDEL`` for atomicity.

An owner's collection is one hash. Redis 7.0 (Debian 12) has no per-field TTL,
so each field carries its own expiry, expired fields are dropped when read, and
the hash itself expires with its longest-lived item.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import redis

from .base import Put, Record, Store, StoreUnavailable, check_ttl, checked_batch
from .codec import decode, encode


class RedisStore(Store):
    def __init__(self, url: str, prefix: str = "ncc") -> None:
        self.url = url
        self.prefix = prefix
        # redis-py resets its pool after fork, so one client per process is safe under gunicorn.
        self._client = redis.Redis.from_url(
            url, socket_timeout=2, socket_connect_timeout=2, health_check_interval=30
        )

    def _key(self, namespace: str, key: str) -> str:
        return f"{self.prefix}:{namespace}:{key}"

    def _call(self, method: str, *args, **kwargs):
        try:
            return getattr(self._client, method)(*args, **kwargs)
        except redis.RedisError as exc:
            raise StoreUnavailable(f"redis store unavailable ({type(exc).__name__})") from exc

    def put(self, namespace: str, key: str, value: Record, ttl: int) -> None:
        check_ttl(ttl)
        self._call("set", self._key(namespace, key), encode(value), ex=ttl)

    def add(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        check_ttl(ttl)
        return bool(self._call("set", self._key(namespace, key), encode(value), ex=ttl, nx=True))

    def replace(self, namespace: str, key: str, value: Record, ttl: int) -> bool:
        check_ttl(ttl)
        return bool(self._call("set", self._key(namespace, key), encode(value), ex=ttl, xx=True))

    def get(self, namespace: str, key: str) -> Record | None:
        return decode(self._call("get", self._key(namespace, key)))

    def take(self, namespace: str, key: str) -> Record | None:
        return decode(self._call("getdel", self._key(namespace, key)))

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
