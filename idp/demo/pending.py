"""Short-lived records of logins in progress, kept in memory by one demo peer.

A demo peer is a single process serving threads, so a dict behind a lock is
enough; records expire and the store is bounded, so a stream of abandoned
logins cannot grow it without limit.
"""

from __future__ import annotations

import threading
import time
from typing import Any


class Pending:
    def __init__(self, ttl: int = 600, max_items: int = 10_000) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._items: dict[str, tuple[float, Any]] = {}
        self._lock = threading.Lock()

    def put(self, key: str, value: Any) -> None:
        now = time.monotonic()
        with self._lock:
            self._purge(now)
            while len(self._items) >= self.max_items:
                self._items.pop(next(iter(self._items)))
            self._items[key] = (now + self.ttl, value)

    def get(self, key: str) -> Any | None:
        with self._lock:
            item = self._items.get(key)
            if item is None or item[0] < time.monotonic():
                return None
            return item[1]

    def take(self, key: str) -> Any | None:
        """Get and delete at once: the second caller with the same key gets None."""
        with self._lock:
            item = self._items.pop(key, None)
        if item is None or item[0] < time.monotonic():
            return None
        return item[1]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def _purge(self, now: float) -> None:
        for key in [k for k, (exp, _) in self._items.items() if exp < now]:
            del self._items[key]
