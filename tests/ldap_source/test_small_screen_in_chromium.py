"""The account source's login form at 320 CSS px (WCAG 1.4.10 Reflow), fresh and with an
error, and its "Annuler" back to the choice of account, in Chromium, axe clean."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from idp.testbed.axe import assert_no_serious_violation, run_axe
from idp.testbed.chromium import new_context

from .conftest import new_address

if TYPE_CHECKING:
    from playwright.sync_api import Page

NARROW = {"width": 320, "height": 640}


@pytest.fixture
def new_page(chromium_browser) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_page(locale: str = "fr-FR", bypass_csp: bool = False) -> Page:
        context = new_context(chromium_browser, locale=locale, bypass_csp=bypass_csp)
        context.set_extra_http_headers({"X-Forwarded-For": new_address()})
        contexts.append(context)
        page = context.new_page()
        page.set_viewport_size(NARROW)
        return page

    yield open_page
    for context in contexts:
        context.close()


def _fits(page: Page) -> None:
    page.wait_for_load_state()
    width, inner = page.evaluate("() => [document.documentElement.scrollWidth, innerWidth]")
    assert width <= inner, f"{width} px wide at {inner} px ({page.url})"


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_the_login_form_reflows_at_320_px(fed, new_page, locale):
    page = new_page(locale=locale, bypass_csp=True)
    page.goto(f"{fed.url('rp-compte')}/login")
    page.locator("form#form-connexion").wait_for()
    _fits(page)
    assert_no_serious_violation(run_axe(page))
    page.locator("#identifiant").fill("personne.inconnue")
    page.locator("#mot-de-passe").fill("pas-le-bon")
    page.locator("form#form-connexion button[type=submit]").click()
    page.locator("#erreur-connexion").wait_for()
    _fits(page)
    assert_no_serious_violation(run_axe(page))


def test_annuler_goes_back_to_the_choice_then_to_the_service(fed, new_page):
    page = new_page()
    page.goto(f"{fed.url('rp-compte')}/login")
    page.locator("form#form-connexion").wait_for()
    page.get_by_role("button", name="Annuler").click()
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    assert page.get_by_role("status").inner_text().startswith(
        "Vous avez annulé la connexion avec")
    _fits(page)
    page.get_by_role("button", name="Revenir au service").click()
    error = page.locator("#erreur[data-error]")
    error.wait_for()
    assert error.get_attribute("data-error") == "access_denied"
