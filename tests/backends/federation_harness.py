"""Loopback servers, a small browser, and the proxy wired to two real identity sources.

Everything runs on 127.0.0.1 on free ports with threaded werkzeug servers:
two NC Connect application instances ("two workers") sharing one SQLite store
file, a pyop provider and a pysaml2 IdP. The browser keeps cookies per host,
ignoring ports, like a real one, and sends the proxy's ``Secure`` cookie over
plain http because the tests have no TLS.
"""

from __future__ import annotations

import copy
import re
import threading
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import requests
from werkzeug.serving import make_server

from idp.app import NCConnectApp
from idp.dictionary import load_dictionary

ROOT = Path(__file__).resolve().parents[2]
OIDC_SOURCE = "oidc-test"
SAML_SOURCE = "saml-test"
FLOW_TTL = 900
MAX_BODY = 262144


class LateApp:
    """A WSGI app whose target is set after the server (and so its port) exists."""

    def __init__(self) -> None:
        self.app: Any = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


class LoopbackServer:
    def __init__(self) -> None:
        self.target = LateApp()
        self.server = make_server("127.0.0.1", 0, self.target, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()
        self.closed = False

    def serve(self, app: Any) -> None:
        self.target.app = app

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


class Browser:
    """requests without automatic redirects, so each hop can be inspected or replayed."""

    def __init__(self) -> None:
        self.session = requests.Session()

    def _insecure_cookies(self, resp: requests.Response) -> requests.Response:
        # No TLS on loopback: keep sending the proxy's Secure cookie over http.
        for cookie in self.session.cookies:
            cookie.secure = False
        return resp

    def get(self, url: str) -> requests.Response:
        return self._insecure_cookies(self.session.get(url, allow_redirects=False, timeout=30))

    def post(self, url: str, data: dict[str, str]) -> requests.Response:
        return self._insecure_cookies(
            self.session.post(url, data=data, allow_redirects=False, timeout=30))

    def follow(self, resp: requests.Response, stop_at: str = "") -> tuple[requests.Response, str]:
        """Follow redirects; stop before requesting a URL starting with ``stop_at``."""
        for _ in range(10):
            if resp.status_code not in (301, 302, 303, 307):
                return resp, ""
            url = urljoin(resp.url, resp.headers["Location"])
            if stop_at and url.startswith(stop_at):
                return resp, url
            resp = self.get(url)
        raise AssertionError("too many redirects")


def error_code(resp: requests.Response) -> str:
    """The error code shown on one of our error pages (``data-code`` attribute)."""
    match = re.search(r'data-code="([a-z_]+)"', resp.text)
    return match.group(1) if match else ""


def form_fields(page: str) -> tuple[str, dict[str, str]]:
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    assert action is not None, "no form in the page"
    fields = {unescape(n): unescape(v) for n, v in
              re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page)}
    return unescape(action.group(1)), fields


def on_other_worker(url: str, worker_url: str) -> str:
    """The same URL, sent to the other application instance."""
    parts, other = urlsplit(url), urlsplit(worker_url)
    return urlunsplit((parts.scheme, other.netloc, parts.path, parts.query, parts.fragment))


@dataclass
class Proxy:
    """Both application instances and what the tests need to drive them."""

    url: str
    other_url: str
    config: dict[str, Any]
    store_url: str


def satosa_config(base_url: str, backends: list[dict[str, Any]]) -> dict[str, Any]:
    dictionary = load_dictionary(ROOT / "attributs" / "dictionnaire.yaml")
    return {
        "BASE": base_url,
        "INTERNAL_ATTRIBUTES": dictionary.internal_attributes(),
        "FRONTEND_MODULES": [{"module": "tests.backends.json_frontend_peer.JsonFrontend",
                              "name": "testfront", "config": {}}],
        "BACKEND_MODULES": backends,
        "CONTEXT_STATE_DELETE": True,
        "COOKIE_STATE_NAME": "__Host-ncc_flux",
    }


def make_app(config: dict[str, Any], store_url: str) -> NCConnectApp:
    config = copy.deepcopy(config)
    for backend in config["BACKEND_MODULES"]:
        backend["config"]["store_url"] = store_url
    return NCConnectApp(config, store_url=store_url, flow_ttl=FLOW_TTL, max_body=MAX_BODY,
                        https=False)
