"""The same portal on Redis: invitations and roles in the shared store, any worker serving."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idp.demo.citizens import CITIZENS
from idp.stores import open_store
from idp.testbed.browser import Browser
from idp.testbed.federation import build_federation
from plugins.frontends.admin.roles import Roles

from .conftest import Portal
from .steps import account_key, ncconnect, on_home, open_portal, refusal_of, role_shown


@pytest.fixture(scope="module")
def redis_portal(tmp_path_factory, redis_server) -> Iterator[Portal]:
    fed = build_federation(tmp_path_factory.mktemp("portail-redis"))
    try:
        fed.start_proxy(workers=2, store=redis_server.url)
        yield Portal(fed, fed.proxy_url, open_store(redis_server.url))
    finally:
        fed.stop()


def test_a_link_made_for_a_redis_store_works_once(redis_portal, redis_server):
    done = ncconnect("admin", "add", "--role", "dpo", "--hours", "1",
                     "--config", str(redis_portal.fed.config), "--store", redis_server.url)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    browser = Browser()
    page = open_portal(browser, link, CITIZENS[0])
    assert on_home(page) and role_shown(page) == "dpo"
    holder = Roles(redis_portal.store, 395).of(account_key(redis_portal.store, browser))
    assert holder is not None and holder.role == "dpo"
    again = Browser().get(link)
    assert again.status_code == 410 and refusal_of(again) == "lien_invalide"
    listed = ncconnect("admin", "list", "--config", str(redis_portal.fed.config),
                       "--store", redis_server.url)
    assert listed.returncode == 0 and holder.account in listed.stdout and "dpo" in listed.stdout
    # Several pages, served by whichever worker: the session and the role are in the store.
    for _ in range(4):
        assert on_home(browser.get(f"{redis_portal.url}/admin/"))
