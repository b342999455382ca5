"""What a citizen's browser does with *Mon espace NC Connect*, and how a test reads the page."""

from __future__ import annotations

from dataclasses import dataclass
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import requests
from bs4 import BeautifulSoup

from idp.demo.citizens import Citizen
from idp.testbed.browser import Browser
from idp.testbed.login import choose, sign_in
from plugins.frontends.account.session import COOKIE, store_key
from plugins.frontends.account.session import NAMESPACE as SESSION_NAMESPACE

PATH = "/mon-compte"


def open_space(browser: Browser, proxy_url: str, citizen: Citizen,
               source: str = "src-op") -> requests.Response:
    """Open /mon-compte, pick ``source`` on the choice page, sign in there: back on the page."""
    page = browser.get(f"{proxy_url}{PATH}")
    return sign_in(browser, choose(browser, page, source), citizen)


def on_space(page: requests.Response) -> bool:
    return urlsplit(page.url).path == PATH and page.status_code == 200 \
        and BeautifulSoup(page.text, "html.parser").select_one("h1#titre-compte") is not None


def session_id(browser: Browser) -> str:
    values = [c.value for c in browser.session.cookies if c.name == COOKIE and c.value]
    assert len(values) == 1, f"{len(values)} account cookies"
    return values[0]


def citizen_key(store, browser: Browser) -> str:
    """The account key the proxy filed this browser's citizen under (from their session)."""
    record = store.get(SESSION_NAMESPACE, store_key(session_id(browser)))
    assert record is not None, "no account session in the store"
    return record["citizen"]


def account_set_cookie(browser: Browser) -> str:
    """The ``Set-Cookie`` header that opened the account session."""
    for resp in browser.history:
        for header in resp.raw.headers.getlist("Set-Cookie"):
            if header.startswith(f"{COOKIE}=") and not header.startswith(f"{COOKIE}=;"):
                return header
    raise AssertionError("no account cookie was set")


def cookie_attributes(header: str) -> dict[str, str]:
    cookie = SimpleCookie()
    cookie.load(header)
    morsel = cookie[COOKIE]
    flags = {k.lower(): str(v) for k, v in morsel.items() if v}
    # SimpleCookie keeps boolean flags as True: normalise them to "" for presence checks.
    return {"value": morsel.value, **flags}


@dataclass(frozen=True)
class HistoryRow:
    at: str
    when: str
    service: str
    source: str
    level: str
    data: tuple[str, ...]
    service_id: str
    source_id: str


def history_rows(page: requests.Response) -> list[HistoryRow]:
    soup = BeautifulSoup(page.text, "html.parser")
    rows = []
    for tr in soup.select("table#table-historique tbody tr"):
        cells = tr.find_all("td")
        time = tr.find("th").find("time")
        rows.append(HistoryRow(
            at=time["datetime"], when=time.get_text(strip=True),
            service=cells[0].get_text(strip=True), source=cells[1].get_text(strip=True),
            level=cells[2].get_text(strip=True),
            data=tuple(li.get_text(strip=True) for li in cells[3].find_all("li")),
            service_id=tr["data-service"], source_id=tr["data-source"]))
    return rows


def history_text(page: requests.Response) -> str:
    section = BeautifulSoup(page.text, "html.parser").select_one("section#historique")
    assert section is not None
    return section.get_text(" ", strip=True)


@dataclass(frozen=True)
class ConsentRow:
    service_id: str
    service: str
    data: tuple[str, ...]
    given: str
    expires: str


def consent_rows(page: requests.Response) -> list[ConsentRow]:
    soup = BeautifulSoup(page.text, "html.parser")
    rows = []
    for tr in soup.select("table#table-consentements tbody tr"):
        cells = tr.find_all("td")
        rows.append(ConsentRow(
            service_id=tr["data-service"], service=tr.find("th").get_text(strip=True),
            data=tuple(li.get_text(strip=True) for li in cells[0].find_all("li")),
            given=cells[1].get_text(strip=True), expires=cells[2].get_text(strip=True)))
    return rows


def withdraw_form(page: requests.Response, service_id: str) -> str:
    """A CSS selector for the withdrawal form of ``service_id``'s row."""
    selector = f'table#table-consentements tr[data-service="{service_id}"] form'
    assert BeautifulSoup(page.text, "html.parser").select_one(selector) is not None, \
        f"no withdrawal form for {service_id}"
    return selector


@dataclass(frozen=True)
class SessionRow:
    ref: str
    current: bool
    source: str
    level: str
    services: tuple[str, ...]


def session_rows(page: requests.Response) -> list[SessionRow]:
    """The "Mes sessions NC Connect" table."""
    soup = BeautifulSoup(page.text, "html.parser")
    rows = []
    for tr in soup.select("table#table-sessions tbody tr"):
        cells = tr.find_all("td")
        source = tr.find("th")
        label = source.select_one(".etiquette")
        if label is not None:
            label.extract()
        rows.append(SessionRow(
            ref=tr["data-session"], current=tr.get("data-courante") == "oui",
            source=source.get_text(strip=True), level=cells[0].get_text(strip=True),
            services=tuple(li.get_text(strip=True) for li in cells[3].find_all("li"))))
    return rows


def end_session_form(page: requests.Response, ref: str) -> str:
    """A CSS selector for the "Mettre fin à cette session" form of one row."""
    selector = f'table#table-sessions tr[data-session="{ref}"] form'
    assert BeautifulSoup(page.text, "html.parser").select_one(selector) is not None, \
        "no form to end that session"
    return selector
