"""The partner/admin portal while its Redis store is down, and once it is back.

A federation of its own (approvals write into its ``partenaires/``), the proxy under gunicorn
(two workers) on a real redis-server the test stops and starts again on the same port. The
server is told to ``SAVE`` before it stops, so it comes back with what it held (a Redis with
persistence restarting): sessions and roles survive, and the same browsers carry on.

While the store is down every portal page and POST answers the French "temporarily
unavailable" page (503, never 500) and writes nothing into ``partenaires/``; once it is back
each works. Then the states a failure *between* the partner file and the store can leave
(stopping Redis at that very moment is not reproducible): the retry recognises them.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
import redis
import requests
import yaml
from bs4 import BeautifulSoup
from satosa.context import Context

from idp.assemble import _admin_frontend
from idp.demo.citizens import CITIZENS
from idp.settings import load_settings
from idp.stores import Store, StoreUnavailable, open_store
from idp.testbed.browser import Browser, error_code_of
from idp.testbed.federation import DEFAULT_SERVICES, Federation, build_federation
from idp.testbed.servers import RedisServer
from plugins.frontends.admin import demandes, enrolment
from plugins.frontends.admin.frontend import AdminFrontend
from plugins.frontends.admin.workflow import SECRET_ONCE
from tests.portal.steps import on_home, open_portal, post_form, request_fields

ADMIN, MEMBER = CITIZENS[0], CITIZENS[1]
ORG = "commune-panne"
REQUEST_FORM = "form.formulaire-demande"


class Outage:
    """A redis-server that can be stopped and started again where the proxy expects it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.server = RedisServer(folder)

    @property
    def url(self) -> str:
        return self.server.url

    def stop(self) -> None:
        client = redis.Redis.from_url(self.server.url)
        client.save()  # what a persistent Redis keeps across a restart
        client.close()
        self.server.stop()

    def start(self) -> None:
        self.server = RedisServer(self.folder, port=self.server.port)


@dataclass
class Portal:
    fed: Federation
    url: str
    store: Store
    redis: Outage

    @property
    def partners(self) -> Path:
        return self.fed.folder / "partenaires"


@pytest.fixture(scope="module")
def portal(tmp_path_factory) -> Iterator[Portal]:
    outage = Outage(tmp_path_factory.mktemp("redis-portail"))
    fed = build_federation(tmp_path_factory.mktemp("portail-panne"),
                           {"rp-op": DEFAULT_SERVICES["rp-op"]})
    try:
        fed.start_proxy(workers=2, store=outage.url)
        yield Portal(fed, fed.proxy_url, open_store(outage.url), outage)
    finally:
        fed.stop()
        outage.server.stop()


def admin_browser(portal: Portal) -> Browser:
    browser = Browser()
    invitation = enrolment.invite(portal.store, "admin", 600)
    assert on_home(open_portal(browser, invitation.link(portal.url), ADMIN))
    return browser


def member_browser(portal: Portal) -> Browser:
    browser = Browser()
    invitation = enrolment.invite(portal.store, "partner", 600, ORG)
    page = open_portal(browser, invitation.link(portal.url), MEMBER)
    assert urlsplit(page.url).path == "/partenaires/" and page.status_code == 200, page.url
    return browser


def submitted(portal: Portal, member: Browser, name: str, host: str
              ) -> demandes.ServiceRequest:
    form = member.get(f"{portal.url}/partenaires/demande")
    page = post_form(member, form, REQUEST_FORM,
                     request_fields(f"https://{host}.example.nc/cb", name))
    assert page.status_code == 200 and "/partenaires/demandes/" in page.url, page.url
    request_id = page.url.rstrip("/").rsplit("/", 1)[1]
    request = demandes.Requests(portal.store).of(ORG, request_id)
    assert request is not None and request.status == demandes.SUBMITTED
    return request


def approve(portal: Portal, admin: Browser, request: demandes.ServiceRequest
            ) -> requests.Response:
    page = admin.get(f"{portal.url}/admin/demandes/{ORG}/{request.id}")
    assert page.status_code == 200
    return post_form(admin, page, "form#form-decision", {"decision": "approuver"})


