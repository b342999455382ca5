"""What a browser does with the administration portal, and how a test reads its pages."""

from __future__ import annotations

import hashlib
import struct
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from http.cookies import SimpleCookie
from urllib.parse import urljoin, urlsplit

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


def form_data(page: requests.Response, selector: str) -> tuple[str, dict[str, str]]:
    """(action, fields) a browser posts from the form ``selector`` as the page shows it:
    text inputs and hidden fields, ticked boxes only, each select's chosen option, textareas."""
    soup = BeautifulSoup(page.text, "html.parser")
    form = soup.select_one(selector)
    assert form is not None, f"no form {selector!r} at {page.url}"
    data: dict[str, str] = {}
    for field in form.find_all("input"):
        name = field.get("name")
        if not name or field.get("type") == "submit":
            continue
        if field.get("type") == "checkbox":
            if field.has_attr("checked"):
                data[name] = field.get("value", "on")
            continue
        data[name] = field.get("value", "")
    for select in form.find_all("select"):
        chosen = select.find("option", selected=True) or select.find("option")
        data[select["name"]] = chosen.get("value", "") if chosen is not None else ""
    for area in form.find_all("textarea"):
        data[area["name"]] = area.get_text()
    return urljoin(page.url, form.get("action") or page.url), data


def post_form(browser: Browser, page: requests.Response, selector: str,
              changes: dict[str, str] | None = None, drop: tuple[str, ...] = (),
              follow: bool = True, files: dict | None = None) -> requests.Response:
    """Fill the form as a person would (``changes``; ``drop``: boxes unticked; ``files``: a
    file input's choice, name -> (filename, bytes, type)) and send it."""
    action, data = form_data(page, selector)
    data.update(changes or {})
    for name in drop:
        data.pop(name, None)
    return browser.post(action, data, follow=follow, files=files)


def png_image(width: int = 4, height: int = 4) -> bytes:
    """A real PNG picture (a blue square), for the logo a partner uploads."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"\x00\x50\x78" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n"
            + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def field_error(page: requests.Response, name: str) -> str | None:
    """The problem shown next to the form field ``name``, if any."""
    tag = BeautifulSoup(page.text, "html.parser").select_one(f"#erreur-{name}")
    return tag.get_text(" ", strip=True) if tag is not None else None


def field_value(page: requests.Response, name: str) -> str | None:
    soup = BeautifulSoup(page.text, "html.parser")
    tag = soup.select_one(f"[name='{name}']")
    if tag is None:
        return None
    return tag.get_text() if tag.name == "textarea" else tag.get("value")


def request_fields(redirect_uri: str, name: str = "Dumbéa — inscriptions scolaires") -> dict:
    """A valid service request as a partner types it (OIDC, three attributes, one optional)."""
    return {"organisation": "Commune de Dumbéa", "contact": "dpo@dumbea.nc",
            "service_name": name,
            "purpose": "Inscrire vos enfants à l'école et à la cantine.",
            "legal_basis": "public_task", "legal_reference": "Délibération n° 2024-12",
            "protocol": "oidc", "redirect_uris": redirect_uri,
            "token_endpoint_auth_method": "client_secret_basic", "loa_min": "substantial",
            "remember_days": "0", "source_src-op": "on",
            "attr_name_0": "family_name",
            "attr_justification_0": "Inscrire l'enfant au nom de son responsable légal.",
            "attr_name_1": "given_name",
            "attr_justification_1": "Saluer le responsable légal par son prénom.",
            "attr_name_2": "email",
            "attr_justification_2": "Envoyer la confirmation d'inscription.",
            "attr_optional_2": "on"}


def eventually(check: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    """Wait for ``check`` (e.g. a reloaded proxy serving a change), failing with ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"not within {timeout:.0f}s: {what}")


def fill_request_in_chromium(page, organisation: str, contact: str, name: str, purpose: str,
                             redirect_uri: str, attributes: list[tuple[str, str]],
                             loa: str | None = None) -> None:
    """Type a service request into the open form of a Chromium page as a partner would (a
    public task, the OIDC test source), without sending it."""
    page.fill("#champ-organisation", organisation)
    page.fill("#champ-contact", contact)
    page.fill("#champ-service_name", name)
    page.fill("#champ-purpose", purpose)
    page.select_option("#champ-legal_basis", "public_task")
    page.fill("#champ-redirect_uris", redirect_uri)
    page.check("#source-src-op")
    if loa is not None:
        page.select_option("#champ-loa_min", loa)
    for i, (attribute, justification) in enumerate(attributes):
        page.select_option(f"#champ-attr_name_{i}", attribute)
        page.fill(f"#champ-attr_justification_{i}", justification)
