"""Rendering of every page an usager sees: Jinja2, French by default, English on request.

Pages are returned as SATOSA ``Response`` objects so plugins can return them from
their endpoints like any other response. The security headers are added by the
application for every response, not here.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from satosa.response import Response

from .messages import message

TEMPLATES = Path(__file__).parent / "templates"

STATUS_TEXT = {
    200: "200 OK", 400: "400 Bad Request", 403: "403 Forbidden", 404: "404 Not Found",
    405: "405 Method Not Allowed", 413: "413 Content Too Large", 500: "500 Internal Server Error",
    502: "502 Bad Gateway", 503: "503 Service Unavailable",
}

UI_TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "brand": "NC Connect", "skip": "Aller au contenu", "back": "Retour au service",
        "reference": "Référence de l'erreur :", "lang_switch": "English",
        "footer": ("NC Connect — le service d'identification du gouvernement "
                   "de la Nouvelle-Calédonie"),
    },
    "en": {
        "brand": "NC Connect", "skip": "Skip to content", "back": "Back to the service",
        "reference": "Error reference:", "lang_switch": "Français",
        "footer": "NC Connect — the sign-in service of the Government of New Caledonia",
    },
}


@lru_cache(maxsize=1)
def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def lang_of(context: Any) -> str:
    """French unless the browser prefers English over French (RFC 9110 q-values)."""
    header = ""
    if context is not None:
        header = (getattr(context, "http_headers", None) or {}).get("HTTP_ACCEPT_LANGUAGE", "")
    best_lang, best_q = "fr", 0.0
    for item in header.split(",")[:20]:
        parts = item.strip().split(";")
        tag = parts[0].strip().lower()[:2]
        q = 1.0
        for p in parts[1:]:
            if p.strip().startswith("q="):
                try:
                    q = float(p.strip()[2:])
                except ValueError:
                    q = 0.0
        if tag in ("fr", "en") and q > best_q:
            best_lang, best_q = tag, q
    return best_lang


def render(template: str, context: Any = None, status: int = 200, **variables: Any) -> Response:
    lang = variables.pop("lang", None) or lang_of(context)
    html = _env().get_template(template).render(lang=lang, ui=UI_TEXT[lang], **variables)
    return Response(
        html,
        status=STATUS_TEXT.get(status, f"{status} Error"),
        content="text/html; charset=utf-8",
    )


def error_page(code: str, context: Any = None, status: int = 400, reference: str = "") -> Response:
    lang = lang_of(context)
    title, explanation = message(code, lang)
    return render(
        "erreur.html", context, status, lang=lang, title=title, explanation=explanation,
        code=code, reference=reference,
    )
