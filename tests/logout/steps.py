"""What a citizen's browser does before and during a logout, and how a test reads the result."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import requests
from bs4 import BeautifulSoup

from idp.demo.citizens import Citizen
from idp.sso.session import (
    COOKIE,
    INDEX_NAMESPACE,
    LINK_NAMESPACE,
    NAMESPACE,
    SERVICES_NAMESPACE,
)
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import decide, login, on_consent_screen, start
from idp.testbed.records import service_entries, session_record


def cookie(browser: Browser, name: str) -> str | None:
    values = [c.value for c in browser.session.cookies if c.name == name and c.value]
    return values[-1] if values else None


def peer_cookie(fed, browser: Browser, service: str) -> str:
    """The browser's cookie at a demo service (named after its kind and port)."""
    kind = "rp" if service.startswith("rp-") else "sp"
    value = cookie(browser, f"demo_{kind}_{urlsplit(fed.url(service)).port}")
    assert value, f"no cookie of {service}"
    return value


def sign_in_to(fed, browser: Browser, citizen: Citizen, services: list[str],
               source: str | None = None) -> dict[str, dict[str, str]]:
    """Sign in at the first service (choosing ``source`` if asked), then at each other one
    through the SSO session, passing the consent screens; what each service received."""
    received = {services[0]: attributes_of(login(browser, fed.url(services[0]), citizen,
                                                 source=source))}
    for service in services[1:]:
        page = start(browser, fed.url(service))
        assert on_consent_screen(page), f"{service}: no SSO consent screen ({page.url})"
        received[service] = attributes_of(decide(browser, page))
    return received


def session_of(store, browser: Browser) -> dict | None:
    """The browser's SSO session record, opened with its cookie (the store holds it sealed)."""
    value = cookie(browser, COOKIE)
    return session_record(store, value) if value else None


def services_of(store, sid: str) -> dict[str, dict]:
    return service_entries(store, sid)


def nothing_left_of(store, record: dict, services: dict[str, dict]) -> bool:
    """The session record, its index entry, its service list and its links are all gone."""
    return (store.get(NAMESPACE, record["key"]) is None
            and record["sid"] not in store.items(INDEX_NAMESPACE, record["citizen"])
            and not store.items(SERVICES_NAMESPACE, record["sid"])
            and all(store.get(LINK_NAMESPACE, e["sid"]) is None for e in services.values()))


def cleared_session_cookie(browser: Browser, proxy_url: str) -> bool:
    """The proxy told the browser to drop ``ncc_session`` (Max-Age=0)."""
    return any(h.startswith(f"{COOKIE}=;") and "Max-Age=0" in h
               for r in browser.history if r.url.startswith(proxy_url)
               for h in r.raw.headers.getlist("Set-Cookie"))


def result_lists(page: requests.Response) -> dict[str, list[str]]:
    """The logout result page's lists: informed, not reached, without logout."""
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.select_one("section#deconnexion") is not None, f"not the result page: {page.url}"
    return {key: [li.get_text(" ", strip=True) for li in soup.select(f"ul#{ul} li")]
            for key, ul in (("informed", "services-informes"),
                            ("failed", "services-injoignables"),
                            ("untold", "services-sans-deconnexion"))}


@contextmanager
def down(fed, peer: str) -> Iterator[None]:
    """``peer`` stopped for the block, then served again on the same port (the proxy reads
    its metadata when a process starts)."""
    server = fed.servers[peer]
    server.stop()
    try:
        yield
    finally:
        server.start()


def service_name(service: str) -> str:
    """The name the testbed's partner files give a service."""
    return f"Service de test {service}"
