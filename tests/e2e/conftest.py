"""One federation for the end-to-end tests: real peers, the proxy under gunicorn with three
workers, sharing a real redis-server started by the test run."""

from __future__ import annotations

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.federation import build_federation


@pytest.fixture(scope="session")
def fed(tmp_path_factory, redis_server):
    federation = build_federation(tmp_path_factory.mktemp("federation"))
    try:
        federation.start_proxy(workers=3, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture
def citizen():
    return CITIZENS[0]
