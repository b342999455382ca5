"""Steps of a login through the account source, as a browser does them."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from bs4 import BeautifulSoup

from idp.testbed.browser import Browser
from idp.testbed.federation import Federation
from idp.testbed.login import decide, on_consent_screen

from .conftest import SOURCE

FORM_PATH = f"/{SOURCE}/connexion"


def open_form(browser: Browser, fed: Federation, service: str = "rp-compte") -> requests.Response:
    """From the service's "Se connecter avec NC Connect" to the account source's form."""
    page = browser.get(f"{fed.url(service)}/login")
    if urlsplit(page.url).path == "/choix":
        page = browser.submit(page, {}, button=("source", SOURCE))
    assert form_of(page) is not None, f"no login form: {page.status_code} {page.url}"
    return page


def form_of(page: requests.Response):
    return BeautifulSoup(page.text, "html.parser").select_one("form#form-connexion")


def post_login(browser: Browser, form_page: requests.Response, login: str,
               password: str) -> requests.Response:
    """Submit the form (not followed)."""
    return browser.submit(form_page, {"identifiant": login, "mot_de_passe": password},
                          form_selector="form#form-connexion", follow=False)


def sign_in(browser: Browser, form_page: requests.Response, login: str,
            password: str) -> requests.Response:
    """Submit the form and follow to the service, passing the consent screen."""
    page = browser.follow(post_login(browser, form_page, login, password))
    if on_consent_screen(page):
        page = decide(browser, page)
    return page


def problem_of(page: requests.Response) -> str | None:
    """The code of the problem the form shows (``identifiants``, ``trop_essais``...)."""
    alert = BeautifulSoup(page.text, "html.parser").select_one("#erreur-connexion")
    return alert["data-code"] if alert is not None else None


def problem_text(page: requests.Response) -> str:
    alert = BeautifulSoup(page.text, "html.parser").select_one("#erreur-connexion")
    return alert.get_text(" ", strip=True) if alert is not None else ""
