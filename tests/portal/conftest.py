"""One federation for the portal tests: the proxy under gunicorn (2 workers, the embedded
store shared with the tests and the command line, as on one host)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from idp.stores import Store, open_store
from idp.testbed.federation import Federation, build_federation


@dataclass(frozen=True)
class Portal:
    fed: Federation
    url: str
    #: The proxy's own store, opened by the test: seeding and checking go through its API.
    store: Store


@pytest.fixture(scope="session")
def portal(tmp_path_factory) -> Iterator[Portal]:
    fed = build_federation(tmp_path_factory.mktemp("portail"))
    try:
        fed.start_proxy(workers=2)
        yield Portal(fed, fed.proxy_url, open_store(f"sqlite://{fed.folder / 'data' / 'store.db'}"))
    finally:
        fed.stop()


@pytest.fixture(autouse=True)
def no_role_holders(request) -> None:
    """Each test starts with nobody holding a role (the demo has five citizens; tests reuse
    them, and a role one test bound must not let another test's citizen in)."""
    if "portal" in request.fixturenames:
        from plugins.frontends.admin.roles import NAMESPACE, OWNER

        request.getfixturevalue("portal").store.delete_owner(NAMESPACE, OWNER)
