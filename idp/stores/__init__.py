"""Store selection from a URL: ``sqlite:///path/to/file.db`` or ``redis://host:port/db``.

Plugins are built by SATOSA's loader from plain config dicts, so they receive
the store *URL* and resolve it here; one instance per URL per process.
"""

from __future__ import annotations

from urllib.parse import urlparse

from .base import Record, Store, StoreUnavailable

__all__ = ["Record", "Store", "StoreUnavailable", "open_store"]

_opened: dict[str, Store] = {}


def open_store(url: str) -> Store:
    store = _opened.get(url)
    if store is None:
        store = _build(url)
        _opened[url] = store
    return store


def _build(url: str) -> Store:
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        from .sqlite import SqliteStore

        path = url[len("sqlite://"):]
        if not path.startswith("/"):
            raise ValueError(f"store url {url!r}: use sqlite:///absolute/path.db")
        return SqliteStore(path)
    if scheme in ("redis", "rediss", "unix"):
        from .redis import RedisStore

        return RedisStore(url)
    raise ValueError(f"store url {url!r}: scheme must be sqlite:// or redis://")
