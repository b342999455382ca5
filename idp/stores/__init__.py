"""Store selection from a URL: ``sqlite:///path/to/file.db``, ``redis://host:port/db`` or
``redis+sentinel://host:port,host:port,host:port/mastername/db``.

``sqlite:///path.db?sweep_seconds=N`` sets how often each process sweeps expired rows of the
embedded store (60 s by default).

``redis+sentinel://…?wait_replicas=1&wait_ms=500`` (the defaults) makes every one-time write
wait for that many replicas, at most that long, or fail closed; ``wait_replicas=0`` turns the
wait off (a failover may then bring a consumed code back). See :class:`.redis.SentinelStore`.

Plugins are built by SATOSA's loader from plain config dicts, so they receive
the store *URL* and resolve it here; one instance per URL per process.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

from .base import Put, Record, Store, StoreUnavailable

if TYPE_CHECKING:
    from .redis import SentinelSettings

__all__ = ["Put", "Record", "Store", "StoreUnavailable", "build_store", "check_store_url",
           "close_all", "open_store"]

_opened: dict[str, Store] = {}


def open_store(url: str) -> Store:
    store = _opened.get(url)
    if store is None:
        store = build_store(url)
        _opened[url] = store
    return store


def close_all() -> None:
    """Close every store this process opened (an embedded store sweeps a last time): called
    at worker exit (:mod:`idp.gunicorn_app`)."""
    while _opened:
        _opened.popitem()[1].close()


def build_store(url: str) -> Store:
    """A new store for ``url``, never the process's cached one (:func:`open_store`): for a
    thread or a command that opens and closes its own."""
    parsed = urlparse(url)
    scheme = parsed.scheme
    if scheme == "sqlite":
        from .sqlite import SWEEP_SECONDS, SqliteStore

        path = url[len("sqlite://"):].split("?", 1)[0]
        if not path.startswith("/"):
            raise ValueError(f"store url {url!r}: use sqlite:///absolute/path.db")
        sweep = parse_qs(parsed.query).get("sweep_seconds", [str(SWEEP_SECONDS)])[0]
        try:
            return SqliteStore(path, sweep_seconds=float(sweep))
        except ValueError as exc:
            raise ValueError(f"store url {url!r}: sweep_seconds must be a positive number") \
                from exc
    if scheme in ("redis", "rediss", "unix"):
        from .redis import RedisStore

        return RedisStore(url)
    if scheme == "redis+sentinel":
        from .redis import SentinelStore

        return SentinelStore(url, _sentinel_settings(url))
    raise ValueError(f"store url {url!r}: scheme must be sqlite://, redis:// or "
                     "redis+sentinel://")


def check_store_url(url: str) -> None:
    """Raise ``ValueError`` naming the fix when ``url`` is not a store URL this proxy can
    open; nothing is connected to (the settings are checked before any store runs)."""
    if url == "embedded":
        return
    scheme = urlparse(url).scheme
    if scheme == "redis+sentinel":
        _sentinel_settings(url)
    elif scheme == "sqlite":
        if not url[len("sqlite://"):].startswith("/"):
            raise ValueError(f"store url {url!r}: use sqlite:///absolute/path.db")
    elif scheme not in ("redis", "rediss", "unix"):
        raise ValueError(f"store url {url!r}: scheme must be embedded, sqlite://, redis:// or "
                         "redis+sentinel://")


_SENTINEL_FORM = "redis+sentinel://host:port,host:port,host:port/mastername/db"
#: Query options of a sentinel URL: name -> (lowest, highest) accepted.
#: ``wait_ms`` stays below the store's 2 s reply timeout, so a ``WAIT`` ends before it.
_SENTINEL_OPTIONS = {"wait_replicas": (0, 16), "wait_ms": (1, 1500)}


def _sentinel_settings(url: str) -> SentinelSettings:
    """Parse ``redis+sentinel://h:p[,h:p…]/master[/db][?wait_replicas=N&wait_ms=M]``; every
    refusal names the part and the fix."""
    from .redis import SentinelSettings

    def refuse(problem: str) -> ValueError:
        return ValueError(f"store url {url!r}: {problem} (form: {_SENTINEL_FORM}"
                          "[?wait_replicas=1&wait_ms=500])")

    parsed = urlparse(url)
    if "@" in parsed.netloc:
        raise refuse("credentials in the URL are not supported: remove 'user:password@'")
    sentinels = []
    for part in parsed.netloc.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdecimal() or not 0 < int(port) < 65536:
            raise refuse(f"sentinel {part!r} must be host:port, e.g. 10.0.0.1:26379")
        sentinels.append((host.strip("[]"), int(port)))
    path = [p for p in parsed.path.split("/") if p]
    if not path or len(path) > 2:
        raise refuse("give the master name Sentinel monitors, then optionally the db number")
    db = path[1] if len(path) == 2 else "0"
    if not db.isdecimal():
        raise refuse(f"db {db!r} must be a whole number, e.g. /0")
    options: dict[str, int] = {}
    for name, values in parse_qs(parsed.query, keep_blank_values=True).items():
        if name not in _SENTINEL_OPTIONS:
            raise refuse(f"unknown option {name!r}: use wait_replicas or wait_ms")
        low, high = _SENTINEL_OPTIONS[name]
        if len(values) != 1 or not values[0].isdecimal() or not low <= int(values[0]) <= high:
            raise refuse(f"{name} must be a whole number from {low} to {high}")
        options[name] = int(values[0])
    return SentinelSettings(sentinels=tuple(sentinels), master=path[0], db=int(db), **options)
