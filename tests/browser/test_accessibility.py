"""NC Connect's own screens pass axe-core's WCAG 2.1 A/AA rules with no serious or critical
violation, in French (the default) and in English (when the browser asks for it).

axe needs an inline script, which our CSP forbids: these pages are opened in contexts made
with ``bypass_csp=True`` (see idp.testbed.axe). Each report is kept under artefacts/axe/.
"""

from __future__ import annotations

from urllib.parse import urlencode

import pytest

from idp.testbed.axe import assert_no_serious_violation

from .steps import choose_source, later_visit_remembering_the_choice, open_choice_page

LANGUAGES = [
    pytest.param("fr-FR", "fr", "Je choisis un compte pour me connecter", "Service inconnu",
                 id="fr"),
    pytest.param("en-GB", "en", "Choose an account to sign in", "Unknown service", id="en"),
]


def _unknown_client_authorize(fed) -> str:
    query = {"response_type": "code", "scope": "openid profile", "state": "s", "nonce": "n",
             "client_id": "inconnu", "redirect_uri": "https://evil.example/cb"}
    return f"{fed.proxy_url}/oidc/authorize?{urlencode(query)}"


def _heading(page) -> str:
    return page.get_by_role("heading", level=1).inner_text()


@pytest.mark.parametrize(("locale", "lang", "choice_title", "error_title"), LANGUAGES)
def test_choice_page_has_no_serious_accessibility_violation(
        fed, new_page, axe, screenshots, locale, lang, choice_title, error_title):
    page = new_page(locale=locale, bypass_csp=True)
    open_choice_page(page, fed)
    assert page.locator("html").get_attribute("lang") == lang
    assert _heading(page) == choice_title
    screenshots.take(page, f"choix-{lang}")
    assert_no_serious_violation(axe(page))


@pytest.mark.parametrize(("locale", "lang", "choice_title", "error_title"), LANGUAGES)
def test_error_page_has_no_serious_accessibility_violation(
        fed, new_page, axe, screenshots, locale, lang, choice_title, error_title):
    page = new_page(locale=locale, bypass_csp=True)
    response = page.goto(_unknown_client_authorize(fed))
    assert response is not None and response.status == 400
    assert page.url.startswith(fed.proxy_url)  # a page of ours, never a redirect
    assert page.locator("html").get_attribute("lang") == lang
    assert _heading(page) == error_title
    assert page.locator("code[data-code]").get_attribute("data-code") == "client_inconnu"
    screenshots.take(page, f"erreur-client-inconnu-{lang}")
    assert_no_serious_violation(axe(page))


def test_choice_page_with_the_last_used_account_has_no_serious_accessibility_violation(
        fed, new_page, axe, screenshots):
    """The remembered account is marked ("Dernier compte utilisé") and described to
    screen readers: that variant of the page is checked too."""
    first = new_page(bypass_csp=True)
    open_choice_page(first, fed)
    choose_source(first, fed, "src-idp")
    page = later_visit_remembering_the_choice(first, new_page, bypass_csp=True)
    open_choice_page(page, fed)
    assert page.locator("button.memorise").get_attribute("value") == "src-idp"
    screenshots.take(page, "choix-dernier-compte-utilise")
    assert_no_serious_violation(axe(page))


def test_pages_are_french_when_the_browser_prefers_neither_french_nor_english(fed, new_page):
    page = new_page(locale="de-DE")
    open_choice_page(page, fed)
    assert page.locator("html").get_attribute("lang") == "fr"
    assert _heading(page) == "Je choisis un compte pour me connecter"
