"""A scripted browser for protocol tests: follows redirects, submits forms, keeps cookies.

Browsers treat http://127.0.0.1 as a secure context and send ``Secure`` cookies
there; Python's cookie jar does not, so the policy below does what a browser does
for loopback only.
"""

from __future__ import annotations

from http.cookiejar import DefaultCookiePolicy
from urllib.parse import urljoin, urlsplit

import requests
from bs4 import BeautifulSoup

MAX_HOPS = 20


class LoopbackSecurePolicy(DefaultCookiePolicy):
    def return_ok_secure(self, cookie, request) -> bool:
        host = urlsplit(request.get_full_url()).hostname
        return host in ("127.0.0.1", "localhost", "::1") or super().return_ok_secure(
            cookie, request)

    def set_ok(self, cookie, request) -> bool:
        return True if cookie.secure else super().set_ok(cookie, request)


class Browser:
    def __init__(self, accept_language: str = "fr-FR,fr;q=0.9") -> None:
        self.session = requests.Session()
        self.session.cookies.set_policy(LoopbackSecurePolicy())
        self.session.headers["Accept-Language"] = accept_language
        self.history: list[requests.Response] = []
        #: Every form body this browser posted, in order: (url, fields).
        self.posts: list[tuple[str, dict[str, str]]] = []

    def get(self, url: str, follow: bool = True, **kw) -> requests.Response:
        resp = self.session.get(url, allow_redirects=False, timeout=30, **kw)
        return self.follow(resp) if follow else self._record(resp)

    def post(self, url: str, data: dict, follow: bool = True) -> requests.Response:
        self.posts.append((url, dict(data)))
        resp = self.session.post(url, data=data, allow_redirects=False, timeout=30)
        return self.follow(resp) if follow else self._record(resp)

    def post_form_data(self, url: str, data: dict) -> requests.Response:
        """A raw POST, not followed: for replays and hostile submissions."""
        return self.session.post(url, data=data, allow_redirects=False, timeout=30)

    def _record(self, resp: requests.Response) -> requests.Response:
        self.history.append(resp)
        return resp

    def follow(self, resp: requests.Response,
               stop_at: str | None = None) -> requests.Response:
        """Follow redirects and auto-submitting (SAML POST binding) pages; with ``stop_at``,
        return the redirect whose target starts with it instead of following it."""
        for _ in range(MAX_HOPS):
            self._record(resp)
            if resp.is_redirect and stop_at and urljoin(
                    resp.url, resp.headers["Location"]).startswith(stop_at):
                return resp
            if resp.is_redirect:
                url = urljoin(resp.url, resp.headers["Location"])
                resp = self.session.get(url, allow_redirects=False, timeout=30)
                continue
            form = autopost_form(resp)
            if form is not None and stop_at and form[0].startswith(stop_at):
                return resp
            if form is not None:
                action, fields = form
                self.posts.append((action, fields))
                resp = self.session.post(action, data=fields, allow_redirects=False, timeout=30)
                continue
            return resp
        raise AssertionError("too many redirects")

    def submit(self, resp: requests.Response, fields: dict[str, str],
               form_selector: str = "form", button: tuple[str, str] | None = None,
               follow: bool = True, stop_at: str | None = None) -> requests.Response:
        """Fill and submit the page's form, keeping its hidden fields (CSRF tokens...)."""
        soup = BeautifulSoup(resp.text, "html.parser")
        form = soup.select_one(form_selector)
        assert form is not None, f"no form {form_selector!r} in {resp.url}"
        data = {i["name"]: i.get("value", "") for i in form.find_all("input")
                if i.get("name") and i.get("type") != "submit"}
        data.update(fields)
        if button:
            data[button[0]] = button[1]
        action = urljoin(resp.url, form.get("action") or resp.url)
        posted = self.post(action, data, follow=False)
        return self.follow(posted, stop_at) if follow else posted


def autopost_form(resp: requests.Response) -> tuple[str, dict[str, str]] | None:
    """The form of an auto-submitting page: one whose fields are all hidden SAML fields."""
    if "text/html" not in resp.headers.get("Content-Type", ""):
        return None
    soup = BeautifulSoup(resp.text, "html.parser")
    for form in soup.find_all("form"):
        inputs = [i for i in form.find_all("input") if i.get("name")]
        names = {i["name"] for i in inputs}
        if names & {"SAMLResponse", "SAMLRequest"} and all(
                i.get("type") == "hidden" for i in inputs):
            action = urljoin(resp.url, form.get("action") or resp.url)
            return action, {i["name"]: i.get("value", "") for i in inputs}
    return None


def attributes_of(resp: requests.Response) -> dict[str, str]:
    """The attribute table a demo service shows after login (data-name -> value)."""
    soup = BeautifulSoup(resp.text, "html.parser")
    table = soup.select_one("table#attributs")
    assert table is not None, f"no attribute table at {resp.url}: {resp.status_code}"
    return {tr["data-name"]: tr.find("td").get_text(strip=True)
            for tr in table.select("tr[data-name]")}


def error_code_of(resp: requests.Response) -> str | None:
    """The error code of one of our error pages (or a demo service's error page)."""
    soup = BeautifulSoup(resp.text, "html.parser")
    code = soup.select_one("code[data-code]")
    if code is not None:
        return code["data-code"]
    p = soup.select_one("#erreur[data-error]")
    return p["data-error"] if p is not None else None
