"""``/metrics``: the exposition text, for a scraper holding the bearer token.

The token is the settings' ``metrics.bearer_token_env`` environment variable; the app keeps
its SHA-256 only and compares in constant time. Without a token configured the endpoint
does not exist (404). Under gunicorn, the values of every worker are added up from the
multiprocess folder (:mod:`.multiprocess`); the keys' ages are read at scrape time.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterable

from . import multiprocess

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def token_ok(authorization: str, expected_sha256: str | None) -> bool:
    if not expected_sha256 or not authorization.startswith("Bearer "):
        return False
    presented = hashlib.sha256(authorization[len("Bearer "):].strip().encode()).hexdigest()
    return hmac.compare_digest(presented, expected_sha256)


class KeyAges:
    """``ncc_key_age_seconds{purpose}``: how old each purpose's active key is (a collector:
    read at scrape time)."""

    def __init__(self, ages: Callable[[], Iterable[tuple[str, float]]]) -> None:
        self.ages = ages

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily

        family = GaugeMetricFamily("ncc_key_age_seconds",
                                   "Age of the active key of each purpose.", labels=["purpose"])
        for purpose, age in self.ages():
            family.add_metric([purpose], age)
        yield family


class _ThisProcess:
    """This process's own metrics (no gunicorn: the application driven in process)."""

    def collect(self):
        from prometheus_client.registry import REGISTRY

        yield from REGISTRY.collect()


def exposition(key_ages: Callable[[], Iterable[tuple[str, float]]] | None = None) -> bytes:
    from prometheus_client import CollectorRegistry, generate_latest

    registry = CollectorRegistry()
    if multiprocess.enabled():
        from prometheus_client import multiprocess as pm

        pm.MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    if key_ages is not None:
        registry.register(KeyAges(key_ages))
    return generate_latest(registry)
