"""Production store on Redis: native TTLs, ``SET NX`` and ``GETDEL`` for atomicity."""

from __future__ import annotations

import redis

from .base import Record, Store, StoreUnavailable, check_ttl
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

    def get(self, namespace: str, key: str) -> Record | None:
        return decode(self._call("get", self._key(namespace, key)))

    def take(self, namespace: str, key: str) -> Record | None:
        return decode(self._call("getdel", self._key(namespace, key)))

    def delete(self, namespace: str, key: str) -> None:
        self._call("delete", self._key(namespace, key))

    def ping(self) -> None:
        self._call("ping")

    def close(self) -> None:
        self._client.close()
