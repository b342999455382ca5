"""``/healthz`` and ``/readyz``: is the process alive, and can it serve logins.

``/healthz`` answers as long as the worker runs (a load balancer restarts what does not).
``/readyz`` is 200 only when the store answers, the keys the plugins sign and decrypt with
are there, and the registry was valid when the configuration was assembled (a worker serves
only an assembled configuration: a broken reload keeps the previous one). Each identity
source's reachability (a TCP connection to its host, one second at most, checked at most
every :data:`SOURCE_CHECK_SECONDS`) is reported too, but does not make the proxy unready:
the other sources still work, and the choice page says which one is down.

The answer is JSON with partner ids and words, never an address or a key.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

SOURCE_CHECK_SECONDS = 10.0
CONNECT_TIMEOUT = 1.0

Check = Callable[[], None]


def _reachable(url: str) -> bool:
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme in ("https", "ldaps") else
                          389 if parts.scheme == "ldap" else 80)
    try:
        with socket.create_connection((parts.hostname or "", port), timeout=CONNECT_TIMEOUT):
            return True
    except OSError:
        return False


class Readiness:
    """``checks``: name -> a function raising when that part is not ready; ``sources``:
    source id -> an address of it (issuer, metadata or directory URL)."""

    def __init__(self, checks: Mapping[str, Check], sources: Mapping[str, str]) -> None:
        self.checks = dict(checks)
        self.sources = dict(sources)
        self._lock = threading.Lock()
        self._sources_at = 0.0
        self._sources: dict[str, str] = {}

    def _source_states(self) -> dict[str, str]:
        with self._lock:
            if time.monotonic() - self._sources_at < SOURCE_CHECK_SECONDS:
                return dict(self._sources)
        with ThreadPoolExecutor(max_workers=min(8, max(1, len(self.sources)))) as pool:
            states = dict(zip(self.sources, pool.map(_reachable, self.sources.values()),
                              strict=True))
        result = {sid: "joignable" if ok else "injoignable" for sid, ok in states.items()}
        with self._lock:
            self._sources, self._sources_at = result, time.monotonic()
        return result

    def report(self) -> tuple[bool, str]:
        """(ready, JSON body)."""
        checks: dict[str, str] = {}
        for name, check in self.checks.items():
            try:
                check()
            except Exception as exc:  # noqa: BLE001 - any failure is "not ready", named
                checks[name] = f"ko: {type(exc).__name__}"
            else:
                checks[name] = "ok"
        ready = all(v == "ok" for v in checks.values())
        body = {"ready": ready, "checks": checks, "sources": self._source_states()}
        return ready, json.dumps(body, ensure_ascii=False, sort_keys=True)
