"""SATOSA backend for NC Connect's own citizen accounts, held in an LDAP directory.

Unlike the partner sources, nobody else shows a login page: ``start_auth`` answers with
our own form (:mod:`.login_form`), which posts back to ``/<source>/connexion`` on our own
origin, with a CSRF token bound to the flow and an ``Origin`` check (the form's page says
``referrer same-origin``, so browsers state our origin; any other, ``null`` included, is
refused). The post:

1. counts one attempt from the client address (:mod:`.throttle`, shared store), refuses
   when over the limit, and refuses a login locked here after too many failures;
2. looks the login up with the partner file's ``login_filter``, escaped
   (:meth:`plugins.ldap.directory.Directory.find`); exactly one entry or nothing;
3. binds as that entry (:mod:`.account_states`, with the password-policy control) — or,
   for an unknown login, binds as a DN that does not exist, so that both paths cost one
   search and one bind and take the same time (no account enumeration);
4. reads the level of assurance from the entry (``loa_attribute`` through ``loa_mapping``,
   capped at the source's ``loa``): below what this login requires, the citizen gets a page
   saying how to have the identity verified (``identite_non_verifiee``), with a link back to
   the choice when the service accepts other accounts — never a silent downgrade.

The form's "Annuler" (same token and ``Origin`` check) goes back to the choice of account
(:func:`plugins.micro_services.choix.back_to_choice`), as a cancel at any source does.

A refused login takes at least :data:`REFUSAL_FLOOR` (see there why).

The subject is ``<source>:<entryUUID>`` (the DN when the directory has no entryUUID). The
directory down or silent is ``source_indisponible``: the timeouts bound the wait. No log
line carries the login or the DN. The account source has no logout of its own: the
citizen's NC Connect session ends in the proxy.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from pathlib import Path
from typing import Any

from satosa.backends.base import BackendModule
from satosa.context import Context
from satosa.internal import AuthenticationInformation, InternalData
from satosa.response import Response

from idp import loa
from idp.app import flow_id
from idp.authn_requirements import requirements_of
from idp.autopost import FORM_ACTION_HEADER
from idp.csrf import csrf_ok, csrf_secrets, csrf_token
from idp.dictionary.normalise import SourceAttributes
from idp.errors import FlowError
from idp.keys import read_secret
from idp.messages import message
from idp.pages import lang_of, render, service_of
from idp.same_origin import posted_from
from idp.stores import open_store
from plugins.ldap.directory import Directory, DirectorySettings, DirectoryUnavailable
from plugins.micro_services.choix import back_to_choice

from .account_states import State, bind_as
from .login_form import form_page
from .throttle import Throttle, client_address, throttle_key

logger = logging.getLogger("ncconnect.backend.ldap")

FORM = "connexion-compte"
#: The form's "Annuler" button (``name=action``).
CANCEL = "annuler"
NOT_VERIFIED_TEMPLATE = "compte_non_verifie.html"
#: The choice micro-service's name (idp.assemble._choice_service), whose state holds the
#: request it offers sources for.
CHOICE_STATE = "choix"

#: Least time a refused login takes (seconds). The dummy bind makes an unknown login cost a
#: search and a bind like a wrong password, but a directory with a password policy also
#: *writes* the failure to an existing entry (ppolicy's pwdFailureTime): measured ~5 ms more
#: on OpenLDAP. Padding every refusal to this floor hides that difference (and slows
#: guessing); it is well above a healthy directory's cost, so both paths end at the floor.
REFUSAL_FLOOR = 0.06
#: The longest login looked up; a longer one finds nothing (but costs the same).
MAX_LOGIN = 256
STATE_PROBLEMS = {State.LOCKED: "compte_verrouille", State.EXPIRED: "mot_de_passe_expire",
                  State.MUST_CHANGE: "mot_de_passe_a_changer",
                  State.DISABLED: "compte_desactive"}


class IdentityNotVerified(Exception):
    """The entry's level is below what this login requires (detail without personal data)."""


