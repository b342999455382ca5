"""An approved service in the portal: drafts, change proposals (applied at once or reviewed),
the administrators' diff, disable and enable from the console.

One federation for the module; each test registers its own service through the portal (a
member submits, an administrator approves), so tests do not depend on each other's changes.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
import yaml
from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser
from idp.testbed.federation import DEFAULT_SERVICES
from plugins.frontends.admin import demandes, enrolment

from .conftest import Portal, portal_federation
from .steps import (
    eventually,
    field_error,
    field_value,
    on_home,
    open_portal,
    png_image,
    post_form,
    request_fields,
)

ADMIN, MEMBER, OTHER_MEMBER = CITIZENS[0], CITIZENS[1], CITIZENS[2]
REQUEST_FORM = "form.formulaire-demande"
_names = (f"Service {n}" for n in itertools.count(1))


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> Iterator[Portal]:
    with portal_federation(tmp_path_factory.mktemp("services"),
                           {"rp-op": DEFAULT_SERVICES["rp-op"]}) as found:
        yield found


@pytest.fixture(scope="module")
def admin(fed) -> Browser:
    browser = Browser()
    assert on_home(open_portal(browser, enrolment.invite(fed.store, "admin", 600).link(fed.url),
                               ADMIN))
    return browser


@pytest.fixture(scope="module")
def member(fed) -> Browser:
    browser = Browser()
    link = enrolment.invite(fed.store, "partner", 600, "commune-dumbea").link(fed.url)
    assert urlsplit(open_portal(browser, link, MEMBER).url).path == "/partenaires/"
    return browser


def requests_of(fed: Portal) -> demandes.Requests:
    return demandes.Requests(fed.store)


def approved_service(fed: Portal, admin: Browser, member: Browser) -> str:
    """A new service of commune-dumbea, submitted and approved through the portal: its id."""
    name = next(_names)
    form = member.get(f"{fed.url}/partenaires/demande")
    page = post_form(member, form, REQUEST_FORM,
                     request_fields("https://ecoles.dumbea.nc/callback", name=name))
    request_id = urlsplit(page.url).path.rsplit("/", 1)[1]
    decided = decide(fed, admin, request_id, "approuver")
    assert decided.status_code == 200, decided.text[:500]
    return requests_of(fed).of("commune-dumbea", request_id).service_id


def decide(fed: Portal, admin: Browser, request_id: str, decision: str, message: str = ""):
    page = admin.get(f"{fed.url}/admin/demandes/commune-dumbea/{request_id}")
    return post_form(admin, page, "form#form-decision",
                     {"decision": decision, "message": message})


def partner_file(fed: Portal, service_id: str) -> dict:
    path = fed.fed.folder / "partenaires" / f"{service_id}.yaml"
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def propose(fed: Portal, member: Browser, service_id: str, changes: dict, drop=()):
    form = member.get(f"{fed.url}/partenaires/services/{service_id}/modifier")
    assert form.status_code == 200, form.text[:300]
    return post_form(member, form, REQUEST_FORM, changes, drop=drop)


def request_id_of(page) -> str:
    return urlsplit(page.url).path.rsplit("/", 1)[1]


# -- drafts ---------------------------------------------------------------------------------

def test_a_draft_is_kept_unchecked_and_stays_out_of_the_queue(fed, admin, member):
    form = member.get(f"{fed.url}/partenaires/demande")
    page = post_form(member, form, REQUEST_FORM,
                     {"service_name": "Brouillon de Dumbéa", "action": "brouillon",
                      "redirect_uris": "http://pas-encore.dumbea.nc/callback"})
    request = requests_of(fed).of("commune-dumbea", request_id_of(page))
    assert request.status == "draft"
    assert request.form["redirect_uris"] == "http://pas-encore.dumbea.nc/callback"
    assert field_value(page, "service_name") == "Brouillon de Dumbéa"  # the form, to go on
    assert request.id not in admin.get(f"{fed.url}/admin/").text


def test_a_draft_submitted_later_is_checked_like_any_request(fed, member):
    form = member.get(f"{fed.url}/partenaires/demande")
    page = post_form(member, form, REQUEST_FORM,
                     {**request_fields("http://pas-encore.dumbea.nc/callback",
                                       name="Brouillon vérifié"), "action": "brouillon"})
    request_id = request_id_of(page)
    refused = post_form(member, page, REQUEST_FORM)
    assert refused.status_code == 400 and "must use https" in field_error(refused,
                                                                           "redirect_uris")
    assert requests_of(fed).of("commune-dumbea", request_id).status == "draft"
    sent = post_form(member, refused, REQUEST_FORM,
                     {"redirect_uris": "https://verifie.dumbea.nc/callback"})
    assert sent.status_code == 200
    assert requests_of(fed).of("commune-dumbea", request_id).status == "submitted"


# -- change proposals -----------------------------------------------------------------------

def test_a_change_form_starts_from_the_partner_file(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    page = member.get(f"{fed.url}/partenaires/services/{service_id}/modifier")
    assert field_value(page, "redirect_uris") == "https://ecoles.dumbea.nc/callback"
    assert field_value(page, "attr_justification_1") == \
        "Saluer le responsable légal par son prénom."
    assert BeautifulSoup(page.text, "html.parser").select_one(
        "#titre-demande")["data-change"] == "true"


def test_a_new_redirect_uri_on_an_approved_host_is_applied_without_review(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    before = partner_file(fed, service_id)
    page = propose(fed, member, service_id, {
        "redirect_uris": "https://ecoles.dumbea.nc/callback\nhttps://ecoles.dumbea.nc/v2/cb",
        "contact": "numerique@dumbea.nc"})
    request = requests_of(fed).of("commune-dumbea", request_id_of(page))
    assert request.status == "approved" and request.kind == "change"
    after = partner_file(fed, service_id)
    assert after["oidc"]["redirect_uris"] == ["https://ecoles.dumbea.nc/callback",
                                              "https://ecoles.dumbea.nc/v2/cb"]
    assert after["contact"] == "numerique@dumbea.nc"
    # What the federation decided is kept as it was.
    for key in ("client_id", "client_secret_sha256", "token_endpoint_auth_method"):
        assert after["oidc"][key] == before["oidc"][key]
    assert after["organisation_id"] == "commune-dumbea" and after["active"] is True
    submitted = [e for e in fed.fed.audit_lines() if e["event"] == "request_submitted"
                 and e.get("request") == request.id]
    assert submitted[-1]["fields"] == "contact,redirect_uris" and submitted[-1]["review"] \
        is False


def test_a_redirect_uri_on_a_new_host_waits_for_review(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    page = propose(fed, member, service_id,
                   {"redirect_uris": "https://ailleurs.example.nc/callback"})
    request = requests_of(fed).of("commune-dumbea", request_id_of(page))
    assert request.status == "submitted"
    assert partner_file(fed, service_id)["oidc"]["redirect_uris"] == [
        "https://ecoles.dumbea.nc/callback"]


def test_an_added_attribute_is_reviewed_and_the_admin_sees_the_diff(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    page = propose(fed, member, service_id, {
        "attr_name_3": "birthdate",
        "attr_justification_3": "Vérifier l'âge de l'enfant inscrit."})
    request_id = request_id_of(page)
    assert requests_of(fed).of("commune-dumbea", request_id).status == "submitted"
    view = admin.get(f"{fed.url}/admin/demandes/commune-dumbea/{request_id}")
    soup = BeautifulSoup(view.text, "html.parser")
    assert soup.select_one("#titre-demande-admin")["data-kind"] == "change"
    rows = {r["data-field"]: r["data-kind"] for r in soup.select("#table-diff tbody tr")}
    assert rows == {"attributes.birthdate.justification": "added"}
    assert "secret" not in view.text.lower().replace("secret hashes", "").replace(
        "empreintes de secret", "")
    decided = decide(fed, admin, request_id, "approuver")
    assert decided.status_code == 200
    assert "birthdate" in partner_file(fed, service_id)["attributes"]


def test_a_new_services_diff_lists_the_whole_file_as_added(fed, admin, member):
    form = member.get(f"{fed.url}/partenaires/demande")
    page = post_form(member, form, REQUEST_FORM,
                     request_fields("https://diff.dumbea.nc/callback", name="Nouveau diff"))
    view = admin.get(f"{fed.url}/admin/demandes/commune-dumbea/{request_id_of(page)}")
    rows = BeautifulSoup(view.text, "html.parser").select("#table-diff tbody tr")
    kinds = {r["data-field"]: r["data-kind"] for r in rows}
    assert kinds["oidc.redirect_uris"] == kinds["organisation_id"] == "added"
    assert set(kinds.values()) == {"added"}
    assert not any("secret" in f for f in kinds)


def test_a_change_cannot_switch_protocol(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    page = propose(fed, member, service_id, {"protocol": "saml2", "entity_id":
                                             "https://sp.dumbea.nc/saml",
                                             "metadata_url": "https://sp.dumbea.nc/metadata"})
    assert page.status_code == 400
    assert "request a new service instead" in field_error(page, "protocol")


def test_a_change_that_changes_nothing_is_refused(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    page = propose(fed, member, service_id, {})
    assert page.status_code == 400
    assert "nothing differs" in BeautifulSoup(page.text, "html.parser").select_one(
        "#erreur-general").get_text()


def test_one_change_at_a_time_per_service(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    first = propose(fed, member, service_id, {"purpose": "Inscrire vos enfants à l'école."})
    again = member.get(f"{fed.url}/partenaires/services/{service_id}/modifier")
    assert urlsplit(again.url).path == urlsplit(first.url).path


def test_another_organisations_service_is_not_found(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    other = Browser()
    link = enrolment.invite(fed.store, "partner", 600, "commune-paita").link(fed.url)
    page = open_portal(other, link, OTHER_MEMBER)
    for path in ("", "/modifier"):
        assert other.get(f"{fed.url}/partenaires/services/{service_id}{path}").status_code \
            == 404
    # A forged POST with the other organisation's own session and a token for its own form.
    forged = other.post(f"{fed.url}/partenaires/services/{service_id}/secret",
                        {"csrf": "x" * 40})
    assert forged.status_code in (403, 404)
    assert page.status_code == 200


# -- the administrators' switch -------------------------------------------------------------

def test_an_administrator_disables_and_enables_a_service(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    home = admin.get(f"{fed.url}/admin/")
    selector = f"#table-services tr[data-service='{service_id}'] form"
    post_form(admin, home, selector)
    assert partner_file(fed, service_id)["active"] is False
    home = admin.get(f"{fed.url}/admin/")
    assert BeautifulSoup(home.text, "html.parser").select_one(
        f"#table-services tr[data-service='{service_id}']")["data-active"] == "false"
    post_form(admin, home, selector)
    assert partner_file(fed, service_id)["active"] is True
    events = [e["event"] for e in fed.fed.audit_lines()
              if e.get("service") == service_id and e["event"].startswith("service_")]
    assert events == ["service_disabled", "service_enabled"]


def test_a_partner_cannot_use_the_administrators_switch(fed, admin, member):
    service_id = approved_service(fed, admin, member)
    page = member.post(f"{fed.url}/admin/services/{service_id}/etat", {"etat": "desactiver"})
    assert page.status_code == 403
    assert partner_file(fed, service_id)["active"] is True


# -- a logo sent with the request -----------------------------------------------------------

def test_a_logo_sent_with_a_request_is_written_next_to_its_partner_file(fed, admin, member):
    form = member.get(f"{fed.url}/partenaires/demande")
    logo = png_image()
    page = post_form(member, form, REQUEST_FORM,
                     request_fields("https://logo.dumbea.nc/callback", name="Service au logo"),
                     files={"logo": ("mairie.png", logo, "image/png")})
    request_id = request_id_of(page)
    assert requests_of(fed).of("commune-dumbea", request_id).form["logo"]["suffix"] == ".png"
    decide(fed, admin, request_id, "approuver")
    service_id = requests_of(fed).of("commune-dumbea", request_id).service_id
    assert partner_file(fed, service_id)["logo"] == f"{service_id}.logo.png"
    assert (fed.fed.folder / "partenaires" / f"{service_id}.logo.png").read_bytes() == logo

    def served() -> bool:
        answer = Browser().get(f"{fed.url}/logos/{service_id}")
        return answer.status_code == 200 and answer.content == logo
    eventually(served, "the reloaded proxy serves the logo")


def test_an_svg_logo_with_a_script_is_refused_next_to_its_field(fed, member):
    form = member.get(f"{fed.url}/partenaires/demande")
    svg = b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>'
    page = post_form(member, form, REQUEST_FORM,
                     request_fields("https://svg.dumbea.nc/callback", name="Service SVG"),
                     files={"logo": ("logo.svg", svg, "image/svg+xml")})
    assert page.status_code == 400 and "event handler" in field_error(page, "logo")
    assert field_value(page, "service_name") == "Service SVG"  # nothing typed is lost


def test_a_change_keeps_the_logo_unless_a_new_one_is_sent(fed, admin, member):
    form = member.get(f"{fed.url}/partenaires/demande")
    post_form(member, form, REQUEST_FORM,
              request_fields("https://garde.dumbea.nc/callback", name="Logo gardé"),
              files={"logo": ("a.png", png_image(2, 2), "image/png")})
    (request,) = [r for r in requests_of(fed).of_organisation("commune-dumbea")
                  if r.form["service_name"] == "Logo gardé"]
    decide(fed, admin, request.id, "approuver")
    service_id = requests_of(fed).of("commune-dumbea", request.id).service_id
    propose(fed, member, service_id, {"contact": "autre@dumbea.nc"})
    assert partner_file(fed, service_id)["logo"] == f"{service_id}.logo.png"
    assert partner_file(fed, service_id)["contact"] == "autre@dumbea.nc"


# -- private_key_jwt ------------------------------------------------------------------------

def test_a_private_key_jwt_request_needs_its_jwks_uri_next_to_that_field(fed, member):
    form = member.get(f"{fed.url}/partenaires/demande")
    page = post_form(member, form, REQUEST_FORM, {
        **request_fields("https://cles.dumbea.nc/callback", name="Service à clé"),
        "token_endpoint_auth_method": "private_key_jwt"})
    assert page.status_code == 400
    assert "jwks_uri" in field_error(page, "jwks_uri")


def test_a_private_key_jwt_service_is_registered_with_its_keys_url_and_no_secret(
        fed, admin, member):
    form = member.get(f"{fed.url}/partenaires/demande")
    page = post_form(member, form, REQUEST_FORM, {
        **request_fields("https://cles.dumbea.nc/callback", name="Service à clé publique"),
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks_uri": "https://cles.dumbea.nc/jwks.json"})
    request_id = request_id_of(page)
    decide(fed, admin, request_id, "approuver")
    request = requests_of(fed).of("commune-dumbea", request_id)
    oidc = partner_file(fed, request.service_id)["oidc"]
    assert oidc["token_endpoint_auth_method"] == "private_key_jwt"
    assert oidc["jwks_uri"] == "https://cles.dumbea.nc/jwks.json"
    assert "client_secret_sha256" not in oidc
    page = member.get(f"{fed.url}/partenaires/demandes/{request_id}")
    assert BeautifulSoup(page.text, "html.parser").select_one("#form-secret") is None
    service = member.get(f"{fed.url}/partenaires/services/{request.service_id}")
    assert BeautifulSoup(service.text, "html.parser").select_one("#form-secret") is None
