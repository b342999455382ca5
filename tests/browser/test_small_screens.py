"""Every citizen page at 320 CSS px (WCAG 1.4.10 Reflow): no horizontal scrolling; the error
pages' way back to the service and help desk; the cancel at a source, back to the choice and
then back to the service — in Debian's Chromium, checked with axe (WCAG 2.1 A/AA).
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
import yaml

from idp.demo.citizens import CITIZENS
from idp.testbed.axe import assert_no_serious_violation
from idp.testbed.federation import DEFAULT_SERVICES, build_federation

from .steps import (
    CONNECT,
    RESULT,
    choose_source,
    fill_source_form,
    mairie_with_consent,
    open_choice_page,
)

MAIRIE = "rp-mairie"
SERVICES = {
    **DEFAULT_SERVICES,
    # Consent, remembered: /mon-compte then has a consent, history and a session to list.
    MAIRIE: mairie_with_consent("Mairie de test — état civil et démarches de la commune"),
}
HELP = {"email": "assistance@connect.example.nc", "phone": "+687 27 00 00",
        "url": "https://connect.example.nc/aide"}
NARROW = {"width": 320, "height": 640}


@pytest.fixture(scope="module")
def fed(tmp_path_factory, redis_server):
    federation = build_federation(tmp_path_factory.mktemp("small-screens"), SERVICES)
    settings = yaml.safe_load(federation.config.read_text(encoding="utf-8"))
    federation.config.write_text(yaml.safe_dump({**settings, "help": HELP}), encoding="utf-8")
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


def narrow(new_page, **options):
    page = new_page(**options)
    page.set_viewport_size(NARROW)
    return page


def assert_reflows(page, what: str) -> None:
    """Nothing wider than the 320 px viewport: no horizontal scrolling."""
    page.wait_for_load_state()
    widths = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    assert widths[0] <= widths[1], f"{what}: {widths[0]} px wide at {widths[1]} px ({page.url})"


def sign_in(page, citizen) -> None:
    fill_source_form(page, citizen)
    page.get_by_role("button", name="Se connecter").click()


def pass_consent(page, remember: bool = False) -> None:
    page.locator(f"{RESULT}, form#form-consentement").first.wait_for()
    if page.locator("form#form-consentement").count():
        if remember:
            page.get_by_label("Se souvenir de mon choix").check()
        page.locator("form#form-consentement button#accepter, "
                     "form#form-consentement button#continuer").click()
    page.locator(RESULT).wait_for()


def forged_callback(page, fed) -> None:
    """An error of ours after the service's request was validated: a source's callback while
    no login is under way at it (``session_expiree``)."""
    page.goto(f"{fed.proxy_url}/src-op/oidc/callback?code=x&state=forged")


# -- 320 px ----------------------------------------------------------------------------------


def test_choice_consent_account_and_logout_pages_reflow_at_320_px(fed, new_page, screenshots):
    citizen = CITIZENS[2]
    page = narrow(new_page)
    # Choice page.
    page.goto(fed.url(MAIRIE) + "/")
    page.get_by_role("link", name=CONNECT).click()
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    assert_reflows(page, "choice page")
    screenshots.take(page, "320-choix")
    # Cancel at the source: the choice page with its notice.
    choose_source(page, fed, "src-op")
    page.get_by_role("button", name=re.compile("Annuler")).click()
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    assert_reflows(page, "choice page after a cancel")
    # Consent screen.
    choose_source(page, fed, "src-op")
    sign_in(page, citizen)
    page.locator("form#form-consentement").wait_for()
    assert_reflows(page, "consent screen")
    screenshots.take(page, "320-consentement")
    pass_consent(page, remember=True)
    # Mon espace NC Connect: sessions, consents, history.
    page.goto(f"{fed.proxy_url}/mon-compte")
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    assert_reflows(page, "choice page of the account space")
    choose_source(page, fed, "src-op")
    sign_in(page, citizen)
    page.locator("#table-historique").wait_for()
    assert page.locator("#table-consentements").count() == 1
    assert page.locator("#table-sessions").count() == 1
    assert_reflows(page, "/mon-compte")
    screenshots.take(page, "320-mon-compte")
    # Its sub-pages: a consent withdrawn, then signed out of the space.
    page.get_by_role("button", name="Retirer mon consentement").first.click()
    page.locator("#statut").wait_for()
    assert_reflows(page, "/mon-compte after a withdrawal")
    page.get_by_role("button", name="Me déconnecter de mon espace").click()
    page.get_by_role("heading", name="Vous êtes déconnecté de votre espace").wait_for()
    assert_reflows(page, "signed out of the space")
    # Logout: the confirmation (no id_token_hint), then the result.
    page.goto(f"{fed.proxy_url}/oidc/logout")
    page.get_by_role("button", name="Me déconnecter").wait_for()
    assert_reflows(page, "logout confirmation")
    page.get_by_role("button", name="Me déconnecter").click()
    page.locator("#deconnexion").wait_for()
    assert_reflows(page, "logout result")
    screenshots.take(page, "320-deconnexion")


def test_error_pages_reflow_at_320_px(fed, new_page, screenshots):
    page = narrow(new_page)
    query = {"response_type": "code", "scope": "openid", "state": "s", "nonce": "n",
             "client_id": "inconnu-" + "x" * 80, "redirect_uri": "https://evil.example/cb"}
    page.goto(f"{fed.proxy_url}/oidc/authorize?{urlencode(query)}")
    page.locator("code[data-code]").wait_for()
    assert_reflows(page, "error page (unknown client)")
    open_choice_page(page, fed)
    forged_callback(page, fed)
    page.locator("#retour-service").wait_for()
    assert_reflows(page, "error page with the way back")
    screenshots.take(page, "320-erreur")
    page.goto(f"{fed.proxy_url}/nulle-part")
    assert_reflows(page, "page not found")


def test_english_pages_reflow_at_320_px(fed, new_page):
    page = narrow(new_page, locale="en-GB")
    open_choice_page(page, fed)
    assert_reflows(page, "choice page (en)")
    forged_callback(page, fed)
    page.locator("#retour-service").wait_for()
    assert_reflows(page, "error page (en)")


# -- error pages: the way back and the help desk ------------------------------------------


def test_error_page_leads_back_to_the_service_and_to_help(fed, new_page, screenshots):
    page = new_page()
    open_choice_page(page, fed)
    forged_callback(page, fed)
    assert page.get_by_role("heading", level=1).inner_text() == "Session expirée"
    back = page.locator("a#retour-service")
    assert back.inner_text() == "Revenir sur le site de «\u00a0Service de test rp-choix\u00a0»"
    assert back.get_attribute("href") == fed.url("rp-choix") + "/"
    assert page.locator("a#aide-courriel").get_attribute("href") == f"mailto:{HELP['email']}"
    assert page.locator("a#aide-telephone").get_attribute("href") == "tel:+687270000"
    assert page.locator("a#aide-page").get_attribute("href") == HELP["url"]
    # The code comes last, small.
    last = page.locator("section.erreur > *").last
    assert last.get_attribute("class") == "code"
    assert last.inner_text() == "Code\u00a0: session_expiree"
    screenshots.take(page, "erreur-avec-retour")
    back.click()
    page.wait_for_url(fed.url("rp-choix") + "/")


def test_error_page_of_an_unknown_client_has_no_way_back_but_help(fed, new_page):
    page = new_page()
    query = {"response_type": "code", "scope": "openid", "state": "s", "nonce": "n",
             "client_id": "inconnu", "redirect_uri": "https://evil.example/cb"}
    page.goto(f"{fed.proxy_url}/oidc/authorize?{urlencode(query)}")
    page.locator("code[data-code]").wait_for()
    assert page.locator("#retour-service").count() == 0
    assert page.locator("#aide").count() == 1


def test_an_unknown_client_after_a_valid_request_gets_no_way_back(fed, new_page):
    """The same browser's earlier, valid request must not lend its service to a forged one."""
    page = new_page()
    open_choice_page(page, fed)
    query = {"response_type": "code", "scope": "openid", "state": "s", "nonce": "n",
             "client_id": "inconnu", "redirect_uri": "https://evil.example/cb"}
    page.goto(f"{fed.proxy_url}/oidc/authorize?{urlencode(query)}")
    page.locator("code[data-code]").wait_for()
    assert page.locator("#retour-service").count() == 0


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_error_page_with_the_way_back_has_no_serious_accessibility_violation(
        fed, new_page, axe, locale):
    page = new_page(locale=locale, bypass_csp=True)
    open_choice_page(page, fed)
    forged_callback(page, fed)
    page.locator("#retour-service").wait_for()
    assert_no_serious_violation(axe(page))
    page.set_viewport_size(NARROW)
    assert_no_serious_violation(axe(page))