class LdapBackend(BackendModule):
    def __init__(self, auth_callback_func, internal_attributes: dict, config: dict[str, Any],
                 base_url: str, name: str) -> None:
        super().__init__(auth_callback_func, internal_attributes, base_url, name)
        self.config = config
        self.source_id: str = config["source_id"]
        self.display_name: str = config.get("display_name") or self.source_id
        self.attributes = SourceAttributes(self.source_id, config["attributes"])
        self.external_names = sorted({n for r in config["attributes"].values()
                                      for n in r["external"]})
        ldap: dict[str, Any] = config["ldap"]
        self.directory = Directory(DirectorySettings(
            name=self.source_id, url=ldap["url"], base_dn=ldap["base_dn"],
            bind_dn=ldap.get("bind_dn"), bind_password=ldap.get("bind_password"),
            start_tls=bool(ldap.get("start_tls")), ca_file=config.get("tls_ca_file"),
            connect_timeout=float(ldap["connect_timeout"]),
            search_timeout=float(ldap["search_timeout"])))
        self.login_filter: str = ldap["login_filter"]
        self.loa_attribute: str | None = ldap.get("loa_attribute")
        self.reset_url: str | None = ldap.get("password_reset_url")
        #: A DN under the base that no entry has: the bind an unknown login costs.
        self.nobody_dn = f"cn=ncc-inexistant-{self.source_id},{ldap['base_dn']}"
        self.store = open_store(config["store_url"])
        # Keyed by a secret that never rotates (the pairwise one, under a label of its own):
        # a CSRF rotation must not reset every lockout counter (idp.keyring).
        throttle_secret = config.get("throttle_secret_path") or config["csrf_secret_path"]
        self.throttle = Throttle(self.store, self.source_id, ldap["lockout"], ldap["rate_limit"],
                                 throttle_key(read_secret(Path(throttle_secret))))
        self.trusted_proxies: list[str] = list(config.get("trusted_proxies") or [])
        self.csrf_secret = csrf_secrets(config["csrf_secret_path"])  # rotates (idp.keyring)
        self.services: dict[str, dict[str, Any]] = config.get("services") or {}
        self.own_origin: str = config.get("own_origin") or base_url
        self.loa: str = config.get("loa") or loa.LOW
        self.action = f"{base_url}/{name}/connexion"

    # -- SATOSA contract -------------------------------------------------------

    def register_endpoints(self) -> list:
        return [(f"^{self.name}/connexion$", self.login_endpoint)]

    def get_metadata_desc(self) -> list:
        return []

    def start_auth(self, context: Context, internal_request: InternalData) -> Response:
        # The request itself is kept so that "choose another account" can restart the choice.
        context.state[self.name] = {"requester": internal_request.requester or "",
                                    "request": internal_request.to_dict(),
                                    "frontend": context.target_frontend}
        return self._form(context)

    # -- the form --------------------------------------------------------------

    def login_endpoint(self, context: Context) -> Response:
        pending = context.state.get(self.name) if context.state is not None else None
        if not isinstance(pending, dict):
            raise FlowError("session_expiree", detail=f"{self.source_id}: login form without "
                            "a pending request")
        if context.request_method != "POST":
            return self._form(context)
        params = context.request or {}
        if not posted_from(context, self.own_origin):
            raise FlowError("csrf", 403, f"{self.source_id}: login form posted from another "
                            "origin")
        if not csrf_ok(self.csrf_secret, flow_id(context), FORM, params.get("csrf")):
            raise FlowError("csrf", 403, f"{self.source_id}: login form token invalid")
        if params.get("action") == CANCEL:
            # "Annuler": back to the choice of account, where "Revenir au service" still gives
            # the service access_denied.
            logger.info("login cancelled by the citizen", extra={"source": self.source_id})
            del context.state[self.name]
            return back_to_choice(context, self.name, self.base_url)
        login = params.get("identifiant", "")
        password = params.get("mot_de_passe", "")
        login = login if isinstance(login, str) else ""
        shown = login if len(login) <= MAX_LOGIN and "\x00" not in login \
            and "\ufffd" not in login else ""
        address = client_address(context.http_headers or {}, self.trusted_proxies)
        blocked = self.throttle.attempt_from(address)
        if blocked is not None:
            logger.info("login refused: rate limit", extra={"source": self.source_id})
            return self._form(context, shown, "trop_tentatives", blocked.until, 429)
        blocked = self.throttle.locked(login)
        if blocked is not None:
            logger.info("login refused: account locked here", extra={"source": self.source_id})
            return self._form(context, shown, "trop_essais", blocked.until, 429)
        started = time.monotonic()
        try:
            return self._check(context, pending, login, shown, started,
                               password if isinstance(password, str) else "")
        except DirectoryUnavailable as exc:
            # The directory's name and the exception class only (no login, no DN).
            raise FlowError("source_indisponible", 502, str(exc)) from exc

    def _check(self, context: Context, pending: dict, login: str, shown: str,
               started: float, password: str) -> Response:
        wanted = [*self.external_names, "entryUUID"] + (
            [self.loa_attribute] if self.loa_attribute else [])
        # Not text a directory could hold (NUL, replacement char of non-UTF-8 bytes, too long):
        # nothing is found, but the same search and bind are paid.
        usable = login if shown else "\ufffd-inexistant"
        entries = self.directory.find(self.login_filter, wanted, limit=2, login=usable)
        entry = entries[0] if len(entries) == 1 else None
        answer = bind_as(self.directory, entry[0] if entry else self.nobody_dn, password)
        if entry is None or answer.state is State.REFUSED:
            logger.info("login refused: wrong login or password",
                        extra={"source": self.source_id})
            blocked = self.throttle.failed(login)
            time.sleep(max(0.0, started + REFUSAL_FLOOR - time.monotonic()))
            if blocked is not None:
                return self._form(context, shown, "trop_essais", blocked.until, 429)
            return self._form(context, shown, "identifiants", status=401)
        if answer.state is not State.ACCEPTED:
            logger.info("login refused by the directory's policy",
                        extra={"source": self.source_id, "state": answer.state.value})
            return self._form(context, shown, STATE_PROBLEMS[answer.state], status=403)
        self.throttle.succeeded(login)
        try:
            internal = self._internal(context, entry[0], entry[1])
        except IdentityNotVerified as exc:
            logger.info("login refused: identity not verified for this service",
                        extra={"source": self.source_id, "detail": str(exc)})
            return self._not_verified(context, pending)
        del context.state[self.name]
        logger.info("source login verified", extra={"source": self.source_id})
        return self.auth_callback_func(context, internal)

    def _internal(self, context: Context, dn: str, attrs: dict[str, list[str]]) -> InternalData:
        lowered = {k.lower(): v for k, v in attrs.items()}
        stated = None
        if self.loa_attribute:
            values = lowered.get(self.loa_attribute.lower()) or []
            stated = values[0] if values else None
        # An unmapped value is the partner file's problem (niveau_insuffisant, as for any
        # source); a mapped level below this login's requirement is the citizen's to fix.
        level = loa.level_reached(self.source_id, self.loa, stated,
                                  self.config.get("loa_mapping"))
        required = requirements_of(context).loa_min
        if not loa.reaches(level, required):
            raise IdentityNotVerified(f"{self.source_id}: the entry reaches {level}, this "
                                      f"login requires {required}")
        claims = {name: lowered[name.lower()] for name in self.external_names
                  if name.lower() in lowered}
        uuid = (lowered.get("entryuuid") or [dn])[0]
        when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        internal = InternalData(auth_info=AuthenticationInformation(
            loa.URIS[level], when, self.source_id))
        internal.attributes = self.attributes.to_internal(
            {k: (v[0] if len(v) == 1 else v) for k, v in claims.items()})
        internal.subject_id = f"{self.source_id}:{uuid}"
        return internal

    def _not_verified(self, context: Context, pending: dict) -> Response:
        """The page saying how to have the identity verified; when the service accepts other
        accounts, a link back to the choice (its pending request restored for it)."""
        service = self.services.get(pending.get("requester", "")) or {}
        choice_url = None
        if service.get("choice"):
            context.state[CHOICE_STATE] = {"request": pending["request"],
                                           "frontend": pending["frontend"]}
            choice_url = f"{self.base_url}/choix"
        del context.state[self.name]
        title, explanation = message("identite_non_verifiee", lang_of(context))
        return render(NOT_VERIFIED_TEMPLATE, context, 403, title=title,
                      explanation=explanation, code="identite_non_verifiee",
                      choice_url=choice_url, service=service_of(context, lang_of(context)))

    def _form(self, context: Context, login: str = "", problem: str | None = None,
              until: float | None = None, status: int = 200) -> Response:
        pending = context.state.get(self.name) or {}
        service = self.services.get(pending.get("requester", "")) or {}
        page = form_page(context, action=self.action,
                         csrf=csrf_token(self.csrf_secret, flow_id(context), FORM),
                         service_name=service.get("name"), source_name=self.display_name,
                         reset_url=self.reset_url, login=login, problem=problem, until=until,
                         status=status)
        # A successful post may be answered by a redirect to an OIDC service: the CSP's
        # form-action must allow that origin (idp/form_targets.py).
        if service.get("origins"):
            page.headers.append((FORM_ACTION_HEADER, " ".join(service["origins"])))
        return page


