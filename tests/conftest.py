"""Fixtures shared by the whole suite: a real redis-server started by the test run."""

from __future__ import annotations

import pytest

from idp.testbed.servers import RedisServer


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()
