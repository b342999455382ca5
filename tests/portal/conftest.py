"""One federation for the portal tests: the proxy under gunicorn (2 workers, the embedded
store shared with the tests and the command line, as on one host)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from idp.stores import Store, open_store
from idp.testbed.federation import Federation, build_federation


@dataclass(frozen=True)
class Portal:
    fed: Federation
    url: str
    #: The proxy's own store, opened by the test: seeding and checking go through its API.
    store: Store


@contextmanager
def portal_federation(folder: Path, services: dict | None = None,
                      portal_settings: dict | None = None,
                      pid_file: Path | None = None) -> Iterator[Portal]:
    """A demo federation (``services``: the demo RPs to start) served by gunicorn with two
    workers on the embedded store, ``portal_settings`` merged into its settings' ``portal``,
    ``pid_file`` given to ``serve --pid-file``; stopped on exit."""
    fed = build_federation(folder, services)
    if portal_settings:
        settings = yaml.safe_load(fed.config.read_text(encoding="utf-8"))
        settings["portal"] = {**settings.get("portal", {}), **portal_settings}
        fed.config.write_text(yaml.safe_dump(settings, allow_unicode=True), encoding="utf-8")
    try:
        fed.start_proxy(workers=2, pid_file=pid_file)
        yield Portal(fed, fed.proxy_url, open_store(f"sqlite://{fed.folder / 'data' / 'store.db'}"))
    finally:
        fed.stop()


@pytest.fixture(scope="session")
def portal(tmp_path_factory) -> Iterator[Portal]:
    with portal_federation(tmp_path_factory.mktemp("portail")) as found:
        yield found


@pytest.fixture(autouse=True)
def no_role_holders(request) -> None:
    """Each test starts with nobody holding a role (the demo has five citizens; tests reuse
    them, and a role one test bound must not let another test's citizen in)."""
    if "portal" in request.fixturenames:
        from plugins.frontends.admin.roles import NAMESPACE, OWNER

        request.getfixturevalue("portal").store.delete_owner(NAMESPACE, OWNER)
