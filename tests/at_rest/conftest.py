"""Both stores, real: a SQLite file in a temporary folder, the test run's redis-server."""

from __future__ import annotations

import pytest

from idp.stores import open_store
from idp.stores.sealing import AtRestKey


@pytest.fixture(params=["embedded", "redis"])
def store(request, tmp_path, redis_server):
    if request.param == "redis":
        return open_store(redis_server.url)
    return open_store(f"sqlite:///{tmp_path}/store.db")


@pytest.fixture
def at_rest():
    return AtRestKey(b"k" * 32)


@pytest.fixture
def other_at_rest():
    return AtRestKey(b"o" * 32)
