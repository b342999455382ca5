"""One complete login, as a citizen's browser does it: service -> proxy -> source -> back."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests

from ..demo.citizens import Citizen
from .browser import Browser


def start(browser: Browser, service_url: str) -> requests.Response:
    """Click "Se connecter avec NC Connect" on the service; stop at the first page to fill."""
    return browser.get(f"{service_url}/login")


def choose(browser: Browser, page: requests.Response, source: str) -> requests.Response:
    """Pick an identity source on the proxy's choice page."""
    assert urlsplit(page.url).path == "/choix", f"not the choice page: {page.url}"
    return browser.submit(page, {}, button=("source", source))


def sign_in(browser: Browser, form_page: requests.Response, citizen: Citizen,
            stop_at: str | None = None) -> requests.Response:
    """Fill the demo identity source's login form and follow everything back to the service
    (or up to the first hop towards ``stop_at``)."""
    return browser.submit(form_page, {"identifiant": citizen.username,
                                      "mot_de_passe": citizen.password},
                          button=("action", "connexion"), stop_at=stop_at)


def login(browser: Browser, service_url: str, citizen: Citizen,
          source: str | None = None) -> requests.Response:
    page = start(browser, service_url)
    if source is not None and urlsplit(page.url).path == "/choix":
        page = choose(browser, page, source)
    return sign_in(browser, page, citizen)
