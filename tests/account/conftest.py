"""One federation (real peers) for the account tests; the proxy under gunicorn on the embedded
store or on a real redis-server — the history and consent listings run on both."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from idp.stores import Store, open_store
from idp.testbed.federation import Federation, build_federation


@dataclass(frozen=True)
class Proxy:
    fed: Federation
    url: str
    #: The proxy's own store, opened by the test: seeding and checking go through its API.
    store: Store
    kind: str


@pytest.fixture(scope="session")
def account_federation(tmp_path_factory) -> Iterator[Federation]:
    federation = build_federation(tmp_path_factory.mktemp("compte"))
    try:
        yield federation
    finally:
        federation.stop()


@pytest.fixture(scope="session", params=["embedded", "redis"])
def proxy(request, account_federation: Federation) -> Iterator[Proxy]:
    fed = account_federation
    if request.param == "redis":
        url = request.getfixturevalue("redis_server").url
        fed.start_proxy(workers=2, store=url)
    else:
        url = f"sqlite://{fed.folder / 'data' / 'store.db'}"
        fed.start_proxy(workers=2)
    try:
        yield Proxy(fed, fed.proxy_url, open_store(url), request.param)
    finally:
        fed.proxy.stop()
        fed.proxy = None
