"""Reading the demo peers' pages the way a browser would: forms, result tables, error codes."""

from __future__ import annotations

from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup


def loopback(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def soup(html: str) -> BeautifulSoup:
    return BeautifulSoup(html, "html.parser")


def form_of(html: str, page_url: str) -> tuple[str, dict[str, str]]:
    """The first form's absolute action and its hidden fields."""
    form = soup(html).find("form")
    assert form is not None, "no form on the page"
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    return urljoin(page_url, form["action"]), fields


def submit_login(session: requests.Session, page: requests.Response, username: str,
                 password: str, action: str = "connexion",
                 follow: bool = False) -> requests.Response:
    """Fill the demo source's login form on ``page`` and press one of its buttons."""
    url, fields = form_of(page.text, page.url)
    fields.update({"identifiant": username, "mot_de_passe": password, "action": action})
    return session.post(url, data=fields, allow_redirects=follow, timeout=10)


def error_code(html: str) -> str | None:
    node = soup(html).find(id="erreur")
    return node["data-error"] if node is not None else None


def result_rows(html: str) -> dict[str, tuple[str, str]]:
    """``data-name`` -> (label, value) of the result table."""
    table = soup(html).find("table", id="attributs")
    assert table is not None, "no result table on the page"
    return {tr["data-name"]: (tr.th.get_text(strip=True), tr.td.get_text(strip=True))
            for tr in table.find_all("tr")}
