"""Units of the choice page's hint, the error pages' way back and help desk settings."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from saml2.samlp import IDPEntry, IDPList, Scoping, authn_request_from_string
from satosa.context import Context
from satosa.state import State

from idp import source_hint
from idp.pages import configure_help, error_page, forget_service, remember_service, service_of
from idp.settings import HelpContact
from plugins.frontends.saml2.sso import _idp_list


def _context() -> Context:
    context = Context()
    context.state = State()
    return context


# -- hint --------------------------------------------------------------------------------------


@pytest.mark.parametrize(("values", "kept"), [
    (["compte-nc"], ("compte-nc",)),
    ([" compte-nc ", "compte-nc"], ("compte-nc",)),
    (["", None, 3, "a b", "x" * 513, "nul\x00"], ()),
    (["x" * 512], ("x" * 512,)),
    ([f"s{i}" for i in range(source_hint.MAX_HINTS)], tuple(f"s{i}" for i in range(10))),
    ([f"s{i}" for i in range(source_hint.MAX_HINTS + 1)], ()),
])
def test_hint_values_are_bounded(values, kept):
    assert source_hint.clean(values) == kept


def test_a_hint_is_read_once_and_a_request_without_one_clears_it():
    context = _context()
    source_hint.record(context, ["src-op"])
    source_hint.record(context, [])
    assert source_hint.take(context) == ()
    source_hint.record(context, ["src-op"])
    assert source_hint.take(context) == ("src-op",)
    assert source_hint.take(context) == ()


def test_a_tampered_state_gives_no_hint():
    context = _context()
    context.state[source_hint.STATE_KEY] = {"not": "a list"}
    assert source_hint.take(context) == ()


def test_idp_list_of_an_authn_request():
    scoping = Scoping(idp_list=IDPList(idp_entry=[IDPEntry(provider_id="https://a/md"),
                                                  IDPEntry(provider_id="src-op")]))
    xml = ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" '
           'Version="2.0" IssueInstant="2026-01-01T00:00:00Z">' + str(scoping.to_string(),
                                                                       "utf-8")
           .replace("<?xml version='1.0' encoding='UTF-8'?>", "") + "</samlp:AuthnRequest>")
    assert _idp_list(authn_request_from_string(xml)) == ("https://a/md", "src-op")


def test_no_scoping_no_idp_list():
    xml = ('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" '
           'Version="2.0" IssueInstant="2026-01-01T00:00:00Z"/>')
    assert _idp_list(authn_request_from_string(xml)) == ()


# -- the error pages' way back and help desk ---------------------------------------------------


def test_the_way_back_is_the_origin_of_a_registered_address():
    context = _context()
    remember_service(context, "Mairie", "https://mairie.nc/oidc/callback?x=1")
    assert service_of(context) == {"name": "Mairie", "home": "https://mairie.nc/"}
    page = error_page("session_expiree", context, 400).message
    assert 'href="https://mairie.nc/"' in page and "Mairie" in page
    forget_service(context)
    assert service_of(context) is None


@pytest.mark.parametrize("address", ["com.example.app:/cb", "javascript:alert(1)", "", None])
def test_no_way_back_without_a_web_origin(address):
    context = _context()
    remember_service(context, "Appli", address)
    assert service_of(context) is None
    assert "retour-service" not in error_page("session_expiree", context, 400).message


def test_a_tampered_service_record_is_ignored():
    context = _context()
    context.state["ncc_service"] = {"name": "X", "home": "javascript:alert(1)"}
    assert service_of(context) is None


def test_help_desk_on_error_pages_and_the_code_last():
    configure_help(HelpContact(email="aide@connect.gouv.nc", phone="+687 27 00 00",
                               url="https://connect.gouv.nc/aide"))
    try:
        page = error_page("client_inconnu").message
        assert 'href="mailto:aide@connect.gouv.nc"' in page
        assert 'href="tel:+687270000"' in page
        assert 'href="https://connect.gouv.nc/aide"' in page
        assert page.index('id="aide"') < page.index('class="code"')
        assert "Code\u00a0: <code" in page
    finally:
        configure_help(None)
    assert 'id="aide"' not in error_page("client_inconnu").message


@pytest.mark.parametrize("fields", [
    {}, {"email": "pas-une-adresse"}, {"url": "http://connect.gouv.nc/aide"},
    {"url": "https://x/\"><script>"}, {"phone": "appelez-nous"}, {"fax": "123"},
])
def test_help_desk_settings_are_validated(fields):
    with pytest.raises(ValidationError):
        HelpContact(**fields)


def test_the_way_back_names_the_service_in_the_page_language():
    context = _context()
    remember_service(context, {"fr": "Mairie", "en": "Town hall"}, "https://mairie.nc/cb")
    assert service_of(context, "en")["name"] == "Town hall"
    assert service_of(context, "fr")["name"] == "Mairie"
    remember_service(context, {"fr": "Mairie"}, "https://mairie.nc/cb")
    assert service_of(context, "en")["name"] == "Mairie"