# -- cancel at the source ----------------------------------------------------------------------


def test_cancel_at_the_source_then_back_to_the_service(fed, page, csp_refusals, screenshots):
    open_choice_page(page, fed)
    choose_source(page, fed, "src-idp")
    page.get_by_role("button", name=re.compile("Annuler")).click()
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    notice = page.get_by_role("status")
    assert notice.inner_text() == ("Vous avez annulé la connexion avec Annuaire SAML de test. "
                                   "Choisissez un autre compte ou revenez au service.")
    screenshots.take(page, "choix-apres-annulation")
    page.get_by_role("button", name="Revenir au service").click()
    error = page.locator("#erreur[data-error]")
    error.wait_for()
    assert error.get_attribute("data-error") == "access_denied"
    assert page.url.startswith(fed.url("rp-choix") + "/callback")
    assert csp_refusals.messages == []


def test_cancel_at_the_source_then_another_account(fed, page, csp_refusals):
    open_choice_page(page, fed)
    choose_source(page, fed, "src-op")
    page.get_by_role("button", name=re.compile("Annuler")).click()
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    choose_source(page, fed, "src-idp")
    sign_in(page, CITIZENS[0])
    pass_consent(page)
    assert csp_refusals.messages == []


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_choice_page_after_a_cancel_has_no_serious_accessibility_violation(
        fed, new_page, axe, locale):
    page = new_page(locale=locale, bypass_csp=True)
    page.goto(f"{fed.url('rp-op')}/login")  # one source: straight to it
    page.wait_for_url(f"{fed.url('src-op')}/**")
    page.get_by_role("button", name=re.compile("Annuler")).click()
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    assert page.get_by_role("status").count() == 1
    assert_no_serious_violation(axe(page))
    page.set_viewport_size(NARROW)
    assert_reflows(page, "choice page with one source after a cancel")
    assert_no_serious_violation(axe(page))
