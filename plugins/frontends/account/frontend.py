"""The SATOSA frontend of *Mon espace NC Connect*: ``/mon-compte`` and its two forms.

* ``GET /mon-compte``: the page, or — without a valid account session — a login
  through NC Connect itself, as the requester ``ncconnect:mon-compte``, which the
  request and response micro-services know like any registered service;
* ``handle_authn_response``: the login succeeded; open an account session, 303 to the page;
* ``POST /mon-compte/consentements/retirer`` and ``POST /mon-compte/deconnexion``:
  CSRF-checked forms acting only on the session's citizen (the owner key never comes
  from the form);
* with single logout configured, ``POST /mon-compte/sessions/terminer`` (one SSO
  session) and ``POST /mon-compte/sessions/toutes`` (all of them, and this account
  session): CSRF-checked, each a single logout whose services are told
  (:mod:`.sso_sessions`, :mod:`idp.sso.logout`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from satosa.context import Context
from satosa.frontends.base import FrontendModule
from satosa.internal import InternalData
from satosa.response import Response, SeeOther

from idp.audit.events import audit_event
from idp.autopost import FORM_ACTION_HEADER
from idp.csrf import csrf_secrets, csrf_token, posted_form
from idp.errors import FlowError
from idp.pages import error_page, lang_of, render
from idp.sso.logout import logout_hub
from idp.sso.session import cookie_value, digest
from idp.stores import open_store
from plugins.micro_services.history import history_of
from plugins.micro_services.pairwise import citizen_of

from .consents import consents_of, withdraw
from .session import AccountSession, AccountSessions
from .sso_sessions import CitizenSessions
from .view import Vocabulary, consent_rows, history_rows

logger = logging.getLogger("ncconnect.compte")

PAGE = "mon-compte"
WITHDRAW = f"{PAGE}/consentements/retirer"
LOGOUT = f"{PAGE}/deconnexion"
END_ONE = f"{PAGE}/sessions/terminer"
END_ALL = f"{PAGE}/sessions/toutes"
WITHDRAW_FORM = "compte:retirer"
LOGOUT_FORM = "compte:deconnexion"
END_ONE_FORM = "compte:session"
END_ALL_FORM = "compte:partout"
#: A one-time notice for the next page view ("consent withdrawn"), keyed by session id.
NOTICE_NAMESPACE = "account-notice"
NOTICE_TTL = 120
#: The page lists this many history entries at most (the newest).
HISTORY_SHOWN = 200


class AccountFrontend(FrontendModule):
    """``conf`` is exactly what ``idp.assemble._account_frontend`` builds."""

    def __init__(self, auth_req_callback_func: Callable, internal_attributes: dict[str, Any],
                 conf: Mapping[str, Any], base_url: str, name: str) -> None:
        super().__init__(auth_req_callback_func, internal_attributes, base_url, name)
        self.store = open_store(conf["store_url"])
        self.csrf_secret = csrf_secrets(conf["csrf_secret_path"])  # rotates (idp.keyring)
        self.requester: str = conf["requester"]
        self.requester_name: str = conf["requester_name"]
        self.attributes: list[str] = list(conf["attributes"])
        self.history_days: int = int(conf["history_days"])
        self.sessions = AccountSessions(self.store, int(conf["session_ttl"]),
                                        conf.get("secure_cookie", True))
        self.words = Vocabulary(attributes=conf["attribute_labels"], services=conf["services"],
                                sources=conf.get("sources") or {})
        #: The citizen's SSO sessions, ended by single logout (when the assembly configured it).
        self.sso: CitizenSessions | None = None
        if conf.get("logout"):
            self.sso = CitizenSessions(logout_hub(conf["logout"]), self.csrf_secret)

    def register_endpoints(self, backend_names: list[str]) -> list[tuple[str, Callable]]:
        return [(f"^{PAGE}$", self.page_endpoint),
                (f"^{WITHDRAW}$", self.withdraw_endpoint),
                (f"^{LOGOUT}$", self.logout_endpoint)] + (
            [(f"^{END_ONE}$", self.end_one_endpoint),
             (f"^{END_ALL}$", self.end_all_endpoint)] if self.sso else [])

    # -- the page ----------------------------------------------------------------

    def page_endpoint(self, context: Context) -> Response:
        if context.request_method not in ("GET", "HEAD"):
            raise FlowError("methode_non_autorisee", 405, "account page needs GET")
        session = self.sessions.current(context)
        if session is None:
            return self._start_login(context)
        lang = lang_of(context)
        notice = self.store.take(NOTICE_NAMESPACE, session.key) or {}
        withdrawn = notice.get("withdrawn")
        history = history_of(self.store, session.citizen)
        page = render(
            "compte.html", context, lang=lang, greeting=session.greeting,
            consents=consent_rows(consents_of(self.store, session.citizen), self.words, lang),
            history=history_rows(history[:HISTORY_SHOWN], self.words, lang),
            history_total=len(history), history_days=self.history_days,
            withdrawn=self.words.services.get(withdrawn, withdrawn) if withdrawn else None,
            withdraw_action=f"{self.base_url}/{WITHDRAW}",
            logout_action=f"{self.base_url}/{LOGOUT}",
            withdraw_csrf=csrf_token(self.csrf_secret, session.id, WITHDRAW_FORM),
            logout_csrf=csrf_token(self.csrf_secret, session.id, LOGOUT_FORM),
            sso=self.sso is not None,
            sessions=self._session_rows(context, session, lang),
            end_one_action=f"{self.base_url}/{END_ONE}",
            end_all_action=f"{self.base_url}/{END_ALL}",
            end_one_csrf=csrf_token(self.csrf_secret, session.id, END_ONE_FORM),
            end_all_csrf=csrf_token(self.csrf_secret, session.id, END_ALL_FORM),
        )
        if self.sso is not None:
            # Ending a session may send the browser to its SAML services and its source.
            cookie = cookie_value(context)
            targets = self.sso.hub.form_targets(self.sso.all_of(session.citizen),
                                                digest(cookie) if cookie else None)
            if targets:
                page.headers.append((FORM_ACTION_HEADER, " ".join(targets)))
        return page

    def _session_rows(self, context: Context, session: AccountSession, lang: str) -> list:
        if self.sso is None:
            return []
        cookie = cookie_value(context)
        return self.sso.rows(session.citizen, digest(cookie) if cookie else None, lang,
                             self.words.services)

    # -- signing in through NC Connect -------------------------------------------

    def _start_login(self, context: Context) -> Response:
        # The language is noted: a source's cancel reaches handle_backend_error without the
        # request, and its page must still speak the citizen's language.
        context.state[self.name] = {"requester": self.requester, "lang": lang_of(context)}
        request = InternalData(requester=self.requester,
                               requester_name=[{"lang": "fr", "text": self.requester_name}],
                               subject_type="pairwise")
        # Asked for, so that minimisation releases them: the page greets the citizen.
        request.attributes = list(self.attributes)
        logger.info("account login started")
        return self.auth_req_callback_func(context, request)

    def handle_authn_response(self, context: Context, internal_resp: InternalData) -> Response:
        pending = context.state.pop(self.name, None) if context.state is not None else None
        if not isinstance(pending, dict) or internal_resp.requester != self.requester \
                or pending.get("requester") != self.requester:
            raise FlowError("session_expiree", detail="account: no account login in the flow")
        session = self.sessions.open(citizen_of(context), _greeting(internal_resp.attributes))
        logger.info("account session opened")
        resp = SeeOther(f"{self.base_url}/{PAGE}")
        resp.headers.append(("Set-Cookie", self.sessions.cookie(session)))
        return resp

    def handle_backend_error(self, exception: Any) -> Response:
        state = getattr(exception, "state", None)
        pending = state.pop(self.name, None) if state is not None else None
        lang = pending.get("lang") if isinstance(pending, dict) else None
        logger.info("account login not completed by the source")
        return error_page("compte_connexion_annulee", None, 400, lang=lang)

    # -- forms ---------------------------------------------------------------------

    def withdraw_endpoint(self, context: Context) -> Response:
        session = self._posted(context, WITHDRAW_FORM)
        if session is None:
            return SeeOther(f"{self.base_url}/{PAGE}")
        service_id = context.request.get("service", "")
        removed = withdraw(self.store, session.citizen, service_id)
        if removed:
            self.store.put(NOTICE_NAMESPACE, session.key, {"withdrawn": service_id}, NOTICE_TTL)
            audit_event("consent_withdrawn", citizen=session.citizen, service=service_id)
        logger.info("consent withdrawn" if removed else "no consent to withdraw",
                    extra={"service": service_id if service_id in self.words.services else "?"})
        return SeeOther(f"{self.base_url}/{PAGE}")

    def logout_endpoint(self, context: Context) -> Response:
        session = self._posted(context, LOGOUT_FORM)
        if session is not None:
            self.sessions.end(session)
            self.store.delete(NOTICE_NAMESPACE, session.key)
            logger.info("account session ended")
        resp = render("compte/deconnecte.html", context, page_url=f"{self.base_url}/{PAGE}")
        resp.headers.append(("Set-Cookie", self.sessions.clearing_cookie()))
        return resp

    def end_one_endpoint(self, context: Context) -> Response:
        """"Mettre fin à cette session": a single logout of one of the citizen's sessions."""
        assert self.sso is not None
        session = self._posted(context, END_ONE_FORM)
        if session is None:
            return SeeOther(f"{self.base_url}/{PAGE}")
        ending = self.sso.named(session.citizen, context.request.get("session"))
        logger.info("sso session ended from the account page" if ending
                    else "no such sso session to end")
        return self.sso.hub.logout(context, [ending] if ending else [],
                                   finish={"kind": "compte", "back": f"{self.base_url}/{PAGE}"},
                                   reason="account_one")

    def end_all_endpoint(self, context: Context) -> Response:
        """"Me déconnecter partout": every SSO session of the citizen, and this account session."""
        assert self.sso is not None
        session = self._posted(context, END_ALL_FORM)
        if session is None:
            return SeeOther(f"{self.base_url}/{PAGE}")
        self.sessions.end(session)
        self.store.delete(NOTICE_NAMESPACE, session.key)
        resp = self.sso.hub.logout(context, self.sso.all_of(session.citizen),
                                   finish={"kind": "compte", "back": f"{self.base_url}/{PAGE}"},
                                   reason="account_all")
        resp.headers.append(("Set-Cookie", self.sessions.clearing_cookie()))
        return resp

    def _posted(self, context: Context, form: str) -> AccountSession | None:
        """The session a form acts for; ``None`` when it has expired (nothing to act on)."""
        if context.request_method != "POST":
            raise FlowError("methode_non_autorisee", 405, "account forms need POST")
        session = self.sessions.current(context)
        if session is None:
            return None
        posted_form(context, self.base_url, self.csrf_secret, session.id, form)
        return session


def _greeting(attributes: object) -> str:
    """Given names then birth name: the first value of each released to the space."""
    if not isinstance(attributes, dict):
        return ""
    parts = []
    for name in ("given_name", "family_name"):
        values = attributes.get(name)
        if isinstance(values, list) and values and isinstance(values[0], str):
            parts.append(values[0])
    return " ".join(parts)
