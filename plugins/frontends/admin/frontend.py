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
* ``POST /admin/deconnexion``: CSRF token and origin checked, ends the portal session;
* ``POST /admin/roles/retirer``: an administrator revokes one role held (one row of the
  holders' table, CSRF token bound to the session and to that row); never their own ``admin``
  role;
* ``/partenaires/…`` and the request queue of ``/admin/``: :mod:`.workflow`. The partner
  side has its own session cookie on its own path; a ``partner`` role opens only it, the
  ``admin`` and ``dpo`` roles only ``/admin/``. A person may hold several roles (at most one
  ``partner``): one holding a staff role and ``partner`` enters both spaces.

A sign-in with no role for the space, or below the level, gets a 403 page and no session. The
roles are read from the store at every page, so a lapsed or revoked role closes the portal at
once.
"""

from __future__ import annotations

import logging
import os
import signal
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
from idp.correlation import bind_citizen
from idp.csrf import csrf_secrets, csrf_token, posted_form
from idp.dictionary import load_dictionary
from idp.errors import FlowError
from idp.pages import lang_of, render
from idp.partners import generation, load_registry
from idp.partners.diffusion import LEGAL_BASIS_FR, build_report, render_csv
from idp.partners.registry import Registry
from idp.schema_errors import ConfigError
from idp.stores import StoreUnavailable, open_store
from plugins.frontends.account.session import AccountSession, AccountSessions
from plugins.micro_services.pairwise import citizen_of

from . import enrolment, workflow
from .roles import ADMIN, PARTNER, REPORT_READERS, STAFF, RoleHolder, Roles, well_formed_reference
from .services import STATE_FORM
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
from .workflow import ADMIN_SPACE, LOGOUT_FORM, PARTNER_HOME, PARTNER_LOGOUT, PARTNER_SPACE

logger = logging.getLogger("ncconnect.admin")

HOME = "admin"
REPORT = f"{HOME}/diffusion"
REPORT_CSV = f"{HOME}/diffusion.csv"
LOGOUT = f"{HOME}/deconnexion"
REVOKE = f"{HOME}/roles/retirer"
#: The revocation form of one row: its CSRF token is bound to the session and to the row.
REVOKE_FORM = "admin:role-revoke:{}"
#: The posted field naming the row: :func:`.roles.row_reference` of its store item.
REVOKE_FIELD = "role"
#: The partner organisations' side: its own cookie, on its own path.
PARTNER_COOKIE_NAME = "ncc_partenaire"
PARTNER_COOKIE_PATH = "/partenaires"
#: The portal session: its own namespace, cookie and path (the account space's code).
SESSION_NAMESPACE = "portal-session"
COOKIE_NAME = "ncc_admin"
COOKIE_PATH = "/admin"
#: The least level of assurance the portal accepts.
LEVEL = loa.SUBSTANTIAL
#: Pages a sign-in may lead back to (never a URL from the request).
RETURNS = {"accueil": HOME, "diffusion": REPORT, "partenaires": PARTNER_HOME}
#: The two spaces: who may enter each, where its home is.
SPACE_ROLES = {ADMIN_SPACE: STAFF, PARTNER_SPACE: frozenset((PARTNER,))}
SPACE_HOMES = {ADMIN_SPACE: HOME, PARTNER_SPACE: PARTNER_HOME}


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
        self.partner_sessions = AccountSessions(
            self.store, int(conf["session_ttl"]), conf.get("secure_cookie", True),
            namespace=SESSION_NAMESPACE, cookie_name=PARTNER_COOKIE_NAME,
            path=PARTNER_COOKIE_PATH)
        self.spaces = {ADMIN_SPACE: self.sessions, PARTNER_SPACE: self.partner_sessions}
        self.invitation_hours = int(conf.get("invitation_hours", 72))
        self.secret_overlap_hours = float(conf.get("secret_overlap_hours", 168))
        self.pid_file = Path(conf["pid_file"]) if conf.get("pid_file") else None
        # The registry as ``ncconnect partenaires diffusion`` reads it (same loader, same
        # builder): the page and its CSV say what that command says.
        self.dictionary = load_dictionary(Path(conf["dictionary"]))
        self.partners_dir = Path(conf["partners_dir"])
        self._registry_seen: tuple = ()
        self._registry: Registry | None = None
        self.allow_loopback_http = bool(conf["allow_loopback_http"])
        _ = self.registry  # a folder that does not load stops the proxy at start
        self.workflow = workflow.Workflow(self)

    def register_endpoints(self, backend_names: list[str]) -> list[tuple[str, Callable]]:
        return [(f"^{HOME}/?$", self.home_endpoint),
                (f"^{enrolment.PATH}$", self.enrolment_endpoint),
                (f"^{REPORT}$", self.report_endpoint),
                (rf"^{HOME}/diffusion\.csv$", self.csv_endpoint),
                (f"^{LOGOUT}$", self.logout_endpoint),
                (f"^{REVOKE}$", self.revoke_endpoint),
                (f"^{PARTNER_LOGOUT}$", self.partner_logout_endpoint),
                *self.workflow.endpoints()]

    @property
    def registry(self) -> Registry:
        """The partner folder as it is now, re-read when a file changed (its names, sizes
        and modification times): after an approval the portal shows the new service even on
        a worker the reload has not replaced yet. A folder that no longer loads keeps the
        last good registry (the proxy keeps serving it too)."""
        try:
            seen = tuple(sorted((e.name, e.stat().st_mtime_ns, e.stat().st_size)
                                for e in self.partners_dir.iterdir()))
        except OSError:
            seen = self._registry_seen
        if self._registry is None or seen != self._registry_seen:
            try:
                self._registry = load_registry(self.partners_dir, self.dictionary,
                                               self.allow_loopback_http,
                                               keep_undeliverable=True)
                self._registry_seen = seen
            except ConfigError:
                if self._registry is None:
                    raise
                logger.warning("partner folder does not load: the portal shows the last "
                               "good registry")
        return self._registry

    # -- the running proxy --------------------------------------------------------------

    def reload_proxy(self) -> bool:
        """What ``ncconnect partenaires reload`` does after its check: SIGHUP to the gunicorn
        master named by the pid file ``serve`` wrote. ``False`` when there is none."""
        try:
            pid = int(self.pid_file.read_text().strip()) if self.pid_file else 0
        except (OSError, ValueError):
            pid = 0
        if pid <= 1:
            logger.warning("no proxy pid file: the registry change waits for a reload")
            return False
        if pid != os.getppid():
            # A stale file naming a reused pid: never signal a process that is not our master.
            logger.warning("the pid file does not name this worker's master: no reload sent")
            return False
        try:
            os.kill(pid, signal.SIGHUP)
        except OSError as exc:
            logger.warning("proxy reload not sent", extra={"reason": type(exc).__name__})
            return False
        logger.info("proxy reload sent")
        return True

    def registry_changed(self) -> bool:
        """After a write into ``partenaires/``: every proxy host reloads (the registry
        generation in the shared store, which each host's master watches), this one at once.
        ``False`` when this host could not be signalled (the others still reload)."""
        try:
            generation.bump(self.store)
        except StoreUnavailable:
            logger.warning("registry generation not bumped: other hosts wait for a reload")
        return self.reload_proxy()

    # -- pages ---------------------------------------------------------------------

    def home_endpoint(self, context: Context) -> Response:
        signed = self._signed_in(context, "accueil")
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        return self.home_page(context, session, holder)

    def home_page(self, context: Context, session: AccountSession, holder: RoleHolder,
                  status: int = 200, **extra: Any) -> Response:
        lang = lang_of(context)
        is_admin = holder.role == ADMIN
        others = [h for h in self.roles.roles_of(holder.account) if h.role != holder.role]
        return render(
            "admin/accueil.html", context, status, lang=lang,
            role=ROLE_NAMES[lang][holder.role],
            role_id=holder.role, expires=expiry_label(holder.expires_at, lang),
            other_roles=[ROLE_NAMES[lang][h.role] + (f" ({h.organisation})" if h.organisation
                                                     else "") for h in others],
            partner_url=f"/{PARTNER_HOME}/" if any(h.role == PARTNER for h in others)
            else None,
            holders=holder_rows(self.roles.holders(), holder.account, lang,
                                lambda ref: self.csrf_for(session, REVOKE_FORM.format(ref)))
            if is_admin else None,
            revoke_action=f"{self.base_url}/{REVOKE}",
            queue=self.workflow.queue_rows(lang) if is_admin else None,
            invitation=self.workflow.invitation_form(session, extra) if is_admin else None,
            services=self._service_rows(session, lang) if is_admin else None,
            state_problem=extra.get("state_problem"),
            report_url=f"/{REPORT}", logout_action=f"{self.base_url}/{LOGOUT}",
            logout_csrf=csrf_token(self.csrf_secret, session.id, LOGOUT_FORM))

    def _service_rows(self, session: AccountSession, lang: str) -> list[dict]:
        """Every service, with its disable/enable form (``ncconnect partenaires
        disable|enable`` from the console)."""
        return [{"id": s.id, "name": s.name.in_lang(lang)[0], "active": s.active,
                 "organisation_id": s.organisation_id,
                 "action": f"{self.base_url}/admin/services/{s.id}/etat",
                 "csrf": self.csrf_for(session, STATE_FORM.format(s.id))}
                for s in sorted(self.registry.services.values(), key=lambda s: s.id)]

    def _report_reader(self, context: Context) -> AccountSession | Response:
        """The session of a DPO or an administrator (the report's readers), or the answer."""
        signed = self._signed_in(context, "diffusion")
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        if holder.role not in REPORT_READERS:
            return self._refusal(context, "sans_role")
        return session

    def report_endpoint(self, context: Context) -> Response:
        session = self._report_reader(context)
        if isinstance(session, Response):
            return session
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
        session = self._report_reader(context)
        if isinstance(session, Response):
            return session
        report = build_report(self.registry, self.dictionary, self.partners_dir)
        name = f"ncconnect-diffusion-{report.generated:%Y%m%d-%H%M%S}.csv"
        return Response(render_csv(report), content="text/csv; charset=utf-8",
                        headers=[("Content-Disposition", f'attachment; filename="{name}"')])

    def logout_endpoint(self, context: Context) -> Response:
        return self._logout(context, ADMIN_SPACE)

    def partner_logout_endpoint(self, context: Context) -> Response:
        return self._logout(context, PARTNER_SPACE)

    def _logout(self, context: Context, space: str) -> Response:
        if context.request_method != "POST":
            raise FlowError("methode_non_autorisee", 405, "portal logout needs POST")
        sessions = self.spaces[space]
        session = sessions.current(context)
        if session is not None:
            self.check_post(context, session, LOGOUT_FORM)
            sessions.end(session)
            logger.info("portal session ended")
        resp = render("admin/deconnecte.html", context, home_url=f"/{SPACE_HOMES[space]}/")
        resp.headers.append(("Set-Cookie", sessions.clearing_cookie()))
        return resp

    def revoke_endpoint(self, context: Context) -> Response:
        """An administrator revokes one role held, from the holders' table. The row is named
        by the reference of its store item (:func:`.roles.row_reference`: the page never
        holds a whole account key), which must be a current holder's; the token must be that
        row's.
        The holder's open sessions are left alone: their next page re-reads the roles and is
        refused. An administrator's own ``admin`` role is refused here (the console must
        never lock out its last administrator); ``ncconnect admin revoke`` can do it."""
        signed = self._signed_in(context, "accueil", post=True)
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        fields = context.request if isinstance(context.request, dict) else {}
        reference = fields.get(REVOKE_FIELD)
        if not well_formed_reference(reference):
            raise FlowError("compte_formulaire_invalide", 403, "role revocation: no valid row")
        self.check_post(context, session, REVOKE_FORM.format(reference))
        if holder.role != ADMIN:
            return self._refusal(context, "sans_role")
        target = self.roles.by_reference(str(reference))
        if target is None:
            return self._refusal(context, "role_inconnu", 404)
        if target.account == session.citizen and target.role == ADMIN:
            return self._refusal(context, "role_propre")
        revoked = self.roles.revoke(target.item)
        if revoked is None:  # revoked meanwhile by another administrator, or lapsed
            return self._refusal(context, "role_inconnu", 404)
        audit_event("role_revoked", role=revoked.role, holder=revoked.account[:8], via="console",
                    **({"organisation": revoked.organisation} if revoked.organisation else {}))
        logger.info("portal role revoked from the console", extra={"role": revoked.role})
        return SeeOther(f"{self.base_url}/{HOME}/#roles")

    def check_post(self, context: Context, session: AccountSession, form: str) -> dict:
        """A state-changing POST: the origin check and the form's CSRF token bound to the
        portal session; refused with a 403 otherwise. The posted fields."""
        return posted_form(context, self.base_url, self.csrf_secret, session.id, form)

    def csrf_for(self, session: AccountSession, form: str) -> str:
        return csrf_token(self.csrf_secret, session.id, form)

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
        # The space is the invitation's role's: known when it is taken, after the sign-in.
        return self._start_login(context, "accueil", invitation=key, space=None)

    # -- signing in through NC Connect -------------------------------------------

    def _signed_in(self, context: Context, back: str, space: str = ADMIN_SPACE,
                   post: bool = False) -> tuple[AccountSession, RoleHolder] | Response:
        """The session and the role with which its person enters ``space`` now (roles are
        re-read at every page: see :meth:`Roles.in_space`); otherwise the response to send (a
        sign-in, or a refusal when no role of theirs opens this space any more: lapsed or
        revoked since the session opened). ``post``: a form's POST, which never starts a
        sign-in."""
        if context.request_method not in (("POST",) if post else ("GET", "HEAD")):
            raise FlowError("methode_non_autorisee", 405,
                            f"this portal address needs {'POST' if post else 'GET'}")
        sessions = self.spaces[space]
        session = sessions.current(context)
        if session is None:
            if post:
                raise FlowError("compte_formulaire_invalide", 403, "portal POST without a "
                                "portal session")
            return self._start_login(context, back, space=space)
        holder = self.roles.in_space(session.citizen, SPACE_ROLES[space])
        if holder is None:
            sessions.end(session)
            return self._refusal(context, "sans_role" if space == ADMIN_SPACE
                                 else "sans_role_partenaire")
        bind_citizen(session.citizen)
        return session, holder

    def _start_login(self, context: Context, back: str, invitation: str | None = None,
                     space: str | None = ADMIN_SPACE) -> Response:
        context.state[self.name] = {"requester": self.requester, "lang": lang_of(context),
                                    "back": back, "invitation": invitation, "space": space}
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
        space = pending.get("space")
        if isinstance(invitation, str):
            taken = enrolment.redeem(self.store, invitation)
            if taken is None:
                audit_event("portal_refused", reason="invitation_used_or_expired",
                            invitation=enrolment.reference(invitation))
                return self._refusal(context, "lien_invalide", 410, lang=lang)
            role, organisation = taken
            # Added to the person's other roles; a partner role of another organisation is
            # replaced (one organisation per person).
            granted, before = self.roles.grant(citizen, role, organisation)
            replaced = before.organisation if before is not None \
                and before.organisation != organisation else None
            audit_event("role_granted", role=role, via="invitation",
                        invitation=enrolment.reference(invitation), loa=level,
                        **({"organisation": organisation} if organisation else {}),
                        **({"replaced_organisation": replaced} if replaced else {}))
            logger.info("portal role granted", extra={"role": role})
            self._renew_all(citizen, level, but=role)
            space = PARTNER_SPACE if role == PARTNER else ADMIN_SPACE
            holder = self.roles.in_space(citizen, SPACE_ROLES[space]) or granted
        else:
            found = self.roles.in_space(citizen, SPACE_ROLES[space]) \
                if space in SPACE_ROLES else None
            if found is None:
                audit_event("portal_refused", reason="no_role", loa=level)
                logger.info("portal login without a role for this space")
                return self._refusal(context, "sans_role" if space == ADMIN_SPACE
                                     else "sans_role_partenaire", lang=lang)
            renewed = self._renew_all(citizen, level)
            holder = next((h for h in renewed if h.role == found.role), found)
        sessions = self.spaces[space]
        session = sessions.open(citizen, "")
        logger.info("portal session opened", extra={"role": holder.role})
        back = RETURNS.get(str(pending.get("back")), HOME)
        if space == PARTNER_SPACE or back == PARTNER_HOME:
            back = SPACE_HOMES[space]
        resp = SeeOther(f"{self.base_url}/{back}" + ("/" if back in SPACE_HOMES.values() else ""))
        resp.headers.append(("Set-Cookie", sessions.cookie(session)))
        return resp

    def _renew_all(self, citizen: str, level: str, but: str | None = None) -> list[RoleHolder]:
        """A sign-in renews every role of its person, whichever space it opens (``but``: the
        role an invitation has just granted), one ``role_renewed`` each."""
        self.roles.migrate(citizen)
        renewed = []
        for held in self.roles.roles_of(citizen):
            if held.role == but:
                continue
            renewed.append(self.roles.renew(held))
            audit_event("role_renewed", role=held.role, loa=level,
                        **({"organisation": held.organisation} if held.organisation else {}))
        return renewed

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

