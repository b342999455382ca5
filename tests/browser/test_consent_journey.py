"""The consent journey in a real Chromium: asked, accepted and remembered, withdrawn in
/mon-compte, asked again; and refused. Every screen is kept as a screenshot, and the
consent and account pages are checked with axe (WCAG 2.1 A/AA).
"""

from __future__ import annotations

import datetime as dt

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.axe import assert_no_serious_violation
from idp.testbed.federation import build_federation

from .steps import (
    CONNECT,
    RESULT,
    attributes_shown,
    choose_source,
    fill_source_form,
    mairie_with_consent,
)

SERVICE = "rp-mairie"
#: A service whose legal basis is consent, remembering the choice for 30 days, with one
#: optional attribute: the screen asks, with "Accepter" / "Refuser".
SERVICES = {SERVICE: mairie_with_consent("Mairie de test — état civil")}


@pytest.fixture(scope="module")
def fed(tmp_path_factory, redis_server):
    federation = build_federation(tmp_path_factory.mktemp("consent-journey"), SERVICES)
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture
def citizen():
    return CITIZENS[1]


def sign_in_at_the_service(page, fed, citizen, source="src-op") -> None:
    page.goto(fed.url(SERVICE) + "/")
    page.get_by_role("link", name=CONNECT).click()
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    choose_source(page, fed, source)
    fill_source_form(page, citizen)
    page.get_by_role("button", name="Se connecter").click()


def consent_screen(page):
    form = page.locator("form#form-consentement")
    page.locator(f"{RESULT}, form#form-consentement").first.wait_for()
    return form if form.count() else None


def shown_lines(page) -> dict[str, str]:
    """The screen's attribute lines: data-name -> "Label : value"."""
    items = page.locator("li.attribut[data-name]")
    return {str(items.nth(i).get_attribute("data-name")):
            " ".join(items.nth(i).locator(".ligne").inner_text().split())
            for i in range(items.count())}


def open_account_space(page, fed, citizen) -> None:
    page.goto(f"{fed.proxy_url}/mon-compte")
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    choose_source(page, fed, "src-op")
    fill_source_form(page, citizen)
    page.get_by_role("button", name="Se connecter").click()
    page.get_by_role("heading", name="Mon espace NC Connect").wait_for()


def test_citizen_accepts_is_not_asked_again_withdraws_and_is_asked_again(
        fed, page, csp_refusals, screenshots, citizen):
    sign_in_at_the_service(page, fed, citizen)
    assert consent_screen(page) is not None
    born = dt.date.fromisoformat(citizen.claims["birthdate"]).strftime("%d/%m/%Y")
    assert shown_lines(page) == {
        "family_name": f"Nom de naissance : {citizen.claims['family_name']}",
        "given_name": f"Prénoms : {citizen.claims['given_name']}",
        "birthdate": f"Date de naissance : {born}",
        "email": f"Adresse électronique : {citizen.claims['email']}",
    }
    assert page.locator("#finalite").inner_text() == "Délivrer vos actes d'état civil en ligne."
    screenshots.take(page, "ncconnect-consentement")

    page.get_by_label("Se souvenir de mon choix").check()
    page.get_by_role("button", name="Accepter").click()
    page.locator(RESULT).wait_for()
    assert set(attributes_shown(page)) == {"sub", "family_name", "given_name", "birthdate",
                                           "email"}
    screenshots.take(page, "service-attributs-recus")

    # Same browser, later: the SSO session and the remembered choice answer at once.
    page.goto(fed.url(SERVICE) + "/")
    page.get_by_role("link", name=CONNECT).click()
    page.locator(RESULT).wait_for()
    screenshots.take(page, "service-sans-nouvelle-question")

    open_account_space(page, fed, citizen)
    consent_row = page.locator("tr", has_text="Mairie de test — état civil")
    assert consent_row.count() >= 1
    screenshots.take(page, "ncconnect-mon-espace")
    page.get_by_role("button", name="Retirer mon consentement").first.click()
    page.get_by_role("heading", name="Mon espace NC Connect").wait_for()
    screenshots.take(page, "ncconnect-consentement-retire")

    page.goto(fed.url(SERVICE) + "/")
    page.get_by_role("link", name=CONNECT).click()
    assert consent_screen(page) is not None, "withdrawn consent: the screen must show again"
    assert csp_refusals.messages == []


def test_an_unticked_optional_attribute_is_not_sent(fed, page, citizen):
    sign_in_at_the_service(page, fed, CITIZENS[3])
    assert consent_screen(page) is not None
    page.get_by_label("Adresse électronique", exact=False).uncheck()
    page.get_by_role("button", name="Accepter").click()
    page.locator(RESULT).wait_for()
    assert "email" not in attributes_shown(page)


def test_refusal_ends_at_the_service_with_access_denied(fed, page, csp_refusals, screenshots):
    sign_in_at_the_service(page, fed, CITIZENS[4], source="src-idp")
    assert consent_screen(page) is not None
    page.get_by_role("button", name="Refuser").click()
    error = page.locator("#erreur[data-error]")
    error.wait_for()
    assert error.get_attribute("data-error") == "access_denied"
    assert page.url.startswith(fed.url(SERVICE) + "/callback")
    screenshots.take(page, "service-acces-refuse")
    assert csp_refusals.messages == []


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_consent_page_has_no_serious_accessibility_violation(fed, new_page, axe, screenshots,
                                                            locale):
    page = new_page(locale=locale, bypass_csp=True)
    sign_in_at_the_service(page, fed, CITIZENS[0])
    assert consent_screen(page) is not None
    assert_no_serious_violation(axe(page))
    screenshots.take(page, f"consentement-{locale}")


def test_account_page_has_no_serious_accessibility_violation(fed, new_page, axe, screenshots):
    page = new_page(bypass_csp=True)
    open_account_space(page, fed, CITIZENS[0])
    assert_no_serious_violation(axe(page))
    screenshots.take(page, "mon-espace")
