"""One federation for the observability tests: the proxy under gunicorn with 2 workers on a
real Redis, ``/metrics`` behind a bearer token, and a second host (its own data folder, so
its own audit files) on the same store, as behind a load balancer."""

from __future__ import annotations

import secrets

import pytest
import yaml

from idp.testbed.federation import build_federation

TOKEN_ENV = "NCC_TEST_METRICS_TOKEN"


@pytest.fixture(scope="package")
def fed(tmp_path_factory, redis_server):
    federation = build_federation(tmp_path_factory.mktemp("observability"), log_level="INFO")
    settings = yaml.safe_load(federation.config.read_text(encoding="utf-8"))
    settings["metrics"] = {"bearer_token_env": TOKEN_ENV}
    federation.config.write_text(yaml.safe_dump(settings), encoding="utf-8")
    federation.env[TOKEN_ENV] = secrets.token_urlsafe(32)
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture(scope="package")
def second_host(fed, redis_server):
    proxy = fed.second_host(redis_server.url)
    try:
        yield proxy
    finally:
        proxy.stop()


@pytest.fixture(scope="package")
def token(fed) -> str:
    return fed.env[TOKEN_ENV]
