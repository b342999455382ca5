"""The whole login through the account source in Chromium: keyboard only, under our
production CSP (the form's post is answered by a redirect to the service), and the form
(fresh and with an error) passing axe's WCAG 2.1 A/AA rules with no serious violation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from idp.testbed.axe import assert_no_serious_violation, run_axe
from idp.testbed.chromium import ARTEFACTS, Screenshots, new_context
from tests.browser.steps import at_consent_screen, attributes_shown, focused

from .conftest import RESET_URL, new_address, password_of, token
from .journey import FORM_PATH

if TYPE_CHECKING:
    from playwright.sync_api import Page

UID = "ali.navigateur"
LANGUAGES = [pytest.param("fr-FR", "fr", "Identifiant", "Mot de passe oublié ?", id="fr"),
             pytest.param("en-GB", "en", "Username", "Forgot your password?", id="en")]


@pytest.fixture
def new_page(chromium_browser) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_page(locale: str = "fr-FR", bypass_csp: bool = False) -> Page:
        context = new_context(chromium_browser, locale=locale, bypass_csp=bypass_csp)
        context.set_extra_http_headers({"X-Forwarded-For": new_address()})
        contexts.append(context)
        return context.new_page()

    yield open_page
    for context in contexts:
        context.close()


def _open_form(page: Page, fed) -> None:
    page.goto(f"{fed.url('rp-compte')}/login")
    page.wait_for_url(f"{fed.proxy_url}/**")
    page.locator("form#form-connexion").wait_for()


def test_login_journey_with_the_keyboard_only(fed, new_page):
    page = new_page()
    _open_form(page, fed)
    page.wait_for_function("document.activeElement && document.activeElement.id === "
                           "'identifiant'", timeout=5000)
    assert page.locator("#identifiant").get_attribute("autocomplete") == "username"
    assert page.locator("#mot-de-passe").get_attribute("autocomplete") == "current-password"
    page.keyboard.type(UID)
    page.keyboard.press("Tab")
    assert focused(page)["id"] == "mot-de-passe"
    page.keyboard.type(password_of(UID))
    page.keyboard.press("Enter")
    if at_consent_screen(page):
        page.locator("form#form-consentement button#continuer, "
                     "form#form-consentement button#accepter").first.focus()
        page.keyboard.press("Enter")
    page.locator("table#attributs").wait_for()
    assert attributes_shown(page)["given_name"] == "Ali"


@pytest.mark.parametrize(("locale", "lang", "label", "reset"), LANGUAGES)
def test_login_form_has_no_serious_accessibility_violation(request, fed, new_page, locale,
                                                           lang, label, reset):
    page = new_page(locale=locale, bypass_csp=True)
    screenshots = Screenshots(request.node.name)
    _open_form(page, fed)
    screenshots.take(page, f"connexion-compte-{lang}")
    assert page.locator("html").get_attribute("lang") == lang
    assert page.get_by_label(label).is_visible()
    assert page.get_by_role("link", name=reset).get_attribute("href") == RESET_URL
    report = run_axe(page)
    report.save(ARTEFACTS / "axe" / f"ldap-formulaire-{lang}.json")
    assert_no_serious_violation(report)
    # With an error: announced, and linked to both fields.
    page.fill("#identifiant", f"personne.inconnue.{token()}")
    page.fill("#mot-de-passe", "faux")
    page.press("#mot-de-passe", "Enter")
    page.wait_for_url(f"{fed.proxy_url}{FORM_PATH}")
    alert = page.get_by_role("alert")
    assert alert.is_visible()
    assert page.locator("#identifiant").get_attribute("aria-describedby") == "erreur-connexion"
    screenshots.take(page, f"connexion-compte-erreur-{lang}")
    report = run_axe(page)
    report.save(ARTEFACTS / "axe" / f"ldap-formulaire-erreur-{lang}.json")
    assert_no_serious_violation(report)
