"""Single logout in Debian's Chromium, under our production Content-Security-Policy: every hop
(a SAML service over POST, the identity source, back to the service) is allowed by the
``form-action`` of the page whose form started it, and the citizen ends where they should."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from idp.demo.citizens import CITIZENS, Citizen
from idp.testbed.axe import assert_no_serious_violation, run_axe
from idp.testbed.chromium import CspRefusals
from idp.testbed.chromium import new_context as new_browser_context

if TYPE_CHECKING:
    from playwright.sync_api import Page

RESULT = "table#attributs"
CONSENT = "form#form-consentement"
GO_ON = f"{CONSENT} button#accepter, {CONSENT} button#continuer"


@pytest.fixture
def watched(chromium_browser) -> Iterator[tuple[Page, CspRefusals]]:
    context = new_browser_context(chromium_browser)
    refusals = CspRefusals().watch(context)
    yield context.new_page(), refusals
    context.close()


def _sign_in(page: Page, fed, citizen: Citizen, services: list[str]) -> None:
    """At the first service through the source's form, then at the others through SSO."""
    page.goto(f"{fed.url(services[0])}/login")
    page.get_by_label("Identifiant").fill(citizen.username)
    page.get_by_label("Mot de passe").fill(citizen.password)
    page.get_by_role("button", name="Se connecter").click()
    for service in services:
        if service != services[0]:
            page.goto(f"{fed.url(service)}/login")
        page.locator(RESULT).or_(page.locator(CONSENT)).first.wait_for()
        if page.locator(CONSENT).is_visible():
            page.locator(GO_ON).click()
        page.locator(RESULT).wait_for()


def test_logout_through_a_posted_saml_hop_and_the_source_ends_back_at_the_service(
        fed, watched, citizen):
    page, refusals = watched
    _sign_in(page, fed, citizen, ["sp-post", "rp-a"])
    asked = len(fed.apps["sp-post"].logout_requests)

    page.get_by_role("link", name="Se déconnecter").click()  # on rp-a's page

    page.locator("#deconnecte").wait_for()
    assert page.url.startswith(f"{fed.url('rp-a')}/?state=")
    assert len(fed.apps["sp-post"].logout_requests) == asked + 1
    assert refusals.messages == []


def test_an_sp_initiated_logout_is_answered_over_post_to_the_sp(fed, watched, citizen):
    page, refusals = watched
    _sign_in(page, fed, citizen, ["rp-a", "sp-post"])
    told = len(fed.apps["rp-a"].backchannel_logouts)

    page.get_by_role("link", name="Se déconnecter").click()  # on sp-post's page

    page.locator("#deconnecte").wait_for()
    assert page.url == f"{fed.url('sp-post')}/slo/post"
    assert fed.apps["sp-post"].logout_responses[-1]["status"].endswith(":Success")
    assert len(fed.apps["rp-a"].backchannel_logouts) == told + 1
    assert refusals.messages == []


def test_confirming_a_logout_without_hint_may_lead_through_every_hop(fed, watched, citizen):
    page, refusals = watched
    _sign_in(page, fed, citizen, ["rp-a", "sp-a"])
    asked = len(fed.apps["sp-a"].logout_requests)

    page.goto(f"{fed.proxy_url}/oidc/logout?client_id=rp-a&state=z"
              f"&post_logout_redirect_uri={fed.url('rp-a')}/")
    page.get_by_role("button", name="Me déconnecter").click()

    page.wait_for_url(f"{fed.url('rp-a')}/?state=z")
    assert len(fed.apps["sp-a"].logout_requests) == asked + 1
    assert refusals.messages == []


def test_signing_out_everywhere_from_my_space_passes_every_hop(fed, watched):
    # A citizen of this test alone: "partout" ends every session of theirs.
    citizen = CITIZENS[4]
    page, refusals = watched
    _sign_in(page, fed, citizen, ["rp-a", "sp-a"])
    asked = len(fed.apps["sp-a"].logout_requests)
    _open_my_space(page, fed, citizen)

    page.get_by_role("button", name="Me déconnecter partout").click()

    page.locator("#retour-compte").wait_for()
    assert page.url.startswith(fed.proxy_url)
    assert len(fed.apps["sp-a"].logout_requests) == asked + 1
    assert refusals.messages == []


@pytest.fixture
def axe_page(chromium_browser) -> Iterator[Page]:
    """A page whose context bypasses the CSP, for axe-core's injected script only."""
    context = new_browser_context(chromium_browser, bypass_csp=True)
    yield context.new_page()
    context.close()


def test_the_logout_screens_have_no_serious_accessibility_violation(fed, axe_page, citizen):
    page = axe_page
    _sign_in(page, fed, citizen, ["rp-a", "rp-panne", "rp-sans"])
    _open_my_space(page, fed, citizen)
    assert_no_serious_violation(run_axe(page))  # with "Mes sessions NC Connect"

    page.goto(f"{fed.proxy_url}/oidc/logout")
    page.get_by_role("button", name="Me déconnecter").wait_for()
    assert_no_serious_violation(run_axe(page))  # the confirmation

    page.get_by_role("button", name="Me déconnecter").click()
    page.locator("#services-injoignables").wait_for()
    assert_no_serious_violation(run_axe(page))  # the result, every list shown


def _open_my_space(page: Page, fed, citizen: Citizen) -> None:
    page.goto(f"{fed.proxy_url}/mon-compte")
    page.get_by_role("button", name="Identité OIDC de test").click()
    page.get_by_label("Identifiant").fill(citizen.username)
    page.get_by_label("Mot de passe").fill(citizen.password)
    page.get_by_role("button", name="Se connecter").click()
    page.locator("#table-sessions").wait_for()