def approved(portal: Portal, admin: Browser, member: Browser, name: str, host: str
             ) -> demandes.ServiceRequest:
    request = submitted(portal, member, name, host)
    page = approve(portal, admin, request)
    assert page.status_code == 200, BeautifulSoup(page.text, "html.parser").select_one(
        "#probleme")
    done = demandes.Requests(portal.store).of(ORG, request.id)
    assert done is not None and done.status == demandes.APPROVED and done.service_id
    return done


def unavailable(page: requests.Response) -> bool:
    """The French "temporarily unavailable" page, saying what to do."""
    return page.status_code == 503 and error_code_of(page) == "service_indisponible" \
        and "Réessayez dans quelques minutes" in page.text


def files_of(portal: Portal) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(portal.partners.glob("*"))
            if p.is_file()}


def shown_secret(page: requests.Response) -> str | None:
    tag = BeautifulSoup(page.text, "html.parser").select_one("#client-secret")
    return tag.get_text() if tag is not None else None


def sha256_in_file(portal: Portal, service_id: str) -> str:
    data = yaml.safe_load((portal.partners / f"{service_id}.yaml").read_text(encoding="utf-8"))
    return data["oidc"]["client_secret_sha256"]


def written_for(portal: Portal, request_id: str) -> list[str]:
    """The partner files whose header names this request."""
    return [p.name for p in portal.partners.glob("*.yaml")
            if f"from demande-{request_id} on " in p.read_text(encoding="utf-8")]


def test_every_portal_page_and_post_answers_503_while_redis_is_down_then_works(portal):
    admin, member = admin_browser(portal), member_browser(portal)
    done = approved(portal, admin, member, "Panne — piscine", "piscine")
    pending = submitted(portal, member, "Panne — médiathèque", "mediatheque")
    service_url = f"{portal.url}/partenaires/services/{done.service_id}"
    request_page = member.get(f"{portal.url}/partenaires/demandes/{done.id}")
    service_page = member.get(service_url)
    decision_page = admin.get(f"{portal.url}/admin/demandes/{ORG}/{pending.id}")
    new_form = member.get(f"{portal.url}/partenaires/demande")
    for page in (request_page, service_page, decision_page, new_form):
        assert page.status_code == 200, page.url
    before = files_of(portal)
    log_start = len(portal.fed.log_lines())

    portal.redis.stop()
    try:
        answers = {
            "admin home": admin.get(f"{portal.url}/admin/"),
            "request page (admin)": admin.get(
                f"{portal.url}/admin/demandes/{ORG}/{pending.id}"),
            "decision": post_form(admin, decision_page, "form#form-decision",
                                  {"decision": "approuver"}),
            "partner home": member.get(f"{portal.url}/partenaires/"),
            "request page (partner)": member.get(
                f"{portal.url}/partenaires/demandes/{done.id}"),
            "new request": post_form(member, new_form, REQUEST_FORM,
                                     request_fields("https://neuf.example.nc/cb",
                                                    "Panne — cantine")),
            "service page": member.get(service_url),
            "secret regeneration": post_form(member, service_page, "form#form-secret"),
            "first secret": post_form(member, request_page, "form#form-secret"),
        }
        wrong = {what: (page.status_code, error_code_of(page))
                 for what, page in answers.items() if not unavailable(page)}
        assert wrong == {}
        for page in answers.values():
            assert shown_secret(page) is None
        assert files_of(portal) == before, "a partner file changed during the outage"
    finally:
        portal.redis.start()

    lines = portal.fed.log_lines()[log_start:]
    assert [line for line in lines if "exc_type" in line] == []
    outage_lines = [line for line in lines if line.get("event") == "store unavailable"]
    assert len(outage_lines) >= len(answers)
    said = str(outage_lines)
    assert not [v for c in (ADMIN, MEMBER) for v in c.claims.values() if v and str(v) in said]

    # Back: the same browsers, sessions and roles (the store came back with its data).
    assert on_home(admin.get(f"{portal.url}/admin/"))
    page = approve(portal, admin, pending)
    assert page.status_code == 200
    assert demandes.Requests(portal.store).of(ORG, pending.id).status == demandes.APPROVED
    page = post_form(member, member.get(f"{portal.url}/partenaires/demandes/{done.id}"),
                     "form#form-secret")
    first = shown_secret(page)
    assert first and sha256_in_file(portal, done.service_id) == \
        hashlib.sha256(first.encode()).hexdigest()
    page = post_form(member, member.get(service_url), "form#form-secret")
    second = shown_secret(page)
    assert second and second != first
    assert sha256_in_file(portal, done.service_id) == hashlib.sha256(second.encode()).hexdigest()
    assert submitted(portal, member, "Panne — cantine", "cantine").status == demandes.SUBMITTED


