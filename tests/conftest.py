"""Fixtures shared by the whole suite: a real redis-server started by the test run, and one
Debian Chromium (Playwright's sync API allows one running instance per thread, so every
browser test folder shares this one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from idp.testbed.chromium import ChromiumMissing, chromium, chromium_executable
from idp.testbed.servers import RedisServer

if TYPE_CHECKING:  # imported by idp.testbed.chromium at launch, with a clear error if missing
    from playwright.sync_api import Browser


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    """Nothing skips: without Chromium (or Playwright) the test fails, saying to run
    scripts/setup.sh."""
    try:
        chromium_executable()
    except ChromiumMissing as exc:
        pytest.fail(str(exc), pytrace=False)
    with chromium() as browser:
        yield browser
