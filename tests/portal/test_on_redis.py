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
    [holder] = Roles(redis_portal.store, 395).roles_of(account_key(redis_portal.store, browser))
    assert holder.role == "dpo"
    again = Browser().get(link)
    assert again.status_code == 410 and refusal_of(again) == "lien_invalide"
    listed = ncconnect("admin", "list", "--config", str(redis_portal.fed.config),
                       "--store", redis_server.url)
    assert listed.returncode == 0 and holder.account in listed.stdout and "dpo" in listed.stdout
    # Several pages, served by whichever worker: the session and the role are in the store.
    for _ in range(4):
        assert on_home(browser.get(f"{redis_portal.url}/admin/"))


def test_a_request_submitted_on_redis_reaches_the_administrators_queue(redis_portal):
    from bs4 import BeautifulSoup

    from plugins.frontends.admin import demandes, enrolment

    from .steps import post_form, request_fields

    member = Browser()
    link = enrolment.invite(redis_portal.store, "partner", 600, "commune-r").link(
        redis_portal.url)
    open_portal(member, link, CITIZENS[1])
    form = member.get(f"{redis_portal.url}/partenaires/demande")
    page = post_form(member, form, "form.formulaire-demande",
                     request_fields("https://r.example.nc/cb", "Commune R — piscine"))
    assert page.status_code == 200
    (request,) = demandes.Requests(redis_portal.store).of_organisation("commune-r")
    admin = Browser()
    open_portal(admin, enrolment.invite(redis_portal.store, "admin", 600).link(
        redis_portal.url), CITIZENS[0])
    for _ in range(3):  # whichever worker serves the page reads the same queue
        queue = BeautifulSoup(admin.get(f"{redis_portal.url}/admin/").text, "html.parser")
        assert queue.select_one(f"#table-file tr[data-request='{request.id}']") is not None
