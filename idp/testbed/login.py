"""One complete login, as a citizen's browser does it: service -> proxy -> source -> back."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urljoin, urlsplit

import requests
from bs4 import BeautifulSoup

from ..demo.citizens import Citizen
from .browser import Browser

#: Path of the proxy's consent / information screen, and its form's id.
CONSENT_PATH = "/consentement"
CONSENT_FORM = "form#form-consentement"
#: Button values: (accept, refuse) on a consent screen, (continue, cancel) on an information one.
ACCEPT = ("accepter", "continuer")
REFUSE = ("refuser", "annuler")


def start(browser: Browser, service_url: str) -> requests.Response:
    """Click "Se connecter avec NC Connect" on the service; stop at the first page to fill."""
    return browser.get(f"{service_url}/login")


def choose(browser: Browser, page: requests.Response, source: str) -> requests.Response:
    """Pick an identity source on the proxy's choice page."""
    assert urlsplit(page.url).path == "/choix", f"not the choice page: {page.url}"
    return browser.submit(page, {}, button=("source", source))


def on_consent_screen(page: requests.Response) -> bool:
    """Whether ``page`` is the proxy's consent or information screen."""
    return (urlsplit(page.url).path == CONSENT_PATH and page.status_code == 200
            and BeautifulSoup(page.text, "html.parser").select_one(CONSENT_FORM) is not None)


def consent_form(page: requests.Response, accept: bool = True, remember: bool = False,
                 untick: Iterable[str] = ()) -> tuple[str, dict[str, str]]:
    """What a browser posts from the screen: hidden fields, the boxes left ticked, one button.

    ``untick`` names dictionary attributes (``email``) whose optional box the usager unticks.
    """
    soup = BeautifulSoup(page.text, "html.parser")
    form = soup.select_one(CONSENT_FORM)
    assert form is not None, f"not the consent screen: {page.url}"
    unticked = {f"attribut-{name}" for name in untick}
    data: dict[str, str] = {}
    for field in form.find_all("input"):
        name = field.get("name")
        if not name:
            continue
        if field.get("type") == "checkbox":
            ticked = field.has_attr("checked") and name not in unticked
            if name == "memoriser":
                ticked = remember
            if ticked:
                data[name] = field.get("value", "on")
        else:
            data[name] = field.get("value", "")
    assert not (remember and "memoriser" not in data), "no 'Se souvenir de mon choix' box"
    wanted = ACCEPT if accept else REFUSE
    buttons = [b for b in form.select("button[name=decision]") if b.get("value") in wanted]
    assert len(buttons) == 1, f"no {'accept' if accept else 'refuse'} button on {page.url}"
    data["decision"] = buttons[0]["value"]
    return urljoin(page.url, form.get("action") or page.url), data


def decide(browser: Browser, page: requests.Response, accept: bool = True,
           remember: bool = False, untick: Iterable[str] = (),
           stop_at: str | None = None) -> requests.Response:
    """Answer the consent / information screen and follow the answer (up to ``stop_at``)."""
    action, data = consent_form(page, accept, remember, untick)
    posted = browser.post(action, data, follow=False)
    return browser.follow(posted, stop_at)


def sign_in(browser: Browser, form_page: requests.Response, citizen: Citizen,
            stop_at: str | None = None, consent: bool = True) -> requests.Response:
    """Fill the demo identity source's login form and follow everything back to the service
    (or up to the first hop towards ``stop_at``). With ``consent`` (the default), the proxy's
    consent or information screen, when shown, is passed as most usagers do: accepting, with
    the optional boxes as they come and nothing remembered; without, it is returned."""
    page = browser.submit(form_page, {"identifiant": citizen.username,
                                      "mot_de_passe": citizen.password},
                          button=("action", "connexion"), stop_at=stop_at)
    if consent and on_consent_screen(page):
        page = decide(browser, page, stop_at=stop_at)
    return page


def login(browser: Browser, service_url: str, citizen: Citizen,
          source: str | None = None, consent: bool = True) -> requests.Response:
    page = start(browser, service_url)
    if source is not None and urlsplit(page.url).path == "/choix":
        page = choose(browser, page, source)
    return sign_in(browser, page, citizen, consent=consent)
