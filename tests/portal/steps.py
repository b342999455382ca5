"""What a browser does with the administration portal, and how a test reads its pages."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from http.cookies import SimpleCookie
from urllib.parse import urlsplit

import requests
from bs4 import BeautifulSoup

from idp.demo.citizens import Citizen
from idp.testbed.browser import Browser
from idp.testbed.login import choose, sign_in
from plugins.frontends.admin.frontend import COOKIE_NAME, SESSION_NAMESPACE

HOME = "/admin/"
COOKIE = "__Secure-" + COOKIE_NAME


def to_source(browser: Browser, page: requests.Response) -> requests.Response:
    """From the first page after /admin/: the choice page (pick src-op) or the source's form."""
    if urlsplit(page.url).path == "/choix":
        return choose(browser, page, "src-op")
    return page


def open_portal(browser: Browser, url: str, citizen: Citizen) -> requests.Response:
    """Open ``url`` (a portal page or an enrolment link) and sign in at the OIDC test source
    (substantial): what the proxy answers at the end."""
    return sign_in(browser, to_source(browser, browser.get(url)), citizen)


def refusal_of(page: requests.Response) -> str | None:
    """The portal's refusal shown (``sans_role``, ``niveau``, ``lien_invalide``…)."""
    h1 = BeautifulSoup(page.text, "html.parser").select_one("h1[data-refus]")
    return h1["data-refus"] if h1 is not None else None


def on_home(page: requests.Response) -> bool:
    return urlsplit(page.url).path == HOME and page.status_code == 200 \
        and BeautifulSoup(page.text, "html.parser").select_one("h1#titre-admin") is not None


def role_shown(page: requests.Response) -> str | None:
    tag = BeautifulSoup(page.text, "html.parser").select_one("#role")
    return tag["data-role"] if tag is not None else None


def portal_cookie(browser: Browser) -> str:
    values = [c.value for c in browser.session.cookies if c.name == COOKIE and c.value]
    assert len(values) == 1, f"{len(values)} portal cookies"
    return values[0]


def account_key(store, browser: Browser) -> str:
    """The account key the portal session of this browser belongs to."""
    key = hashlib.sha256(portal_cookie(browser).encode("ascii")).hexdigest()
    record = store.get(SESSION_NAMESPACE, key)
    assert record is not None, "no portal session in the store"
    return record["citizen"]


def portal_set_cookie(browser: Browser) -> dict[str, str]:
    """The attributes of the ``Set-Cookie`` that opened the portal session."""
    for resp in browser.history:
        for header in resp.raw.headers.getlist("Set-Cookie"):
            if header.startswith(f"{COOKIE}=") and not header.startswith(f"{COOKIE}=;"):
                cookie = SimpleCookie()
                cookie.load(header)
                morsel = cookie[COOKIE]
                return {"value": morsel.value,
                        **{k.lower(): str(v) for k, v in morsel.items() if v}}
    raise AssertionError("no portal cookie was set")


def ncconnect(*args: str) -> subprocess.CompletedProcess:
    """The command line, as an administrator runs it."""
    return subprocess.run([sys.executable, "-m", "idp.cli", *args], capture_output=True,
                          text=True, timeout=60, check=False)
