"""Store selection from a URL: ``sqlite:///path/to/file.db`` or ``redis://host:port/db``.

``sqlite:///path.db?sweep_seconds=N`` sets how often each process sweeps expired rows of the
embedded store (60 s by default).

Plugins are built by SATOSA's loader from plain config dicts, so they receive
the store *URL* and resolve it here; one instance per URL per process.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlparse

from .base import Put, Record, Store, StoreUnavailable

__all__ = ["Put", "Record", "Store", "StoreUnavailable", "close_all", "open_store"]

_opened: dict[str, Store] = {}


def open_store(url: str) -> Store:
    store = _opened.get(url)
    if store is None:
        store = _build(url)
        _opened[url] = store
    return store


def close_all() -> None:
    """Close every store this process opened (an embedded store sweeps a last time): called
    at worker exit (:mod:`idp.gunicorn_app`)."""
    while _opened:
        _opened.popitem()[1].close()


def _build(url: str) -> Store:
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
    raise ValueError(f"store url {url!r}: scheme must be sqlite:// or redis://")
