"""Rendering of every page an usager sees: Jinja2, French by default, English on request.

Pages are returned as SATOSA ``Response`` objects so plugins can return them from
their endpoints like any other response. The security headers are added by the
application for every response, not here.

An error page says, in this order: what happened (title), what to do (explanation), a link
back to the service when the flow knows it, NC Connect's help desk (settings ``help``), and
last, small, the code for the help desk. The service is known only once its frontend has
validated the request against the registry (:func:`remember_service`: its name and the
origin of the address registered for it that this request uses — the OIDC redirect URI
matched exactly, the SAML ACS taken from its metadata), never from an unchecked parameter.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from satosa.response import Response

from .form_targets import origin
from .messages import message

TEMPLATES = Path(__file__).parent / "templates"

STATUS_TEXT = {
    200: "200 OK", 400: "400 Bad Request", 401: "401 Unauthorized", 403: "403 Forbidden",
    404: "404 Not Found", 410: "410 Gone",
    405: "405 Method Not Allowed", 413: "413 Content Too Large", 500: "500 Internal Server Error",
    502: "502 Bad Gateway", 503: "503 Service Unavailable",
}

UI_TEXT: dict[str, dict[str, str]] = {
    "fr": {
        "brand": "NC Connect", "skip": "Aller au contenu", "back": "Revenir au service",
        "back_to": "Revenir sur le site de «\u00a0{name}\u00a0»",
        "help": "Besoin d'aide ?",
        "help_intro": "L'assistance NC Connect vous répond :",
        "help_email": "par courriel\u00a0:", "help_phone": "par téléphone\u00a0:",
        "help_url": "Page d'aide de NC Connect",
        "reference": "Code\u00a0:", "lang_switch": "English",
        "footer": ("NC Connect — le service d'identification du gouvernement "
                   "de la Nouvelle-Calédonie"),
    },
    "en": {
        "brand": "NC Connect", "skip": "Skip to content", "back": "Back to the service",
        "back_to": "Back to the “{name}” site",
        "help": "Need help?",
        "help_intro": "The NC Connect help desk can help you:",
        "help_email": "by e-mail:", "help_phone": "by phone:",
        "help_url": "NC Connect help page",
        "reference": "Code:", "lang_switch": "Français",
        "footer": "NC Connect — the sign-in service of the Government of New Caledonia",
    },
}


#: Flow-state key of the service this login is for, once its frontend validated the request.
SERVICE_KEY = "ncc_service"
_HELP: dict[str, str] = {}


def configure_help(contact: Any) -> None:
    """The help desk the error pages show (settings ``help``: a
    :class:`idp.settings.HelpContact`, or ``None``)."""
    _HELP.clear()
    if contact is None:
        return
    for name in ("email", "phone", "url", "tel"):
        value = getattr(contact, name, None)
        if isinstance(value, str) and value:
            _HELP[name] = value


def remember_service(context: Any, name: Any, address: str | None) -> None:
    """Note the service of this flow for the error pages' way back: ``name`` as registered (a
    text, or its translations ``{"fr": ..., "en": ...}``), and the origin of ``address``, a
    URL the registry holds for it (checked by the caller)."""
    home = origin(address) if isinstance(address, str) else None
    state = getattr(context, "state", None)
    if state is None:
        return
    names = _names(name)
    if home and names:
        state[SERVICE_KEY] = {"name": names, "home": f"{home}/"}
    else:
        forget_service(context)


def _names(name: Any) -> dict[str, str]:
    if hasattr(name, "translations"):
        name = name.translations()
    if isinstance(name, str):
        return {"fr": str(name)} if name else {}
    if isinstance(name, dict):
        return {k: str(v) for k, v in name.items() if k in UI_TEXT and isinstance(v, str) and v}
    return {}


def forget_service(context: Any) -> None:
    """A new request: the way back to an earlier request's service no longer applies."""
    state = getattr(context, "state", None)
    if state is not None:
        state.pop(SERVICE_KEY, None)


def service_of(context: Any, lang: str = "fr") -> dict[str, str] | None:
    """The service of this flow (``name`` in ``lang``, French when it has no such name, and
    ``home``), once its frontend validated the request; ``None`` otherwise."""
    state = getattr(context, "state", None)
    data = state.get(SERVICE_KEY) if state is not None else None
    if not isinstance(data, dict) or not isinstance(data.get("home"), str) \
            or not origin(data["home"]):
        return None
    names = _names(data.get("name"))
    name = names.get(lang) or names.get("fr")
    return {"name": name, "home": data["home"]} if name else None


@lru_cache(maxsize=1)
def _env() -> Environment:
    # auto_reload off: templates ship with the code, no stat of the file on every page.
    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
    )


def preload_templates() -> int:
    """Compile every template now (in gunicorn's master, before the workers fork: each
    worker starts with them compiled instead of compiling each on its first page)."""
    env = _env()
    names = [n for n in env.list_templates() if n.endswith(".html")]
    for name in names:
        env.get_template(name)
    return len(names)


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
    variables.setdefault("help", dict(_HELP))
    html = _env().get_template(template).render(lang=lang, ui=UI_TEXT[lang], **variables)
    return Response(
        html,
        status=STATUS_TEXT.get(status, f"{status} Error"),
        content="text/html; charset=utf-8",
    )


def error_page(code: str, context: Any = None, status: int = 400, reference: str = "",
               lang: str | None = None) -> Response:
    """Our error page for ``code``; ``lang`` when the request is gone (a backend's error reaches
    a frontend without it) and the language was noted while it was there."""
    lang = lang if lang in ("fr", "en") else lang_of(context)
    title, explanation = message(code, lang)
    return render(
        "erreur.html", context, status, lang=lang, title=title, explanation=explanation,
        code=code, reference=reference, service=service_of(context, lang),
    )