def test_an_approval_retried_after_the_store_failed_records_it_without_a_second_file(portal):
    """The state a store failure between the two steps of an approval leaves: the partner
    file written, the request still "submitted". Approving again records the approval of
    that very file, with no "id already used" and no second file."""
    admin, member = admin_browser(portal), member_browser(portal)
    done = approved(portal, admin, member, "Panne — état civil", "etat-civil")
    file = portal.partners / f"{done.service_id}.yaml"
    text = file.read_text(encoding="utf-8")
    requests_ = demandes.Requests(portal.store)
    requests_.change(done, demandes.SUBMITTED, service_id="")  # the approval never recorded
    before = files_of(portal)

    page = approve(portal, admin, done)

    assert page.status_code == 200, BeautifulSoup(page.text, "html.parser").select_one(
        "#probleme")
    again = requests_.of(ORG, done.id)
    assert again.status == demandes.APPROVED and again.service_id == done.service_id
    assert files_of(portal) == before and file.read_text(encoding="utf-8") == text
    assert written_for(portal, done.id) == [file.name]
    assert any(line.get("event", "").startswith("approval retried: the partner file")
               for line in portal.fed.log_lines())
    approvals = [e for e in portal.fed.audit_lines()
                 if e["event"] == "request_approved" and e["request"] == done.id]
    assert [e["service"] for e in approvals] == [done.service_id] * 2
    assert [e.get("retried", False) for e in approvals] == [False, True]


def test_a_file_naming_the_request_for_another_organisation_is_not_taken_for_its_own(portal):
    """Only a file bearing the request's organisation_id counts as written for it."""
    admin, member = admin_browser(portal), member_browser(portal)
    request = submitted(portal, member, "Panne — sports", "sports")
    decoy = portal.partners / "decoy-sports.yaml"
    decoy.write_text(f"# Registered through the partner portal (/partenaires/) from "
                     f"demande-{request.id} on 2026-01-01.\nid: decoy-sports\n"
                     "organisation_id: commune-autre\n", encoding="utf-8")
    try:
        from plugins.frontends.admin.workflow import file_of_request

        assert file_of_request(portal.partners, request) is None
    finally:
        decoy.unlink()
    page = approve(portal, admin, request)
    assert page.status_code == 200
    assert demandes.Requests(portal.store).of(ORG, request.id).service_id == "panne-sports"


def test_a_first_secret_whose_date_was_not_recorded_is_not_offered_again(portal):
    """The state a store failure after the once-mark leaves (the secret written, or its write
    failed with the mark kept): the request's page, or a POST of the button, says "already
    generated" and records the date; the partner gets a working secret from the service's
    page."""
    admin, member = admin_browser(portal), member_browser(portal)
    done = approved(portal, admin, member, "Panne — voirie", "voirie")
    offered = member.get(f"{portal.url}/partenaires/demandes/{done.id}")  # the button
    assert portal.store.add(SECRET_ONCE, done.id, {"organisation": ORG}, 600)
    hash_before = sha256_in_file(portal, done.service_id)

    refused = post_form(member, offered, "form#form-secret")

    assert refused.status_code == 409 and shown_secret(refused) is None
    assert BeautifulSoup(refused.text, "html.parser").select_one("#secret-deja") is not None
    assert sha256_in_file(portal, done.service_id) == hash_before
    assert demandes.Requests(portal.store).of(ORG, done.id).secret_generated_at > 0

    other = approved(portal, admin, member, "Panne — eaux", "eaux")
    assert portal.store.add(SECRET_ONCE, other.id, {"organisation": ORG}, 600)
    page = member.get(f"{portal.url}/partenaires/demandes/{other.id}")
    soup = BeautifulSoup(page.text, "html.parser")
    assert page.status_code == 200 and soup.select_one("#form-secret") is None
    assert soup.select_one("#secret-deja") is not None
    assert demandes.Requests(portal.store).of(ORG, other.id).secret_generated_at > 0
    service = member.get(portal.url + soup.select_one("#lien-service")["href"])
    secret = shown_secret(post_form(member, service, "form#form-secret"))
    assert secret and sha256_in_file(portal, other.service_id) == \
        hashlib.sha256(secret.encode()).hexdigest()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,}", secret)


