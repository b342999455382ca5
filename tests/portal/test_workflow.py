"""The request-and-approval workflow, without a browser: an administrator invites a partner
organisation's member from the console; the member asks for a service; the administrator
asks for a change, then approves; the running proxy serves the new client; the member
generates its secret once, and a real login with a token request uses it.

A federation of its own (approvals change its registry and reload it), two gunicorn workers,
the embedded store shared with the test.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from urllib.parse import urlencode, urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.demo.rp import make_demo_rp
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.federation import DEFAULT_SERVICES
from idp.testbed.login import login
from idp.testbed.servers import free_port
from plugins.frontends.admin import demandes, enrolment
from plugins.frontends.admin.roles import Roles

from .conftest import Portal, portal_federation
from .steps import (
    account_key,
    eventually,
    field_error,
    field_value,
    ncconnect,
    on_home,
    open_portal,
    post_form,
    refusal_of,
    request_fields,
)

ADMIN, MEMBER, OTHER_MEMBER, NOBODY, USAGER = CITIZENS[:5]
REQUEST_FORM = "form.formulaire-demande"


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> Iterator[Portal]:
    with portal_federation(tmp_path_factory.mktemp("demandes"),
                           {"rp-op": DEFAULT_SERVICES["rp-op"]}) as found:
        yield found



def admin_browser(fed: Portal) -> Browser:
    browser = Browser()
    invitation = enrolment.invite(fed.store, "admin", 600)
    assert on_home(open_portal(browser, invitation.link(fed.url), ADMIN))
    return browser


def member_browser(fed: Portal, organisation: str, citizen) -> Browser:
    browser = Browser()
    invitation = enrolment.invite(fed.store, "partner", 600, organisation)
    page = open_portal(browser, invitation.link(fed.url), citizen)
    assert urlsplit(page.url).path == "/partenaires/" and page.status_code == 200, page.url
    return browser


def submit_request(browser: Browser, fed: Portal, fields: dict):
    form = browser.get(f"{fed.url}/partenaires/demande")
    return post_form(browser, form, REQUEST_FORM, fields)


def decide(browser: Browser, fed: Portal, request: demandes.ServiceRequest, decision: str,
           message: str = ""):
    page = browser.get(f"{fed.url}/admin/demandes/{request.organisation}/{request.id}")
    assert page.status_code == 200
    return post_form(browser, page, "form#form-decision",
                     {"decision": decision, "message": message})


def audit_events(fed: Portal, *names: str) -> list[dict]:
    return [line for line in fed.fed.audit_lines() if line["event"] in names]


def test_journey_from_invitation_to_a_token_request_with_the_generated_secret(fed):
    partners = fed.fed.folder / "partenaires"
    rp_port = free_port()
    rp_url = f"http://127.0.0.1:{rp_port}"
    admin = admin_browser(fed)

    # The administrator invites a member of commune-dumbea from the console: link shown once.
    home = admin.get(f"{fed.url}/admin/")
    page = post_form(admin, home, "form#form-invitation", {"organisation": "commune-dumbea"})
    link = BeautifulSoup(page.text, "html.parser").select_one("#lien").get_text()
    assert link.startswith(f"{fed.url}/admin/inscription?jeton=")
    assert link not in admin.get(f"{fed.url}/admin/").text
    assert audit_events(fed, "member_invited")[-1]["organisation"] == "commune-dumbea"

    member = Browser()
    page = open_portal(member, link, MEMBER)
    assert urlsplit(page.url).path == "/partenaires/"
    key = account_key_of(fed, member)
    assert [(h.role, h.organisation) for h in Roles(fed.store, 395).roles_of(key)] == [
        ("partner", "commune-dumbea")]

    # One mistake: an http:// redirect URI off loopback. Shown next to its field, input kept.
    wrong = "http://ecoles.dumbea.nc/oidc/callback"
    page = submit_request(member, fed, request_fields(wrong))
    assert page.status_code == 400
    assert "must use https" in field_error(page, "redirect_uris")
    assert field_value(page, "redirect_uris") == wrong
    assert field_value(page, "service_name") == "Dumbéa — inscriptions scolaires"
    assert field_value(page, "attr_justification_1") == "Saluer le responsable légal par son " \
                                                        "prénom."
    assert field_error(page, "service_name") is None
    assert demandes.Requests(fed.store).of_organisation("commune-dumbea") == []

    # Fixed (the form as the page shows it, one field changed) and submitted.
    page = post_form(member, page, REQUEST_FORM, {"redirect_uris": f"{rp_url}/callback"})
    assert page.status_code == 200 and "/partenaires/demandes/" in page.url
    (request,) = demandes.Requests(fed.store).of_organisation("commune-dumbea")
    assert request.status == "submitted" and request.form["attributes"][2]["optional"]

    # The administrator's queue lists it; they ask for a change with a message.
    queue = admin.get(f"{fed.url}/admin/")
    assert BeautifulSoup(queue.text, "html.parser").select_one(
        f"#table-file tr[data-request='{request.id}']") is not None
    view = admin.get(f"{fed.url}/admin/demandes/commune-dumbea/{request.id}")
    assert view.status_code == 200, view.text[:2000]
    rows = BeautifulSoup(view.text, "html.parser").select("#table-donnees tbody tr")
    assert [r["data-attribute"] for r in rows] == ["family_name", "given_name", "email"]
    page = decide(admin, fed, request, "modifier", "Précisez la référence de la délibération.")
    assert BeautifulSoup(page.text, "html.parser").select_one(
        "#statut-demande")["data-status"] == "changes_requested"

    # The member sees the message, edits and submits again.
    page = member.get(f"{fed.url}/partenaires/demandes/{request.id}")
    assert "Précisez la référence de la délibération." in page.text
    assert field_value(page, "legal_reference") == "Délibération n° 2024-12"
    page = post_form(member, page, REQUEST_FORM,
                     {"legal_reference": "Délibération n° 2024-12 du 3 mars 2024"})
    request = demandes.Requests(fed.store).of("commune-dumbea", request.id)
    assert request.status == "submitted"
    assert request.form["legal_reference"] == "Délibération n° 2024-12 du 3 mars 2024"

    # Approved: the partner file appears, with the organisation, and the proxy reloads.
    authorize = f"{fed.url}/oidc/authorize?" + urlencode({
        "client_id": "dumbea-inscriptions-scolaires", "response_type": "code",
        "scope": "openid", "redirect_uri": f"{rp_url}/callback", "state": "s" * 16,
        "nonce": "n" * 16, "code_challenge": "c" * 43, "code_challenge_method": "S256"})
    assert error_code_of(Browser().get(authorize)) == "client_inconnu"
    page = decide(admin, fed, request, "approuver")
    assert page.status_code == 200, BeautifulSoup(page.text, "html.parser").select_one(
        "#probleme")
    path = partners / "dumbea-inscriptions-scolaires.yaml"
    written = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert written["organisation_id"] == "commune-dumbea"
    assert written["oidc"]["redirect_uris"] == [f"{rp_url}/callback"]
    eventually(lambda: error_code_of(Browser().get(authorize)) != "client_inconnu",
               "the reloaded proxy accepts the new client")
    approved = audit_events(fed, "request_approved")[-1]
    assert approved["service"] == "dumbea-inscriptions-scolaires"
    assert approved["citizen"] == account_key(fed.store, admin)
    submitted = [e for e in audit_events(fed, "request_submitted") if e["request"] == request.id]
    assert [e["again"] for e in submitted] == [False, True]
    assert {e["citizen"] for e in submitted} == {key}

    # The member sees the client id; the secret is generated and shown once.
    eventually(lambda: "dumbea-inscriptions-scolaires" in member.get(
        f"{fed.url}/partenaires/").text, "the organisation's services list it")
    page = member.get(f"{fed.url}/partenaires/demandes/{request.id}")
    assert BeautifulSoup(page.text, "html.parser").select_one(
        "#client-id").get_text() == "dumbea-inscriptions-scolaires"
    shown = post_form(member, page, "form#form-secret")
    secret = BeautifulSoup(shown.text, "html.parser").select_one("#client-secret").get_text()
    assert len(secret) >= 43
    again = post_form(member, page, "form#form-secret")  # the same button, posted again
    assert again.status_code == 409 and secret not in again.text
    assert BeautifulSoup(again.text, "html.parser").select_one("#secret-deja") is not None
    text = path.read_text(encoding="utf-8")
    assert secret not in text
    assert yaml.safe_load(text)["oidc"]["client_secret_sha256"] == \
        hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(fed.fed.audit_lines())

    # A real login at the new service, whose token request authenticates with that secret.
    rp = make_demo_rp(rp_url, fed.url, "dumbea-inscriptions-scolaires", secret, "Dumbéa")
    fed.fed.add("dumbea", rp, rp_port)

    def logs_in() -> bool:
        page = login(Browser(), rp_url, USAGER)
        if page.status_code != 200 or BeautifulSoup(page.text, "html.parser").select_one(
                "table#attributs") is None:
            return False
        return attributes_of(page)["family_name"] == USAGER.claims["family_name"]
    eventually(logs_in, "a login with the generated secret")
    rp.client_secret = secret[::-1]  # the same login, the token request with another secret
    assert not logs_in()


def account_key_of(fed: Portal, browser: Browser) -> str:
    """The account key of the partner session of ``browser``."""
    from plugins.frontends.admin.frontend import PARTNER_COOKIE_NAME, SESSION_NAMESPACE

    values = [c.value for c in browser.session.cookies
              if c.name == f"__Secure-{PARTNER_COOKIE_NAME}"]
    assert len(values) == 1
    record = fed.store.get(SESSION_NAMESPACE, hashlib.sha256(values[0].encode()).hexdigest())
    assert record is not None
    return record["citizen"]


def test_a_member_cannot_see_or_act_on_another_organisations_request(fed):
    ours = member_browser(fed, "commune-a", MEMBER)
    theirs = member_browser(fed, "commune-b", OTHER_MEMBER)
    page = submit_request(theirs, fed, request_fields("https://b.example.nc/cb",
                                                      "Commune B — état civil"))
    assert page.status_code == 200
    (request,) = demandes.Requests(fed.store).of_organisation("commune-b")
    page = ours.get(f"{fed.url}/partenaires/demandes/{request.id}")
    assert page.status_code == 404 and refusal_of(page) == "demande_inconnue"
    assert "Commune B" not in page.text
    assert "Commune B" not in ours.get(f"{fed.url}/partenaires/").text
    # A forged POST, with a valid CSRF token of A's own session for that id: still nothing.
    from idp.csrf import csrf_secrets, csrf_token
    from plugins.frontends.admin.frontend import PARTNER_COOKIE_NAME

    sid = next(c.value for c in ours.session.cookies if c.name.endswith(PARTNER_COOKIE_NAME))
    secret = csrf_secrets(fed.fed.folder / "data" / "keys" / "csrf.secret")
    for path, form in ((f"demandes/{request.id}", f"partenaires:demande:{request.id}"),
                       (f"demandes/{request.id}/secret", f"partenaires:secret:{request.id}")):
        resp = ours.post_form_data(f"{fed.url}/partenaires/{path}",
                                   {"csrf": csrf_token(secret, sid, form), "organisation": "x"})
        assert resp.status_code == 404, path
    # And a member is no administrator: the queue and the decisions are closed to them.
    page = open_portal(ours, f"{fed.url}/admin/", MEMBER)
    assert page.status_code == 403 and refusal_of(page) == "sans_role"
    resp = ours.post_form_data(f"{fed.url}/admin/demandes/commune-b/{request.id}",
                               {"decision": "approuver"})
    assert resp.status_code == 403
    assert demandes.Requests(fed.store).of("commune-b", request.id).status == "submitted"


def test_a_citizen_without_a_role_gets_403_at_the_partner_portal(fed):
    browser = Browser()
    page = open_portal(browser, f"{fed.url}/partenaires/", NOBODY)
    assert page.status_code == 403 and refusal_of(page) == "sans_role_partenaire"
    assert not [c for c in browser.session.cookies if c.name.endswith("ncc_partenaire")]


def test_an_administrator_is_no_partner_member(fed):
    admin = admin_browser(fed)
    page = open_portal(admin, f"{fed.url}/partenaires/", ADMIN)
    assert page.status_code == 403 and refusal_of(page) == "sans_role_partenaire"


def test_forged_posts_without_csrf_or_from_another_origin_are_refused(fed):
    member = member_browser(fed, "commune-c", MEMBER)
    form = member.get(f"{fed.url}/partenaires/demande")
    fields = request_fields("https://c.example.nc/cb", "Commune C — cantine")
    page = post_form(member, form, REQUEST_FORM, {**fields, "csrf": "0" * 64}, follow=False)
    assert page.status_code == 403
    member.session.headers["Origin"] = "https://attaquant.example"
    try:
        page = post_form(member, form, REQUEST_FORM, fields, follow=False)
    finally:
        del member.session.headers["Origin"]
    assert page.status_code == 403
    assert demandes.Requests(fed.store).of_organisation("commune-c") == []

    admin = admin_browser(fed)
    home = admin.get(f"{fed.url}/admin/")
    admin.session.headers["Sec-Fetch-Site"] = "cross-site"
    try:
        page = post_form(admin, home, "form#form-invitation", {"organisation": "commune-d"},
                         follow=False)
    finally:
        del admin.session.headers["Sec-Fetch-Site"]
    assert page.status_code == 403 and "jeton=" not in page.text


def test_the_console_refuses_an_invalid_organisation_id_next_to_its_field(fed):
    admin = admin_browser(fed)
    home = admin.get(f"{fed.url}/admin/")
    page = post_form(admin, home, "form#form-invitation", {"organisation": "Commune D"})
    assert page.status_code == 400 and "Identifiant invalide" in field_error(page,
                                                                             "organisation")
    assert field_value(page, "organisation") == "Commune D" and "jeton=" not in page.text


def test_a_rejected_request_shows_the_message_and_cannot_be_resubmitted(fed):
    member = member_browser(fed, "commune-e", MEMBER)
    submit_request(member, fed, request_fields("https://e.example.nc/cb", "Commune E — sport"))
    (request,) = demandes.Requests(fed.store).of_organisation("commune-e")
    admin = admin_browser(fed)
    page = decide(admin, fed, request, "refuser")  # no message: refused, nothing changes
    assert page.status_code == 400
    decide(admin, fed, request, "refuser", "Ce service ne relève pas de NC Connect.")
    page = member.get(f"{fed.url}/partenaires/demandes/{request.id}")
    assert "Ce service ne relève pas de NC Connect." in page.text
    assert BeautifulSoup(page.text, "html.parser").select_one(REQUEST_FORM) is None
    assert [e["event"] for e in audit_events(fed, "request_rejected")
            if e.get("request") == request.id] == ["request_rejected"]


def test_the_cli_invites_a_partner_member_of_an_organisation(fed):
    done = ncconnect("admin", "add", "--role", "partner", "--organisation", "commune-f",
                     "--config", str(fed.fed.config))
    assert done.returncode == 0, done.stderr
    assert "of the organisation 'commune-f'" in done.stderr
    browser = Browser()
    page = open_portal(browser, done.stdout.strip(), OTHER_MEMBER)
    assert urlsplit(page.url).path == "/partenaires/"
    assert BeautifulSoup(page.text, "html.parser").select_one(
        "h1[data-organisation]")["data-organisation"] == "commune-f"
    refused = ncconnect("admin", "add", "--role", "partner", "--config", str(fed.fed.config))
    assert refused.returncode != 0 and "organisation id" in refused.stderr


def test_an_approval_the_registry_would_refuse_is_refused_with_its_reason(fed):
    first = member_browser(fed, "commune-g", MEMBER)
    second = member_browser(fed, "commune-h", OTHER_MEMBER)
    for browser, uri in ((first, "https://g.example.nc/cb"), (second, "https://h.example.nc/cb")):
        page = submit_request(browser, fed, request_fields(uri, "Guichet unique"))
        assert page.status_code == 200
    (ours,) = demandes.Requests(fed.store).of_organisation("commune-g")
    (theirs,) = demandes.Requests(fed.store).of_organisation("commune-h")
    admin = admin_browser(fed)
    assert decide(admin, fed, ours, "approuver").status_code == 200
    page = decide(admin, fed, theirs, "approuver")  # same name, hence the same id: refused
    assert page.status_code == 400
    problem = BeautifulSoup(page.text, "html.parser").select_one("#probleme")
    assert problem["data-problem"] == "invalide" and "already used" in problem.get_text()
    assert demandes.Requests(fed.store).of("commune-h", theirs.id).status == "submitted"
    written = yaml.safe_load((fed.fed.folder / "partenaires" / "guichet-unique.yaml")
                             .read_text(encoding="utf-8"))
    assert written["organisation_id"] == "commune-g"


def test_an_attribute_problem_is_shown_next_to_its_row(fed):
    member = member_browser(fed, "commune-i", MEMBER)
    fields = request_fields("https://i.example.nc/cb", "Commune I — bibliothèque")
    fields |= {"attr_justification_1": "Court", "attr_name_3": "",
               "attr_justification_3": "Une justification sans donnée choisie."}
    page = submit_request(member, fed, fields)
    assert page.status_code == 400
    assert "must be 10 to 500 characters" in field_error(page, "attr_justification_1")
    assert "choose the attribute" in field_error(page, "attr_name_3")
    assert field_error(page, "attr_justification_0") is None
    summary = BeautifulSoup(page.text, "html.parser").select("#erreurs li a")
    assert {a["href"]: a.get_text() for a in summary} == {
        "#champ-attr_justification_1": "Justification de la donnée 2",
        "#champ-attr_name_3": "Donnée 4"}
    assert demandes.Requests(fed.store).of_organisation("commune-i") == []


def test_the_partner_pages_are_in_english_for_a_browser_preferring_it(fed):
    browser = Browser(accept_language="en-GB,en;q=0.9,fr;q=0.5")
    link = enrolment.invite(fed.store, "partner", 600, "commune-j").link(fed.url)
    page = open_portal(browser, link, MEMBER)
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.html["lang"] == "en" and soup.h1.get_text() == "Partner organisations' space"
    form = BeautifulSoup(browser.get(f"{fed.url}/partenaires/demande").text, "html.parser")
    assert form.h1.get_text() == "Service connection request"
    assert form.select_one("label[for='champ-purpose']").get_text() == "Purpose"


def test_hostile_requests_at_the_partner_portal_never_end_in_a_500(fed):
    member = member_browser(fed, "commune-k", MEMBER)
    for path in ("/partenaires/demandes/zzz", "/partenaires/demandes/" + "0" * 16,
                 "/partenaires/demandes/" + "0" * 16 + "/secret", "/partenaires//",
                 "/admin/demandes/Commune/" + "0" * 16):
        page = member.get(f"{fed.url}{path}")
        assert page.status_code in (403, 404, 405), (path, page.status_code)
    form = member.get(f"{fed.url}/partenaires/demande")
    for changes in ({"protocol": "<script>", "remember_days": "beaucoup"},
                    {"loa_min": "maximal", "legal_basis": "", "redirect_uris": "x" * 5000},
                    {"protocol": "saml2", "entity_id": "", "metadata_url": "ftp://x"},
                    {"attr_name_0": "pointure", "source_src-op": "", "contact": "@"}):
        page = post_form(member, form, REQUEST_FORM, request_fields("https://k.example.nc/cb")
                         | changes)
        assert page.status_code == 400, (changes, page.status_code)
        assert "<script>" not in page.text and BeautifulSoup(
            page.text, "html.parser").select_one("#erreurs") is not None
    assert demandes.Requests(fed.store).of_organisation("commune-k") == []


def test_a_saml_request_is_checked_with_its_entity_and_metadata_url(fed):
    member = member_browser(fed, "commune-l", MEMBER)
    fields = request_fields("", "Commune L — urbanisme") | {
        "protocol": "saml2", "entity_id": "https://urba.commune-l.nc/sp",
        "metadata_url": "http://urba.commune-l.nc/metadata"}
    page = submit_request(member, fed, fields)
    assert page.status_code == 400 and "must use https" in field_error(page, "metadata_url")
    page = post_form(member, page, REQUEST_FORM,
                     {"metadata_url": "https://urba.commune-l.nc/metadata"})
    assert page.status_code == 200
    (request,) = demandes.Requests(fed.store).of_organisation("commune-l")
    assert request.form["protocol"] == "saml2" and request.status == "submitted"
    assert BeautifulSoup(page.text, "html.parser").select_one("#form-secret") is None
