"""WSGI plumbing shared by the demo peers: routing, French pages, headers, browser binding.

Every peer is a ``PeerApp``: a table of (method, path) handlers returning werkzeug
responses. Hostile input ends on a page of ours with a 4xx status, never a
traceback; every response carries a content policy without inline script.
Peers share the host 127.0.0.1 and cookies are not isolated by port, so each peer
names its cookie after its kind and port.
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Callable, Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from jinja2 import Environment, FileSystemLoader, select_autoescape
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Request, Response

logger = logging.getLogger("ncconnect.demo")

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"
STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}

#: Largest document (metadata, JSON) a peer accepts from another peer.
MAX_FETCH_BYTES = 1024 * 1024
FETCH_TIMEOUT = 5
BROWSER_COOKIE_TTL = 1800

LOOPBACK_FORM_TARGETS = ("http://127.0.0.1:*",)

_CSP = ("default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; "
        "form-action {form_action}; frame-ancestors 'none'; base-uri 'none'")


class DemoRequest(Request):
    max_content_length = 512 * 1024
    max_form_memory_size = 256 * 1024
    max_form_parts = 50


Handler = Callable[[DemoRequest], Response]


class PeerError(Exception):
    """Ends the request on our French error page; ``code`` lands in ``data-error``."""

    def __init__(self, code: str, title: str, explanation: str, status: int = 400) -> None:
        super().__init__(code)
        self.code = code
        self.title = title
        self.explanation = explanation
        self.status = status


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(loader=FileSystemLoader(str(TEMPLATES)),
                       autoescape=select_autoescape(["html"]),
                       trim_blocks=True, lstrip_blocks=True)


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def redirect(location: str) -> Response:
    return Response("", status=302, headers={"Location": location})


def json_response(body: str, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=status, headers=headers or {},
                    content_type="application/json; charset=utf-8")


def new_token() -> str:
    return secrets.token_urlsafe(32)


def same(received: str, expected: str) -> bool:
    """Constant-time equality of two texts (any characters: hostile input included)."""
    return hmac.compare_digest(received.encode("utf-8"), expected.encode("utf-8"))


def fetch(url: str) -> bytes:
    """GET a document from another peer: bounded in time and size, errors as ``OSError``."""
    try:
        with requests.get(url, timeout=FETCH_TIMEOUT, stream=True) as resp:
            resp.raise_for_status()
            data = resp.raw.read(MAX_FETCH_BYTES + 1, decode_content=True)
    except requests.RequestException as exc:
        raise OSError(f"cannot fetch {url}: {type(exc).__name__}") from exc
    if len(data) > MAX_FETCH_BYTES:
        raise OSError(f"document at {url} larger than {MAX_FETCH_BYTES} bytes")
    return data


class PeerApp:
    """Base of the four peers. ``brand`` titles every page; ``theme`` picks its colours."""

    theme = "source"

    def __init__(self, base_url: str, kind: str, brand: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.brand = brand
        port = urlsplit(self.base_url).port or 0
        self.cookie_name = f"demo_{kind}_{port}"
        self.secure_cookies = self.base_url.startswith("https://")
        self._routes: dict[tuple[str, str], Handler] = {}

    # -- routing ------------------------------------------------------------

    def route(self, methods: Iterable[str], path: str, handler: Handler) -> None:
        for method in methods:
            self._routes[(method, path)] = handler

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request = DemoRequest(environ)
        try:
            response = self._dispatch(request)
        except PeerError as exc:
            logger.info("demo peer refused a request", extra={"code": exc.code,
                                                              "path": request.path})
            response = self.error_page(exc)
        except HTTPException as exc:  # e.g. 413 from werkzeug's bounded form parser
            response = self.error_page(PeerError(
                "requete_invalide", "Requête refusée",
                "La requête reçue est trop grande ou mal formée.", exc.code or 400))
        except Exception:  # last resort: still a page of ours, never a traceback
            logger.exception("demo peer failed", extra={"path": request.path})
            response = self.error_page(PeerError(
                "erreur_interne", "Erreur technique",
                "Une erreur inattendue s'est produite. Réessayez plus tard.", 500))
        _secure(response)
        return response(environ, start_response)

    def _dispatch(self, request: DemoRequest) -> Response:
        if request.path.startswith("/static/") and request.method in ("GET", "HEAD"):
            return _static(request.path[len("/static/"):])
        handler = self._routes.get((request.method, request.path))
        if handler is not None:
            return handler(request)
        if any(path == request.path for _, path in self._routes):
            raise PeerError("methode_non_autorisee", "Méthode non autorisée",
                            "Cette adresse n'accepte pas ce type de requête.", 405)
        raise PeerError("page_inconnue", "Page introuvable",
                        "Cette adresse n'existe pas sur ce site de démonstration.", 404)

    # -- pages --------------------------------------------------------------

    def page(self, template: str, status: int = 200, form_action: Iterable[str] = (),
             **variables: Any) -> Response:
        html = _env().get_template(template).render(brand=self.brand, theme=self.theme,
                                                    **variables)
        response = Response(html, status=status, content_type="text/html; charset=utf-8")
        # Browsers check form-action against every redirect that follows a form post, and a
        # source's login post goes on through the proxy to the service (another port) when
        # nothing stops the citizen on the way. The demo lives on loopback only, so its pages
        # allow any loopback port; the proxy's own pages list exact origins.
        targets = " ".join(["'self'", *sorted(set(form_action)), *LOOPBACK_FORM_TARGETS])
        response.headers["Content-Security-Policy"] = _CSP.format(form_action=targets)
        return response

    def error_page(self, error: PeerError) -> Response:
        return self.page("erreur.html", error.status, title=error.title,
                         explanation=error.explanation, code=error.code)

    def autopost(self, action: str, fields: dict[str, str]) -> Response:
        """HTTP-POST binding: a form submitted by /static/autopost.js, with a button fallback."""
        return self.page("autopost.html", action=action, fields=fields,
                         form_action=[origin(action)])

    # -- browser binding ----------------------------------------------------

    def pending_login(self, request: DemoRequest, pending: Any, demande: str) -> dict:
        """The login form's pending request, only if it was shown to this very browser."""
        record = pending.get(demande)
        if record is None:
            raise PeerError("session_expiree", "Demande expirée",
                            "Cette demande de connexion a expiré ou a déjà servi. "
                            "Revenez sur le site du service et recommencez.")
        if (self.browser_of(request) != record["browser"]
                or not same(request.form.get("csrf", ""), record["csrf"])):
            raise PeerError("csrf", "Formulaire refusé",
                            "Ce formulaire ne provient pas de cette session de navigation.", 403)
        return record

    def browser_of(self, request: DemoRequest) -> str | None:
        value = request.cookies.get(self.cookie_name, "")
        return value if 20 <= len(value) <= 64 else None

    def remember_browser(self, response: Response, browser: str) -> None:
        # On https the SAML ACS receives a cross-site POST: SameSite=None needs Secure.
        samesite = "None" if self.secure_cookies else "Lax"
        response.set_cookie(self.cookie_name, browser, max_age=BROWSER_COOKIE_TTL, path="/",
                            secure=self.secure_cookies, httponly=True, samesite=samesite)


def _static(name: str) -> Response:
    file = (STATIC / name).resolve()
    known = file.suffix in STATIC_TYPES and file.is_file()
    if STATIC.resolve() not in file.parents or not known:
        raise PeerError("page_inconnue", "Page introuvable",
                        "Cette adresse n'existe pas sur ce site de démonstration.", 404)
    return Response(file.read_bytes(), content_type=STATIC_TYPES[file.suffix],
                    headers={"Cache-Control": "public, max-age=3600"})


def _secure(response: Response) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", _CSP.format(form_action="'self'"))
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Cache-Control", "no-store")
