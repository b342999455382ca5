"""The partner/admin portal's records, read as a copy of the store would be.

Per store (the embedded SQLite file, a Redis database), the proxy under gunicorn: an
administrator enrols with a one-time link, invites a partner organisation's member from the
console (and a second member who never comes: the invitation stays in the store), the member
signs in and submits a service request, the administrator approves it, the member generates
the client secret, then a new one from the service's page. Then every file of the embedded
store and every Redis key is scanned (:mod:`idp.stores.scan`) for every demo citizen's
values, the client secrets shown, the enrolment links' tokens and the portal's session
cookies: none may be readable without the token or cookie that opens it. The portal's
namespaces are checked to be in what was scanned, so "nothing found" means they were read.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import pytest
import redis
from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.stores import open_store
from idp.stores.scan import ScanReport, scan_redis, scan_sqlite
from idp.stores.sqlite import CHECKPOINT_DELAY
from idp.testbed.browser import Browser
from idp.testbed.federation import DEFAULT_SERVICES, build_federation
from plugins.frontends.admin import demandes, enrolment
from plugins.frontends.admin.frontend import COOKIE_NAME, PARTNER_COOKIE_NAME
from tests.at_rest.test_soak import personal_values
from tests.portal.steps import on_home, open_portal, post_form, request_fields

ADMIN, MEMBER = CITIZENS[0], CITIZENS[1]
ORG = "commune-coffre"
#: Every namespace the portal writes (records, items, counters).
PORTAL_NAMESPACES = ("portal-roles", "portal-invitation", "portal-session", "portal-requests",
                     "portal-request-queue", "portal-secret-generated", "registry")


@dataclass
class Journey:
    #: Bearer values and secrets: client secrets, enrolment tokens, portal cookies.
    secrets: list[str]
    request_id: str


def _token(link: str) -> str:
    return parse_qs(urlsplit(link).query)[enrolment.PARAMETER][0]


def _portal_cookies(browser: Browser) -> list[str]:
    names = {f"__Secure-{COOKIE_NAME}", f"__Secure-{PARTNER_COOKIE_NAME}"}
    return [c.value for c in browser.session.cookies if c.name in names and c.value]


def _shown(page, selector: str) -> str:
    tag = BeautifulSoup(page.text, "html.parser").select_one(selector)
    assert tag is not None, f"no {selector} at {page.url} ({page.status_code})"
    return tag.get_text().strip()


def _journey(url: str, store_url: str) -> Journey:
    store = open_store(store_url)
    admin = Browser()
    admin_link = enrolment.invite(store, "admin", 600).link(url)
    assert on_home(open_portal(admin, admin_link, ADMIN))
    home = admin.get(f"{url}/admin/")
    member_link = _shown(post_form(admin, home, "form#form-invitation", {"organisation": ORG}),
                         "#lien")
    spare_link = _shown(post_form(admin, admin.get(f"{url}/admin/"), "form#form-invitation",
                                  {"organisation": ORG}), "#lien")

    member = Browser()
    page = open_portal(member, member_link, MEMBER)
    assert urlsplit(page.url).path == "/partenaires/", page.url
    form = member.get(f"{url}/partenaires/demande")
    page = post_form(member, form, "form.formulaire-demande",
                     request_fields("https://coffre.example.nc/cb", "Coffre — bibliothèque"))
    assert page.status_code == 200 and "/partenaires/demandes/" in page.url, page.url
    request_id = page.url.rstrip("/").rsplit("/", 1)[1]

    decision = admin.get(f"{url}/admin/demandes/{ORG}/{request_id}")
    page = post_form(admin, decision, "form#form-decision", {"decision": "approuver"})
    assert page.status_code == 200
    request = demandes.Requests(store).of(ORG, request_id)
    assert request is not None and request.status == demandes.APPROVED

    page = member.get(f"{url}/partenaires/demandes/{request_id}")
    first = _shown(post_form(member, page, "form#form-secret"), "#client-secret")
    service = member.get(f"{url}/partenaires/services/{request.service_id}")
    second = _shown(post_form(member, service, "form#form-secret"), "#client-secret")
    assert first != second
    secrets = [first, second, *(_token(x) for x in (admin_link, member_link, spare_link)),
               *_portal_cookies(admin), *_portal_cookies(member)]
    assert len(secrets) == 7
    return Journey(secrets, request_id)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> Iterator[tuple]:
    folder = tmp_path_factory.mktemp("portail-coffre-sqlite")
    fed = build_federation(folder, {"rp-op": DEFAULT_SERVICES["rp-op"]})
    db = folder / "data" / "store.db"
    try:
        fed.start_proxy(workers=2)
        yield db, _journey(fed.proxy_url, f"sqlite://{db}")
    finally:
        fed.stop()


@pytest.fixture(scope="module")
def on_redis(tmp_path_factory, redis_server) -> Iterator[tuple]:
    url = redis_server.url.rsplit("/", 1)[0] + "/10"  # a database of its own on the server
    redis.Redis.from_url(url).flushdb()
    fed = build_federation(tmp_path_factory.mktemp("portail-coffre-redis"),
                           {"rp-op": DEFAULT_SERVICES["rp-op"]})
    try:
        fed.start_proxy(workers=2, store=url)
        yield url, _journey(fed.proxy_url, url)
    finally:
        fed.stop()


def _check(report: ScanReport) -> None:
    print(report.summary())
    assert report.clean, report.summary()


#: What the partner typed: organisation data, kept readable by design (the form shown again),
#: found by the same scan, so that "nothing found" above is not a scan that read nothing.
CONTROL = ["Coffre — bibliothèque", "dpo@dumbea.nc"]


def test_the_embedded_store_holds_no_citizen_value_and_no_secret_after_a_portal_journey(
        embedded):
    db, journey = embedded
    time.sleep(CHECKPOINT_DELAY + 1.5)  # the checkpoint that follows the last writes
    with sqlite3.connect(db) as conn:
        held = {row[0] for table in ("records", "items", "counters")
                for row in conn.execute(f"SELECT DISTINCT namespace FROM {table}")}  # noqa: S608
    assert set(PORTAL_NAMESPACES) <= held, set(PORTAL_NAMESPACES) - held

    _check(scan_sqlite(db, personal_values()))
    secrets = scan_sqlite(db, journey.secrets)
    assert secrets.strings == len(set(journey.secrets))
    _check(secrets)
    assert not scan_sqlite(db, CONTROL).clean


def test_every_redis_key_holds_no_citizen_value_and_no_secret_after_a_portal_journey(
        on_redis):
    url, journey = on_redis
    client = redis.Redis.from_url(url)
    keys = {k.decode() for k in client.scan_iter(count=500)}
    held = {k.split(":")[1] for k in keys}
    assert set(PORTAL_NAMESPACES) <= held, set(PORTAL_NAMESPACES) - held
    assert all(client.ttl(k) > 0 for k in keys)

    _check(scan_redis(url, personal_values()))
    secrets = scan_redis(url, journey.secrets)
    assert secrets.strings == len(set(journey.secrets))
    _check(secrets)
    control = scan_redis(url, CONTROL)
    assert set(control.found) == {f"redis ncc:portal-requests:{ORG}"}, control.summary()
