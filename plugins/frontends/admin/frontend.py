"""The SATOSA frontend of the administration portal: ``/admin/`` and its pages.

* ``GET /admin/``: who is signed in and their role; for administrators, the role holders.
  Without a portal session: a sign-in through NC Connect itself, as the requester
  ``ncconnect:administration``, at level ``substantial`` at least (recorded in the flow's
  requirements, so the choice offers only sources reaching it and the backends refuse an
  answer below it); the answer's level is checked again here;
* ``GET /admin/inscription?jeton=…``: an enrolment link (:mod:`.enrolment`): the same
  sign-in, after which the invitation is taken and its role bound to the account key;
* ``GET /admin/diffusion`` (filters as a GET form) and ``GET /admin/diffusion.csv``: the
  DPO's diffusion report, for the roles ``dpo`` and ``admin``;
* ``POST /admin/deconnexion``: CSRF token and origin checked, ends the portal session.

A sign-in with no role, or below the level, gets a 403 page and no session. The role is
read from the store at every page, so a lapsed role closes the portal at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from satosa.context import Context
from satosa.frontends.base import FrontendModule
from satosa.internal import InternalData
from satosa.response import Response, SeeOther

from idp import loa
from idp.app import repeated_params
from idp.audit.events import audit_event
from idp.authn_requirements import Requirements, record
from idp.csrf import csrf_ok, csrf_secrets, csrf_token
from idp.dictionary import load_dictionary
from idp.errors import FlowError
from idp.pages import lang_of, render
from idp.partners import load_registry
from idp.partners.diffusion import LEGAL_BASIS_FR, build_report, render_csv
from idp.same_origin import posted_from
from idp.stores import open_store
from plugins.frontends.account.session import AccountSession, AccountSessions
from plugins.micro_services.pairwise import citizen_of

from . import enrolment
from .roles import ADMIN, REPORT_READERS, RoleHolder, Roles
from .view import (
    MARKS,
    REFUSALS,
    ROLE_NAMES,
    SENSITIVITIES,
    date_label,
    expiry_label,
    filters_from,
    holder_rows,
    legal_basis_label,
    matrix,
    sensitivity_label,
)

logger = logging.getLogger("ncconnect.admin")

HOME = "admin"
REPORT = f"{HOME}/diffusion"
REPORT_CSV = f"{HOME}/diffusion.csv"
LOGOUT = f"{HOME}/deconnexion"
LOGOUT_FORM = "admin:deconnexion"
#: The portal session: its own namespace, cookie and path (the account space's code).
SESSION_NAMESPACE = "portal-session"
COOKIE_NAME = "ncc_admin"
COOKIE_PATH = "/admin"
#: The least level of assurance the portal accepts.
LEVEL = loa.SUBSTANTIAL
#: Pages a sign-in may lead back to (never a URL from the request).
RETURNS = {"accueil": HOME, "diffusion": REPORT}


class AdminFrontend(FrontendModule):
    """``conf`` is exactly what ``idp.assemble._admin_frontend`` builds."""

    def __init__(self, auth_req_callback_func: Callable, internal_attributes: dict[str, Any],
                 conf: Mapping[str, Any], base_url: str, name: str) -> None:
        super().__init__(auth_req_callback_func, internal_attributes, base_url, name)
        self.store = open_store(conf["store_url"])
        self.csrf_secret = csrf_secrets(conf["csrf_secret_path"])
        self.requester: str = conf["requester"]
        self.requester_name: str = conf["requester_name"]
        self.roles = Roles(self.store, int(conf["role_days"]))
        self.sessions = AccountSessions(self.store, int(conf["session_ttl"]),
                                        conf.get("secure_cookie", True),
                                        namespace=SESSION_NAMESPACE, cookie_name=COOKIE_NAME,
                                        path=COOKIE_PATH)
        # The registry as ``ncconnect partenaires diffusion`` reads it (same loader, same
        # builder): the page and its CSV say what that command says.
        self.dictionary = load_dictionary(Path(conf["dictionary"]))
        self.registry = load_registry(Path(conf["partners_dir"]), self.dictionary,
                                      bool(conf["allow_loopback_http"]),
                                      keep_undeliverable=True)
        self.partners_dir = Path(conf["partners_dir"])

    def register_endpoints(self, backend_names: list[str]) -> list[tuple[str, Callable]]:
        return [(f"^{HOME}/?$", self.home_endpoint),
                (f"^{enrolment.PATH}$", self.enrolment_endpoint),
                (f"^{REPORT}$", self.report_endpoint),
                (rf"^{HOME}/diffusion\.csv$", self.csv_endpoint),
                (f"^{LOGOUT}$", self.logout_endpoint)]

    # -- pages ---------------------------------------------------------------------

    def home_endpoint(self, context: Context) -> Response:
        signed = self._signed_in(context, "accueil")
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        lang = lang_of(context)
        return render(
            "admin/accueil.html", context, lang=lang, role=ROLE_NAMES[lang][holder.role],
            role_id=holder.role, expires=expiry_label(holder.expires_at, lang),
            holders=holder_rows(self.roles.holders(), holder.account, lang)
            if holder.role == ADMIN else None,
            report_url=f"/{REPORT}", logout_action=f"{self.base_url}/{LOGOUT}",
            logout_csrf=csrf_token(self.csrf_secret, session.id, LOGOUT_FORM))

    def report_endpoint(self, context: Context) -> Response:
        signed = self._signed_in(context, "diffusion")
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        if holder.role not in REPORT_READERS:
            return self._refusal(context, "sans_role")
        lang = lang_of(context)
        report = build_report(self.registry, self.dictionary, self.partners_dir)
        filters = filters_from(context.request or {}, report)
        return render(
            "admin/diffusion.html", context, lang=lang, report=report, filters=filters,
            matrix=matrix(report, filters), marks=MARKS[lang],
            generated=date_label(report.generated, lang),
            sensitivities=[(s, sensitivity_label(s, lang)) for s in SENSITIVITIES],
            legal_bases=[(b, legal_basis_label(b, lang)) for b in LEGAL_BASIS_FR],
            sensitivity_label=sensitivity_label, legal_basis_label=legal_basis_label,
            home_url=f"/{HOME}/", csv_url=f"/{REPORT_CSV}", report_url=f"/{REPORT}",
            logout_action=f"{self.base_url}/{LOGOUT}",
            logout_csrf=csrf_token(self.csrf_secret, session.id, LOGOUT_FORM))

    def csv_endpoint(self, context: Context) -> Response:
        signed = self._signed_in(context, "diffusion")
        if isinstance(signed, Response):
            return signed
        _, holder = signed
        if holder.role not in REPORT_READERS:
            return self._refusal(context, "sans_role")
        report = build_report(self.registry, self.dictionary, self.partners_dir)
        name = f"ncconnect-diffusion-{report.generated:%Y%m%d-%H%M%S}.csv"
        return Response(render_csv(report), content="text/csv; charset=utf-8",
                        headers=[("Content-Disposition", f'attachment; filename="{name}"')])

    def logout_endpoint(self, context: Context) -> Response:
        if context.request_method != "POST":
            raise FlowError("methode_non_autorisee", 405, "admin logout needs POST")
        session = self.sessions.current(context)
        if session is not None:
            fields = context.request if isinstance(context.request, dict) else {}
            if not posted_from(context, self.base_url):
                raise FlowError("compte_formulaire_invalide", 403,
                                f"{LOGOUT_FORM}: posted from another origin")
            if not csrf_ok(self.csrf_secret, session.id, LOGOUT_FORM, fields.get("csrf")):
                raise FlowError("compte_formulaire_invalide", 403,
                                f"{LOGOUT_FORM}: CSRF token invalid")
            self.sessions.end(session)
            logger.info("portal session ended")
        resp = render("admin/deconnecte.html", context, home_url=f"/{HOME}/")
        resp.headers.append(("Set-Cookie", self.sessions.clearing_cookie()))
        return resp

    # -- enrolment -----------------------------------------------------------------

    def enrolment_endpoint(self, context: Context) -> Response:
        if context.request_method not in ("GET", "HEAD"):
            raise FlowError("methode_non_autorisee", 405, "enrolment link needs GET")
        token = (context.request or {}).get(enrolment.PARAMETER)
        if enrolment.PARAMETER in repeated_params(context) or not enrolment.well_formed(token):
            return self._refusal(context, "lien_invalide", 404)
        key = enrolment.invitation_key(token)
        if not enrolment.pending(self.store, key):
            logger.info("enrolment link used or expired")
            return self._refusal(context, "lien_invalide", 410)
        return self._start_login(context, "accueil", invitation=key)

    # -- signing in through NC Connect -------------------------------------------

    def _signed_in(self, context: Context,
                   back: str) -> tuple[AccountSession, RoleHolder] | Response:
        """The session and its holder's current role; otherwise the response to send (a
        sign-in, or a refusal when the role has lapsed since the session opened)."""
        if context.request_method not in ("GET", "HEAD"):
            raise FlowError("methode_non_autorisee", 405, "portal pages need GET")
        session = self.sessions.current(context)
        if session is None:
            return self._start_login(context, back)
        holder = self.roles.of(session.citizen)
        if holder is None:
            self.sessions.end(session)
            return self._refusal(context, "sans_role")
        return session, holder

    def _start_login(self, context: Context, back: str, invitation: str | None = None) -> Response:
        context.state[self.name] = {"requester": self.requester, "lang": lang_of(context),
                                    "back": back, "invitation": invitation}
        # The level is asked like a service's loa_min: the choice offers only sources that
        # reach it and the backends refuse an answer below it; the answer is checked again.
        # Always a fresh authentication: an SSO session is never enough for this portal.
        record(context, Requirements(force=True, loa_min=LEVEL))
        request = InternalData(requester=self.requester,
                               requester_name=[{"lang": "fr", "text": self.requester_name}],
                               subject_type="pairwise")
        request.attributes = []  # the account key is all the portal needs
        logger.info("portal login started", extra={"enrolment": invitation is not None})
        return self.auth_req_callback_func(context, request)

    def handle_authn_response(self, context: Context, internal_resp: InternalData) -> Response:
        pending = context.state.pop(self.name, None) if context.state is not None else None
        if not isinstance(pending, dict) or internal_resp.requester != self.requester \
                or pending.get("requester") != self.requester:
            raise FlowError("session_expiree", detail="admin: no portal login in the flow")
        lang = pending.get("lang") if pending.get("lang") in ("fr", "en") else None
        citizen = citizen_of(context)
        auth = internal_resp.auth_info
        level = loa.level_of(auth.auth_class_ref if auth is not None else None)
        if level is None or not loa.reaches(level, LEVEL):
            # The invitation, if any, is left in place: a stronger account may use it.
            audit_event("portal_refused", reason="level", loa=level or "unknown")
            logger.info("portal login below the level", extra={"loa": level or "unknown"})
            return self._refusal(context, "niveau", lang=lang)
        invitation = pending.get("invitation")
        if isinstance(invitation, str):
            role = enrolment.redeem(self.store, invitation)
            if role is None:
                audit_event("portal_refused", reason="invitation_used_or_expired",
                            invitation=enrolment.reference(invitation))
                return self._refusal(context, "lien_invalide", 410, lang=lang)
            holder = self.roles.grant(citizen, role)
            audit_event("role_granted", role=role, via="invitation",
                        invitation=enrolment.reference(invitation), loa=level)
            logger.info("portal role granted", extra={"role": role})
        else:
            found = self.roles.of(citizen)
            if found is None:
                audit_event("portal_refused", reason="no_role", loa=level)
                logger.info("portal login without a role")
                return self._refusal(context, "sans_role", lang=lang)
            holder = self.roles.renew(found)
            audit_event("role_renewed", role=holder.role, loa=level)
        session = self.sessions.open(citizen, "")
        logger.info("portal session opened", extra={"role": holder.role})
        back = RETURNS.get(str(pending.get("back")), HOME)
        resp = SeeOther(f"{self.base_url}/{back}" + ("/" if back == HOME else ""))
        resp.headers.append(("Set-Cookie", self.sessions.cookie(session)))
        return resp

    def handle_backend_error(self, exception: Any) -> Response:
        state = getattr(exception, "state", None)
        pending = state.pop(self.name, None) if state is not None else None
        lang = pending.get("lang") if isinstance(pending, dict) else None
        logger.info("portal login not completed by the source")
        return self._refusal(None, "connexion_annulee", 400, lang=lang)

    def _refusal(self, context: Context | None, reason: str, status: int = 403,
                 lang: str | None = None) -> Response:
        lang = lang if lang in ("fr", "en") else lang_of(context)
        title, explanation = REFUSALS[reason][lang]
        return render("admin/refus.html", context, status, lang=lang, title=title,
                      explanation=explanation, reason=reason, home_url=f"/{HOME}/")

