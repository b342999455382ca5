"""A scripted browser for protocol tests: follows redirects, submits forms, keeps cookies."""

from __future__ import annotations

from urllib.parse import urljoin

import requests
from bs4 import BeautifulSoup

MAX_HOPS = 20


LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]")


class _LoopbackSession(requests.Session):
    """Sends ``Secure`` cookies to loopback over http, as browsers do (a secure context).

    requests copies the jar with the default policy for every request, and that policy never
    sends Secure cookies over http; clearing the flag on stored loopback cookies just before
    each request gives the browser's behaviour, and only for loopback.
    """

    def request(self, method, url, *args, **kwargs):  # type: ignore[override]
        for cookie in self.cookies:
            if cookie.secure and cookie.domain.removesuffix(".local") in LOOPBACK:
                cookie.secure = False
        return super().request(method, url, *args, **kwargs)


class Browser:
    def __init__(self, accept_language: str = "fr-FR,fr;q=0.9") -> None:
        self.session = _LoopbackSession()
        self.session.headers["Accept-Language"] = accept_language
        self.history: list[requests.Response] = []
        #: Every form body this browser posted, in order: (url, fields).
        self.posts: list[tuple[str, dict[str, str]]] = []

    def get(self, url: str, follow: bool = True, **kw) -> requests.Response:
        resp = self.session.get(url, allow_redirects=False, timeout=30, **kw)
        return self.follow(resp) if follow else self._record(resp)

    def post(self, url: str, data: dict, follow: bool = True,
             files: dict | None = None) -> requests.Response:
        """A form's POST; with ``files`` (name -> (filename, bytes, type)) as
        ``multipart/form-data``, as a browser sends a form with a file input."""
        self.posts.append((url, dict(data)))
        resp = self.session.post(url, data=data, files=files, allow_redirects=False,
                                 timeout=30)
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
