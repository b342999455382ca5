"""A citizen signs in with a real Chromium, clicking what a person clicks, screen by screen.

Every screen is kept as a screenshot under artefacts/screenshots/<test>/. The pages keep
the production headers of the proxy and of the demo peers: Chromium must refuse nothing
under their Content-Security-Policy.
"""

from __future__ import annotations

import pytest

from .steps import (
    CONNECT,
    SOURCES,
    attributes_shown,
    choose_source,
    fill_source_form,
    submit_source_form,
)


@pytest.mark.parametrize("source", sorted(SOURCES))
def test_citizen_clicks_through_a_whole_login_and_the_service_shows_the_attributes(
        fed, page, csp_refusals, screenshots, citizen, source):
    page.goto(fed.url("rp-choix") + "/")
    screenshots.take(page, "service-accueil")

    page.get_by_role("link", name=CONNECT).click()
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    assert page.get_by_role(
        "heading", name="Je choisis un compte pour me connecter").is_visible()
    screenshots.take(page, "ncconnect-choix-du-compte")

    choose_source(page, fed, source)
    fill_source_form(page, citizen)
    screenshots.take(page, "source-formulaire-de-connexion")

    submit_source_form(page, on_consent=lambda p: screenshots.take(p, "ncconnect-consentement"))
    screenshots.take(page, "service-attributs-recus")
    assert page.url.startswith(fed.url("rp-choix") + "/callback")
    attributes = attributes_shown(page)
    assert attributes["given_name"] == citizen.claims["given_name"]
    assert attributes["family_name"] == citizen.claims["family_name"]
    assert "birthdate" not in attributes  # rp-choix's partner file does not allow it
    assert csp_refusals.messages == []


def test_saml_hand_off_pages_submit_themselves_under_the_production_csp(
        fed, page, csp_refusals, screenshots, citizen):
    """SAML service and SAML source: both POST hand-offs run autopost.js, a same-origin
    script, with no click from the citizen."""
    page.goto(fed.url("sp-idp") + "/")
    page.get_by_role("link", name=CONNECT).click()
    page.wait_for_url(fed.url("src-idp") + "/**")
    fill_source_form(page, citizen)
    submit_source_form(page)
    screenshots.take(page, "service-saml-attributs-recus")
    assert attributes_shown(page)["urn:oid:2.5.4.4"] == citizen.claims["family_name"]
    assert csp_refusals.messages == []
