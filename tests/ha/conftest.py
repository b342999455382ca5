"""Redis Sentinel clusters (primary, two replicas, three sentinels: Debian's redis-server and
redis-sentinel on free loopback ports, stopped by PID) and a federation whose proxy runs on
one of them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.federation import Federation, build_federation
from idp.testbed.sentinel import SentinelCluster


@pytest.fixture(scope="session")
def shared_cluster(tmp_path_factory) -> Iterator[SentinelCluster]:
    """One cluster for tests that do not kill its primary."""
    cluster = SentinelCluster(tmp_path_factory.mktemp("sentinel"))
    yield cluster
    cluster.stop()


@pytest.fixture
def cluster(tmp_path) -> Iterator[SentinelCluster]:
    """A cluster of its own, for a test that kills the primary."""
    cluster = SentinelCluster(tmp_path / "sentinel")
    yield cluster
    cluster.stop()


@pytest.fixture(scope="module")
def peers(tmp_path_factory) -> Iterator[Federation]:
    """The demo peers and the proxy's configuration; each failover test starts the proxy on
    its own cluster (same port, same partners)."""
    federation = build_federation(tmp_path_factory.mktemp("federation"))
    try:
        yield federation
    finally:
        federation.stop()


@pytest.fixture
def fed(peers: Federation, cluster: SentinelCluster) -> Iterator[Federation]:
    """The proxy under gunicorn (two workers) on ``cluster``."""
    peers.start_proxy(workers=2, store=cluster.url())
    try:
        yield peers
    finally:
        peers.proxy.stop()
        peers.proxy = None


@pytest.fixture
def citizen():
    return CITIZENS[0]