# -- the store failing right after the partner file is written, in process ---------------------


class FailingAt:
    """The proxy's store, refusing every write into ``namespace`` while ``down``: an outage
    that begins right after the partner file was written."""

    def __init__(self, store: Store, namespace: str) -> None:
        self.store, self.namespace, self.down = store, namespace, True

    def __getattr__(self, name: str):
        return getattr(self.store, name)

    def put_item(self, namespace: str, *args, **kwargs):
        if self.down and namespace == self.namespace:
            raise StoreUnavailable("redis store unavailable (test)")
        return self.store.put_item(namespace, *args, **kwargs)


@pytest.fixture
def frontend(portal: Portal) -> AdminFrontend:
    """The portal in this process, on the proxy's store and partner folder (its reload
    signals nobody: the running proxy reloads on the registry generation)."""
    conf = _admin_frontend(load_settings(portal.fed.config))
    conf["config"]["store_url"] = portal.redis.url
    return AdminFrontend(lambda *a: None, {"attributes": {}}, conf["config"], portal.url,
                         conf["name"])


def test_an_approval_the_store_fails_after_the_file_is_completed_by_its_retry(
        portal, frontend):
    member = member_browser(portal)
    request = submitted(portal, member, "Panne — cimetière", "cimetiere")
    workflow = frontend.workflow
    failing = FailingAt(portal.store, demandes.NAMESPACE)
    workflow.requests.store = failing  # type: ignore[assignment]

    with pytest.raises(StoreUnavailable):
        workflow.apply(request, "")
    assert written_for(portal, request.id) == ["panne-cimetiere.yaml"]
    assert demandes.Requests(portal.store).of(ORG, request.id).status == demandes.SUBMITTED

    failing.down = False
    assert workflow.apply(request, "") in ("", "rechargement")
    done = demandes.Requests(portal.store).of(ORG, request.id)
    assert done.status == demandes.APPROVED and done.service_id == "panne-cimetiere"
    assert written_for(portal, request.id) == ["panne-cimetiere.yaml"]


def test_a_first_secret_whose_date_the_store_fails_to_record_is_shown_all_the_same(
        portal, frontend):
    admin, member = admin_browser(portal), member_browser(portal)
    done = approved(portal, admin, member, "Panne — marché", "marche")
    workflow = frontend.workflow
    failing = FailingAt(portal.store, demandes.NAMESPACE)
    workflow.requests.store = failing  # type: ignore[assignment]
    session = SimpleNamespace(id="session-de-test")
    workflow._own_request = lambda *a: (session, None, done)  # type: ignore[method-assign]
    frontend.check_post = lambda *a: {}  # type: ignore[method-assign]
    context = Context()
    context.path = f"partenaires/demandes/{done.id}/secret"
    context.request_method = "POST"

    shown = workflow.secret_endpoint(context)

    assert shown.status.startswith("200")
    secret = BeautifulSoup(shown.message, "html.parser").select_one("#client-secret").get_text()
    assert sha256_in_file(portal, done.service_id) == hashlib.sha256(secret.encode()).hexdigest()
    assert demandes.Requests(portal.store).of(ORG, done.id).secret_generated_at == 0

    failing.down = False  # the next POST: "already generated", and the date recorded
    again = workflow.secret_endpoint(context)
    assert again.status.startswith("409") and secret not in again.message
    assert demandes.Requests(portal.store).of(ORG, done.id).secret_generated_at > 0
    assert sha256_in_file(portal, done.service_id) == hashlib.sha256(secret.encode()).hexdigest()
