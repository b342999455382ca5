"""The login form of NC Connect's account source, and what it says when a login fails.

Served by the proxy from our own origin (the form posts back to it, so the page's CSP
``form-action 'self'`` is enough); French unless the browser prefers English. The same
message for an unknown login and a wrong password: the form never tells whether an
account exists. Times are Nouméa's (UTC+11), as everywhere on NC Connect.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from satosa.response import Response

from idp.pages import lang_of, render

TEMPLATE = "connexion_compte.html"
NOUMEA = ZoneInfo("Pacific/Noumea")

#: Problem code -> {lang: text}; ``{until}`` is the end of a lockout / rate limit.
PROBLEMS: dict[str, dict[str, str]] = {
    "identifiants": {
        "fr": "Identifiant ou mot de passe incorrect. Vérifiez votre saisie et réessayez.",
        "en": "Incorrect username or password. Check what you typed and try again."},
    "trop_essais": {
        "fr": "Trop d'essais infructueux pour ce compte. Par sécurité, il est bloqué : "
              "réessayez après {until}.",
        "en": "Too many failed attempts for this account. For your safety it is blocked: "
              "try again after {until}."},
    "trop_tentatives": {
        "fr": "Trop de tentatives de connexion depuis votre connexion internet. "
              "Réessayez après {until}.",
        "en": "Too many sign-in attempts from your internet connection. Try again after {until}."},
    "compte_verrouille": {
        "fr": "Votre compte NC Connect est verrouillé. Contactez l'assistance NC Connect pour "
              "le débloquer, ou choisissez un autre compte.",
        "en": "Your NC Connect account is locked. Contact the NC Connect help desk to unlock it, "
              "or choose another account."},
    "mot_de_passe_expire": {
        "fr": "Votre mot de passe a expiré. Choisissez-en un nouveau avec « Mot de passe "
              "oublié ? », puis reconnectez-vous.",
        "en": "Your password has expired. Choose a new one with “Forgot your password?”, then "
              "sign in again."},
    "mot_de_passe_a_changer": {
        "fr": "Votre mot de passe doit être changé avant votre prochaine connexion. Choisissez-en "
              "un nouveau avec « Mot de passe oublié ? », puis reconnectez-vous.",
        "en": "Your password must be changed before you sign in. Choose a new one with “Forgot "
              "your password?”, then sign in again."},
    "compte_desactive": {
        "fr": "Votre compte NC Connect est désactivé. Contactez l'assistance NC Connect.",
        "en": "Your NC Connect account is disabled. Contact the NC Connect help desk."},
}


def at_noumea(epoch: float, lang: str) -> str:
    """``14 h 32`` (French usage) or ``14:32 (Nouméa time)``."""
    when = datetime.fromtimestamp(epoch, NOUMEA)
    return f"{when:%H} h {when:%M}" if lang == "fr" else f"{when:%H:%M} (Nouméa time)"


def problem_text(code: str, lang: str, until: float | None = None) -> str:
    text = PROBLEMS[code].get(lang) or PROBLEMS[code]["fr"]
    return text.format(until=at_noumea(until, lang)) if until is not None else text


def form_page(context: Any, *, action: str, csrf: str, service_name: str | None,
              source_name: str, reset_url: str | None, login: str = "",
              problem: str | None = None, until: float | None = None,
              status: int = 200) -> Response:
    lang = lang_of(context)
    return render(TEMPLATE, context, status, action=action, csrf=csrf,
                  service_name=service_name, source_name=source_name, reset_url=reset_url,
                  login=login, problem_code=problem,
                  problem=problem_text(problem, lang, until) if problem else None)
