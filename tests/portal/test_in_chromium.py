"""The portal's pages in Debian Chromium: axe-clean (WCAG 2.1 A/AA, no serious or critical
violation), the matrix scrolling in its own region at 1280 px; screenshots and axe reports
under artefacts/ (axe needs ``bypass_csp``, see idp.testbed.axe)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.axe import assert_no_serious_violation, run_axe
from idp.testbed.chromium import ARTEFACTS, Screenshots, new_context
from plugins.frontends.admin import enrolment

from .steps import fill_request_in_chromium


@pytest.fixture
def signed_in_page(portal, chromium_browser, request) -> Iterator:
    """A Chromium page signed in to the portal as an administrator, through an enrolment link
    and the OIDC test source's form."""
    context = new_context(chromium_browser, bypass_csp=True)
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    invitation = enrolment.invite(portal.store, "admin", 600)
    page.goto(invitation.link(portal.url))
    page.get_by_label("Identifiant").fill(CITIZENS[0].username)
    page.get_by_label("Mot de passe").fill(CITIZENS[0].password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{portal.url}/admin/")
    try:
        yield page
    finally:
        context.close()


def _axe(page, name: str):
    report = run_axe(page)
    report.save(ARTEFACTS / "axe" / f"{name}.json")
    return report


def test_the_home_page_is_axe_clean(signed_in_page, request):
    page = signed_in_page
    assert page.locator("html").get_attribute("lang") == "fr"
    assert page.get_by_role("heading", level=1).inner_text() == "Administration NC Connect"
    assert page.locator("#table-roles tbody tr").count() == 1
    Screenshots(request.node.name).take(page, "accueil-admin")
    assert_no_serious_violation(_axe(page, request.node.name))


def test_the_diffusion_page_is_axe_clean_and_its_matrix_scrolls_in_its_region(
        signed_in_page, request):
    page = signed_in_page
    page.get_by_role("link", name="Rapport de diffusion des données (qui reçoit quoi)").click()
    page.wait_for_url("**/admin/diffusion")
    assert page.get_by_role("heading", level=1).inner_text() == "Rapport de diffusion des données"
    # The page itself never scrolls sideways at 1280 px: the matrix scrolls in its region,
    # with its header row and first column sticky.
    sizes = page.evaluate("""() => {
      const region = document.querySelector('.matrice-region');
      const head = document.querySelector('#matrice thead th');
      const first = document.querySelector('#matrice tbody th');
      return {page: document.documentElement.scrollWidth, view: window.innerWidth,
              head: getComputedStyle(head).position, first: getComputedStyle(first).position,
              overflow: getComputedStyle(region).overflowX,
              scrolls: region.scrollWidth > region.clientWidth};
    }""")
    assert sizes["page"] <= sizes["view"] == 1280
    assert sizes["head"] == sizes["first"] == "sticky" and sizes["overflow"] == "auto"
    assert sizes["scrolls"]  # 14 attributes do not fit: the region scrolls, not the page
    Screenshots(request.node.name).take(page, "diffusion-dpo")
    assert_no_serious_violation(_axe(page, request.node.name))
    # The filters are a plain GET form: no script needed.
    page.get_by_label("Attribut", exact=True).select_option("birthdate")
    page.get_by_role("button", name="Filtrer").click()
    page.wait_for_url("**/admin/diffusion?*attribut=birthdate*")
    assert page.locator("#matrice thead th[data-attribute]").count() == 1
    assert_no_serious_violation(_axe(page, f"{request.node.name}-filtre"))


def _signed_in(chromium_browser, link: str, citizen, lands: str):
    context = new_context(chromium_browser, bypass_csp=True)
    page = context.new_page()
    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(link)
    page.get_by_label("Identifiant").fill(citizen.username)
    page.get_by_label("Mot de passe").fill(citizen.password)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(lands)
    return context, page


def test_the_request_form_with_an_error_and_the_admin_queue_are_axe_clean(
        portal, chromium_browser, request):
    shots = Screenshots(request.node.name)
    member_link = enrolment.invite(portal.store, "partner", 600, "commune-paita").link(portal.url)
    member_context, page = _signed_in(chromium_browser, member_link, CITIZENS[1],
                                      f"{portal.url}/partenaires/")
    try:
        page.get_by_role("link", name="Demander le raccordement d'un nouveau service").click()
        page.wait_for_url("**/partenaires/demande")
        fill_request_in_chromium(
            page, "Commune de Païta", "dpo@paita.nc", "Païta — portail famille",
            "Inscrire vos enfants aux activités périscolaires.",
            "http://famille.paita.nc/callback",  # the mistake
            [("family_name", "Retrouver le dossier de la famille.")])
        page.get_by_role("button", name="Envoyer la demande").click()
        page.wait_for_load_state()
        error = page.locator("#erreur-redirect_uris")
        assert "must use https" in error.inner_text()
        assert page.locator("#champ-redirect_uris").get_attribute("aria-invalid") == "true"
        assert page.locator("#champ-redirect_uris").input_value() == \
            "http://famille.paita.nc/callback"
        error.scroll_into_view_if_needed()
        shots.take(page, "demande-partenaire-erreur")
        assert_no_serious_violation(_axe(page, f"{request.node.name}-formulaire"))
        page.fill("#champ-redirect_uris", "https://famille.paita.nc/callback")
        page.get_by_role("button", name="Envoyer la demande").click()
        page.wait_for_url("**/partenaires/demandes/*")
        assert page.locator("#statut-demande").get_attribute("data-status") == "submitted"
    finally:
        member_context.close()

    admin_link = enrolment.invite(portal.store, "admin", 600).link(portal.url)
    admin_context, page = _signed_in(chromium_browser, admin_link, CITIZENS[0],
                                     f"{portal.url}/admin/")
    try:
        page.get_by_role("link", name="Païta — portail famille").first.scroll_into_view_if_needed()
        shots.take(page, "file-admin")
        assert_no_serious_violation(_axe(page, f"{request.node.name}-file"))
        page.get_by_role("link", name="Païta — portail famille").first.click()
        page.wait_for_url("**/admin/demandes/commune-paita/*")
        assert page.locator("#table-donnees tr[data-attribute='family_name']").count() == 1
        shots.take(page, "demande-admin")
        assert_no_serious_violation(_axe(page, f"{request.node.name}-demande"))
    finally:
        admin_context.close()
