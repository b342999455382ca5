"""The request-and-approval workflow: partner organisations ask, administrators decide.

Partner side, ``/partenaires/`` (role ``partner``, bound to one ``organisation_id``):

* ``GET /partenaires/``: the organisation's services (partner files bearing its
  ``organisation_id``) and its requests with their status;
* ``GET|POST /partenaires/demande``: a new service request (:mod:`.formulaire`), checked as
  ``ncconnect partenaires add`` checks a registration request, each problem next to its field;
* ``GET|POST /partenaires/demandes/<id>``: one request; in "changes requested", the form
  again, with the administrators' message, to edit and submit again;
* ``POST /partenaires/demandes/<id>/secret``: an approved OIDC service's client secret,
  generated and shown once; only its SHA-256 goes into the partner file.

Administrators' side, on ``/admin/`` (role ``admin``):

* ``POST /admin/invitation``: a one-time enrolment link to the role ``partner`` of an
  organisation (what ``ncconnect admin add --role partner --organisation ORG`` prints);
* ``GET|POST /admin/demandes/<organisation>/<id>``: one request, what the service would
  receive (sensitive attributes marked), and the decisions: request changes, reject,
  approve. Approval writes the partner file through ``ncconnect partenaires add``'s code and
  reloads the running proxy as ``ncconnect partenaires reload`` does.

Every POST carries the form's CSRF token bound to the portal session and passes the origin
check; every action is an audit event naming ids, never a value typed in a form.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from satosa.context import Context
from satosa.response import Response, SeeOther

from idp.audit.events import audit_event
from idp.errors import FlowError
from idp.pages import lang_of, render
from idp.partners.diffusion import LEGAL_BASIS_FR
from idp.partners.edit import add_service, new_client_secret
from idp.partners.update import update_service
from idp.schema_errors import ConfigError
from idp.stores import StoreUnavailable
from idp.uploads import FILES_DECORATION
from plugins.frontends.account.session import AccountSession

from . import demandes, enrolment, formulaire
from .demandes import DECISIONS, Requests, ServiceRequest
from .diff import DiffRow, registry_diff
from .roles import ADMIN, PARTNER, RoleHolder, valid_organisation
from .services import Services, folder_unavailable
from .view import expiry_label, legal_basis_label, sensitivity_label

if TYPE_CHECKING:
    from .frontend import AdminFrontend

logger = logging.getLogger("ncconnect.admin")

PARTNER_HOME = "partenaires"
PARTNER_LOGOUT = f"{PARTNER_HOME}/deconnexion"
#: The sign-out form of both spaces (its CSRF token is bound to the space's session).
LOGOUT_FORM = "admin:deconnexion"
ADMIN_SPACE, PARTNER_SPACE = "admin", "partner"
NEW_REQUEST = f"{PARTNER_HOME}/demande"
INVITE = "admin/invitation"
INVITE_FORM = "admin:invitation"
REQUEST_FORM = "partenaires:demande"
ORG = r"[a-z][a-z0-9-]{1,62}"
ID = demandes.ID_PATTERN

#: The form's fields as the error summary names them (its links lead to each field).
FIELD_LABELS = {
    "fr": {"organisation": "Organisation", "contact": "Adresse de contact",
           "service_name": "Nom du service", "purpose": "Finalité",
           "legal_basis": "Base légale", "legal_reference": "Texte de référence",
           "protocol": "Protocole", "redirect_uris": "Adresses de retour",
           "token_endpoint_auth_method": "Authentification du client",
           "entity_id": "entityID SAML", "metadata_url": "Adresse des métadonnées",
           "sources": "Moyens d'identification", "loa_min": "Niveau de garantie",
           "remember_days": "Durée de mémorisation", "attributes": "Données demandées",
           "logo": "Logo du service",
           "attr_name": "Donnée {n}", "attr_justification": "Justification de la donnée {n}"},
    "en": {"organisation": "Organisation", "contact": "Contact address",
           "service_name": "Service name", "purpose": "Purpose", "legal_basis": "Legal basis",
           "legal_reference": "Legal reference", "protocol": "Protocol",
           "redirect_uris": "Redirect URIs", "token_endpoint_auth_method":
           "Client authentication", "entity_id": "SAML entityID",
           "metadata_url": "Metadata URL", "sources": "Identity sources",
           "loa_min": "Level of assurance", "remember_days": "Consent remembered",
           "attributes": "Data requested", "logo": "Service logo", "attr_name": "Data item {n}",
           "attr_justification": "Justification of item {n}"},
}


def field_label(name: str, lang: str) -> str:
    labels = FIELD_LABELS[lang]
    row = re.fullmatch(r"(attr_name|attr_justification)_(\d+)", name)
    if row:
        return labels[row[1]].format(n=int(row[2]) + 1)
    return labels.get(name, name)


LEVEL_NAMES = {"fr": {"low": "faible", "substantial": "substantiel", "high": "élevé"},
               "en": {"low": "low", "substantial": "substantial", "high": "high"}}
STATUS_NAMES = {
    "fr": {"draft": "brouillon, non envoyée", "submitted": "envoyée, en attente d'examen",
           "changes_requested": "modifications demandées",
           "approved": "approuvée", "rejected": "refusée"},
    "en": {"draft": "draft, not sent", "submitted": "submitted, awaiting review",
           "changes_requested": "changes requested",
           "approved": "approved", "rejected": "rejected"},
}

#: How a change proposal is named next to its status.
CHANGE_LABEL = {"fr": "modification", "en": "change"}


class Workflow:
    def __init__(self, fe: AdminFrontend) -> None:
        self.fe = fe
        self.requests = Requests(fe.store)
        self.services = Services(self)

    def endpoints(self) -> list[tuple[str, Any]]:
        return [(f"^{INVITE}$", self.invite_endpoint),
                (rf"^admin/demandes/({ORG})/({ID})$", self.admin_request_endpoint),
                (f"^{PARTNER_HOME}/?$", self.partner_home_endpoint),
                (f"^{NEW_REQUEST}$", self.new_request_endpoint),
                (rf"^{PARTNER_HOME}/demandes/({ID})$", self.partner_request_endpoint),
                (rf"^{PARTNER_HOME}/demandes/({ID})/secret$", self.secret_endpoint),
                *self.services.endpoints()]

    # -- what the pages show -------------------------------------------------------------

    def queue_rows(self, lang: str) -> list[dict]:
        return [{"id": r.id, "organisation": r.organisation,
                 "service_name": r.form.get("service_name", ""),
                 "updated": expiry_label(r.updated_at, lang),
                 "url": f"/admin/demandes/{r.organisation}/{r.id}"}
                for r in self.requests.queue()]

    def invitation_form(self, session: AccountSession, extra: dict) -> dict:
        return {"action": f"{self.fe.base_url}/{INVITE}",
                "csrf": self.fe.csrf_for(session, INVITE_FORM),
                "organisation": extra.get("organisation", ""),
                "error": extra.get("error"), "link": extra.get("link"),
                "expires": extra.get("expires")}

    def _services_of(self, organisation: str) -> list[dict]:
        out = []
        for s in self.fe.registry.services.values():
            if s.organisation_id == organisation:
                out.append({"id": s.id, "name": s.name.in_lang("fr")[0], "active": s.active,
                            "protocol": s.protocol,
                            "client_id": s.oidc.client_id if s.oidc else None,
                            "entity_id": s.saml2.entity_id if s.saml2 else None})
        return sorted(out, key=lambda s: s["id"])

    def _choices(self, lang: str) -> dict:
        """What the request form offers: active sources, dictionary attributes."""
        return {
            "sources": [{"id": x.id, "name": x.display_name.in_lang(lang)[0], "loa": x.loa}
                        for x in self.fe.registry.sources.values() if x.active],
            "attributes": [{"name": n, "label": a.label_fr if lang == "fr" else a.label_en,
                            "sensitivity": a.sensitivity}
                           for n, a in sorted(self.fe.dictionary.attributes.items())],
            "legal_bases": [("", "—")] + [(b, legal_basis_label(b, lang))
                                          for b in LEGAL_BASIS_FR],
            "levels": list(LEVEL_NAMES[lang].items()),
            "rows": formulaire.ATTRIBUTE_ROWS}

    def status_label(self, request: ServiceRequest, lang: str) -> str:
        label = STATUS_NAMES[lang][request.status]
        if request.kind == demandes.CHANGE:
            return f"{CHANGE_LABEL[lang]} — {label}"
        return label

    def released_rows(self, rows: list[dict], lang: str) -> list[dict]:
        """What the service would receive: each attribute, its sensitivity, its reason."""
        out = []
        for row in rows:
            attribute = self.fe.dictionary.attributes.get(row.get("name"))
            if attribute is None:
                continue
            out.append({"name": row["name"],
                        "label": attribute.label_fr if lang == "fr" else attribute.label_en,
                        "sensitivity": attribute.sensitivity,
                        "sensitivity_label": sensitivity_label(attribute.sensitivity, lang),
                        "sensitive": attribute.sensitivity == "high",
                        "justification": row.get("justification", ""),
                        "optional": bool(row.get("optional"))})
        return out

    def posted_form(self, context: Context, fields: dict,
                    previous: dict | None) -> tuple[dict, str]:
        """The request form as posted, its logo included (a new file checked, the previous
        one kept, or removed), and the problem with the file sent (``""``: none)."""
        form = formulaire.fields_of(fields, [x.id for x in self.fe.registry.sources.values()])
        form["logo"], problem = formulaire.logo_of(
            context.get_decoration(FILES_DECORATION) or {}, fields, previous)
        return form, problem

    def check(self, form: dict, organisation: str,
              service_id: str | None = None) -> formulaire.Checked:
        return formulaire.check(form, organisation, self.fe.registry, self.fe.partners_dir,
                                self.fe.dictionary, self.fe.allow_loopback_http, service_id)

    # -- administrators: invitations ----------------------------------------------------

    def invite_endpoint(self, context: Context) -> Response:
        signed = self.fe._signed_in(context, "accueil", post=True)
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        fields = self.fe.check_post(context, session, INVITE_FORM)
        if holder.role != ADMIN:
            return self.fe._refusal(context, "sans_role")
        organisation = fields.get("organisation")
        organisation = organisation.strip() if isinstance(organisation, str) else ""
        if not valid_organisation(organisation):
            return self.fe.home_page(
                context, session, holder, 400, organisation=organisation[:80],
                error="organisation")
        invitation = enrolment.invite(self.fe.store, PARTNER, self.fe.invitation_hours * 3600,
                                      organisation)
        audit_event("member_invited", role=PARTNER, organisation=organisation,
                    hours=self.fe.invitation_hours,
                    invitation=enrolment.reference(invitation.key))
        logger.info("partner member invited from the console")
        # Shown in this answer only: the page is not cached, the store keeps only its hash.
        return self.fe.home_page(context, session, holder, link=invitation.link(self.fe.base_url),
                                 organisation=organisation,
                                 expires=expiry_label(invitation.expires_at, lang_of(context)))

    # -- administrators: one request ----------------------------------------------------

    def admin_request_endpoint(self, context: Context) -> Response:
        organisation, request_id = _groups(context, rf"^admin/demandes/({ORG})/({ID})$")
        post = context.request_method == "POST"
        signed = self.fe._signed_in(context, "accueil", post=post)
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        if holder.role != ADMIN:
            return self.fe._refusal(context, "sans_role")
        form_name = f"admin:decision:{request_id}"
        request = self.requests.of(organisation, request_id)
        if request is None:
            return self.fe._refusal(context, "demande_inconnue", 404)
        problem = ""
        if post:
            fields = self.fe.check_post(context, session, form_name)
            request, problem = self._decide(request, fields)
            if not problem:
                # Post/redirect/get: reloading the page never sends the decision again.
                return SeeOther(f"{self.fe.base_url}/admin/demandes/{organisation}/"
                                f"{request_id}")
        lang = lang_of(context)
        return render(
            "admin/demande.html", context, 400 if problem else 200, lang=lang,
            request=request, form=request.form, status_label=self.status_label(request, lang),
            released=self.released_rows(request.form.get("attributes", []), lang), problem=problem,
            legal_basis=legal_basis_label(request.form.get("legal_basis", ""), lang),
            action=f"{self.fe.base_url}/admin/demandes/{organisation}/{request_id}",
            csrf=self.fe.csrf_for(session, form_name), home_url="/admin/",
            decisions=list(DECISIONS), sources=self._source_names(request, lang),
            diff=self._diff(request), change=request.kind == demandes.CHANGE)

    def _diff(self, request: ServiceRequest) -> list[DiffRow] | None:
        """The request against the registry as it is now (``None``: it makes no valid file;
        the approval would say why)."""
        change = request.kind == demandes.CHANGE
        if change and request.service_id not in self.fe.registry.services:
            return None
        files = formulaire.proposed_file(request.form, request.organisation, self.fe.registry,
                                         self.fe.partners_dir,
                                         request.service_id if change else None)
        return registry_diff(*files) if files is not None else None

    def _source_names(self, request: ServiceRequest, lang: str) -> list[str]:
        sources = self.fe.registry.sources
        return [sources[x].display_name.in_lang(lang)[0] if x in sources else x
                for x in request.form.get("sources", [])]

    def _decide(self, request: ServiceRequest, fields: dict) -> tuple[ServiceRequest, str]:
        decision = fields.get("decision")
        message = fields.get("message")
        message = message.strip()[:formulaire.MAX_FIELD] if isinstance(message, str) else ""
        if decision not in DECISIONS:
            return request, "decision"
        if request.status != demandes.SUBMITTED:
            return request, "statut"
        if decision in ("modifier", "refuser"):
            if not message:
                return request, "message"
            status = DECISIONS[decision]
            changed = self.requests.change(request, status, message=message)
            audit_event("request_changes_requested" if decision == "modifier"
                        else "request_rejected", organisation=request.organisation,
                        request=request.id)
            return changed, ""
        problem = self.apply(request, message)
        return self.requests.of(request.organisation, request.id) or request, problem

    def apply(self, request: ServiceRequest, message: str) -> str:
        """Write what ``request`` asks into ``partenaires/`` (a new file through ``ncconnect
        partenaires add``'s code, or the service's file changed), mark it approved and reload
        every proxy host. A problem key for the page, or ``""``.

        The file first, the approval in the shared store second: the file is what the proxy
        serves, and an "approved" request without its file would tell the partner a service
        exists that does not. The store can fail in between (an outage: the page is the 503
        one, the request stays "submitted"); the administrator approves again, and that retry
        must neither write a second file nor fail forever on "id already used". So a new
        service's file is recognised before anything is checked: its header names
        ``demande-<request id>`` (16 random hex digits) and its ``organisation_id`` is the
        request's (:func:`file_of_request`); the retry only records the approval. A change is
        idempotent by itself: the same form rewrites the same content. A folder that cannot
        be written (full, read-only) is the 503 page too, nothing recorded."""
        change = request.kind == demandes.CHANGE
        written = None if change else file_of_request(self.fe.partners_dir, request)
        if written is not None:
            service_id = written
            logger.warning("approval retried: the partner file of this request was already "
                           "written, only the approval is recorded")
        else:
            checked = self.check(request.form, request.organisation,
                                 request.service_id if change else None)
            if checked.errors or checked.request is None:
                return "invalide:" + "; ".join(
                    f"{k}: {m}" for k, ms in checked.errors.items() for m in ms)
            try:
                if change:
                    update_service(self.fe.partners_dir, request.service_id, checked.request,
                                   self.fe.dictionary, self.fe.allow_loopback_http,
                                   formulaire.logo_decision(request.form))
                    service_id = request.service_id
                else:
                    added = add_service(
                        self.fe.partners_dir, Path(f"demande-{request.id}"), checked.request,
                        self.fe.dictionary, self.fe.allow_loopback_http,
                        organisation_id=request.organisation,
                        registered_by="through the partner portal (/partenaires/)",
                        logo=formulaire.logo_bytes(request.form))
                    service_id = added.partner_id
            except ConfigError as exc:
                return f"invalide:{exc}"
            except OSError as exc:
                raise folder_unavailable(exc) from None
        # A new service's secret add_service generated is dropped unseen: the partner
        # generates their own once (secret_endpoint); until then it cannot authenticate.
        self.requests.change(request, demandes.APPROVED, message=message,
                             service_id=service_id)
        # A retry after an outage says so: the first approval's event may already be there.
        audit_event("request_approved", organisation=request.organisation, request=request.id,
                    kind=request.kind, service=service_id,
                    **({"retried": True} if written is not None else {}))
        return "" if self.fe.registry_changed() else "rechargement"

    # -- partners ------------------------------------------------------------------------

    def _partner(self, context: Context, post: bool = False
                 ) -> tuple[AccountSession, RoleHolder] | Response:
        return self.fe._signed_in(context, "partenaires", PARTNER_SPACE, post=post)

    def partner_home_endpoint(self, context: Context) -> Response:
        signed = self._partner(context)
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        lang = lang_of(context)
        organisation = str(holder.organisation)
        return render(
            "admin/partenaires.html", context, lang=lang, organisation=organisation,
            services=self._services_of(organisation),
            requests=[{"id": r.id, "service_name": r.form.get("service_name", ""),
                       "status": r.status, "status_label": self.status_label(r, lang),
                       "updated": expiry_label(r.updated_at, lang),
                       "url": f"/{PARTNER_HOME}/demandes/{r.id}"}
                      for r in self.requests.of_organisation(organisation)],
            new_url=f"/{NEW_REQUEST}", **self._logout(session))

    def _logout(self, session: AccountSession) -> dict:
        return {"logout_action": f"{self.fe.base_url}/{PARTNER_LOGOUT}",
                "logout_csrf": self.fe.csrf_for(session, LOGOUT_FORM)}

    def form_page(self, context: Context, session: AccountSession, form: dict,
                  errors: dict, action: str, form_name: str, status: int = 200,
                  request: ServiceRequest | None = None, change_of: Any = None) -> Response:
        """The request form: a new service, a draft, a request to fix, or a change proposal
        (``change_of``: the service, whose protocol a change cannot switch)."""
        lang = lang_of(context)
        if change_of is None and request is not None and request.kind == demandes.CHANGE:
            change_of = self.fe.registry.services.get(request.service_id)
        return render(
            "admin/partenaire_demande.html", context, status, lang=lang, form=form,
            change_name=change_of.name.in_lang(lang)[0] if change_of is not None else None,
            errors=errors, choices=self._choices(lang), action=action,
            labels={name: field_label(name, lang) for name in errors},
            csrf=self.fe.csrf_for(session, form_name), request=request,
            status_label=self.status_label(request, lang) if request else None,
            home_url=f"/{PARTNER_HOME}/", **self._logout(session))

    def new_request_endpoint(self, context: Context) -> Response:
        post = context.request_method == "POST"
        signed = self._partner(context, post=post)
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        organisation = str(holder.organisation)
        action = f"{self.fe.base_url}/{NEW_REQUEST}"
        if not post:
            return self.form_page(context, session, formulaire.empty_form(), {}, action,
                                   REQUEST_FORM)
        fields = self.fe.check_post(context, session, REQUEST_FORM)
        form, logo_problem = self.posted_form(context, fields, None)
        if logo_problem:
            return self.form_page(context, session, form, {"logo": [logo_problem]}, action,
                                  REQUEST_FORM, 400)
        if fields.get("action") == "brouillon":
            # A draft is kept as typed, unchecked: the partner finishes it later.
            request = self.requests.submit(organisation, form, demandes.DRAFT)
            audit_event("request_saved", organisation=organisation, request=request.id,
                        kind=demandes.NEW)
            return SeeOther(f"{self.fe.base_url}/{PARTNER_HOME}/demandes/{request.id}")
        checked = self.check(form, organisation)
        if checked.errors:
            return self.form_page(context, session, form, checked.errors, action,
                                  REQUEST_FORM, 400)
        request = self.requests.submit(organisation, form)
        audit_event("request_submitted", organisation=organisation, request=request.id,
                    kind=demandes.NEW, again=False)
        logger.info("service request submitted")
        return SeeOther(f"{self.fe.base_url}/{PARTNER_HOME}/demandes/{request.id}")

    def _own_request(self, context: Context, pattern: str, post: bool
                     ) -> tuple[AccountSession, RoleHolder, ServiceRequest] | Response:
        (request_id,) = _groups(context, pattern)
        signed = self._partner(context, post=post)
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        # Looked up in the member's own organisation only: another's id finds nothing.
        request = self.requests.of(str(holder.organisation), request_id)
        if request is None:
            return self.fe._refusal(context, "demande_inconnue", 404)
        return session, holder, request

    def partner_request_endpoint(self, context: Context) -> Response:
        post = context.request_method == "POST"
        found = self._own_request(context, rf"^{PARTNER_HOME}/demandes/({ID})$", post)
        if isinstance(found, Response):
            return found
        session, holder, request = found
        form_name = f"partenaires:demande:{request.id}"
        action = f"{self.fe.base_url}/{PARTNER_HOME}/demandes/{request.id}"
        if post:
            fields = self.fe.check_post(context, session, form_name)
            if request.status not in demandes.EDITABLE:
                return self.fe._refusal(context, "demande_close", 409)
            form, logo_problem = self.posted_form(context, fields, request.form)
            if logo_problem:
                return self.form_page(context, session, form, {"logo": [logo_problem]},
                                      action, form_name, 400, request)
            if fields.get("action") == "brouillon":
                self.requests.change(request, request.status, form=form)
                audit_event("request_saved", organisation=request.organisation,
                            request=request.id, kind=request.kind)
                return SeeOther(action)
            change = request.kind == demandes.CHANGE
            if change and request.service_id not in self.fe.registry.services:
                return self.fe._refusal(context, "service_inconnu", 404)
            checked = self.check(form, request.organisation,
                                 request.service_id if change else None)
            if checked.errors:
                return self.form_page(context, session, form, checked.errors, action,
                                      form_name, 400, request)
            again = request.status == demandes.CHANGES_REQUESTED
            request = self.requests.change(request, demandes.SUBMITTED, form=form)
            if change:
                return self.services.after_submit(request)
            audit_event("request_submitted", organisation=request.organisation,
                        request=request.id, kind=request.kind, again=again)
            return SeeOther(action)
        if request.status in demandes.EDITABLE:
            return self.form_page(context, session, request.form, {}, action, form_name,
                                   request=request)
        if request.status == demandes.APPROVED and not request.secret_generated_at \
                and self.fe.store.get(SECRET_ONCE, request.id) is not None:
            # The once-mark without the date (the store failed after the secret was written,
            # see secret_endpoint): recorded now, so the page says "already generated"
            # rather than offering a button that would refuse.
            request = self.requests.mark_secret(request)
        lang = lang_of(context)
        return self._request_page(context, session, request, lang)

    def _request_page(self, context: Context, session: AccountSession,
                      request: ServiceRequest, lang: str, secret: str | None = None,
                      status: int = 200) -> Response:
        wants_secret = request.status == demandes.APPROVED and request.kind == demandes.NEW \
            and request.form.get("protocol") == "oidc" \
            and request.form.get("token_endpoint_auth_method") != "private_key_jwt"
        service = self.fe.registry.services.get(request.service_id) \
            if request.status == demandes.APPROVED else None
        return render(
            "admin/partenaire_suivi.html", context, status, lang=lang, request=request,
            form=request.form, status_label=self.status_label(request, lang),
            released=self.released_rows(request.form.get("attributes", []), lang),
            client_id=request.service_id if wants_secret else None,
            service_url=f"/{PARTNER_HOME}/services/{service.id}"
            if service is not None and service.organisation_id == request.organisation
            else None,
            secret=secret, secret_done=bool(request.secret_generated_at),
            secret_action=f"{self.fe.base_url}/{PARTNER_HOME}/demandes/{request.id}/secret"
            if wants_secret else None,
            secret_csrf=self.fe.csrf_for(session, f"partenaires:secret:{request.id}"),
            home_url=f"/{PARTNER_HOME}/", **self._logout(session))

    def secret_endpoint(self, context: Context) -> Response:
        found = self._own_request(context, rf"^{PARTNER_HOME}/demandes/({ID})/secret$", True)
        if isinstance(found, Response):
            return found
        session, holder, request = found
        self.fe.check_post(context, session, f"partenaires:secret:{request.id}")
        lang = lang_of(context)
        if request.status != demandes.APPROVED or request.kind != demandes.NEW \
                or request.form.get("protocol") != "oidc" \
                or request.form.get("token_endpoint_auth_method") == "private_key_jwt":
            return self.fe._refusal(context, "demande_close", 409)
        # Once per request, across workers: the first POST takes the mark, any other is told
        # the secret was already shown.
        if request.secret_generated_at or not self.fe.store.add(
                SECRET_ONCE, request.id, {"organisation": request.organisation}, demandes.TTL):
            if not request.secret_generated_at:
                # The mark without the date: an earlier POST lost the store after the mark
                # (see below) or another worker is writing it now. Recorded now, so that
                # every page says "already generated" rather than offering the button.
                request = self.requests.mark_secret(request)
            return self._request_page(context, session, request, lang, status=409)
        try:
            made = new_client_secret(self.fe.partners_dir, request.service_id,
                                     self.fe.dictionary, self.fe.allow_loopback_http)
        except (ConfigError, OSError) as exc:
            # Nothing written: the mark goes, the partner tries again. Should the store fail
            # here too, the mark stays and the service's page regenerates a secret.
            self.fe.store.delete(SECRET_ONCE, request.id)
            raise folder_unavailable(exc) from None
        try:
            request = self.requests.mark_secret(request)
        except StoreUnavailable:
            # Written, and the once-mark is held: shown now, or it would be a secret nobody
            # knows while the mark refuses another. The date is recorded at the next visit
            # of the request's page (partner_request_endpoint) or POST of the button.
            logger.warning("client secret written but its date not recorded: shown anyway")
            request = replace(request, secret_generated_at=int(time.time()))
        audit_event("secret_generated", organisation=request.organisation, request=request.id,
                    service=request.service_id)
        self.fe.registry_changed()
        return self._request_page(context, session, request, lang, secret=made.client_secret)


_REGISTERED = re.compile(r"^# Registered .* from demande-(?P<id>[0-9a-f]{16}) on "
                         r"\d{4}-\d{2}-\d{2}\.$", re.MULTILINE)


def file_of_request(folder: Path, request: ServiceRequest) -> str | None:
    """The id of the partner file an earlier approval of ``request`` wrote, if any: its
    header names ``demande-<request id>`` and its ``organisation_id`` is the request's (a
    hand-made file copying the header for another organisation is not taken)."""
    for path in sorted(folder.glob("*.yaml")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if not any(m["id"] == request.id for m in _REGISTERED.finditer(text)):
            continue
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if isinstance(data, dict) and data.get("organisation_id") == request.organisation \
                and isinstance(data.get("id"), str):
            return data["id"]
    return None

#: Marks a request whose client secret was generated (one ``add`` wins, across workers).
SECRET_ONCE = "portal-secret-generated"


def _groups(context: Context, pattern: str) -> tuple[str, ...]:
    m = re.match(pattern, context.path or "")
    if m is None:
        raise FlowError("page_inconnue", 404, "portal path")
    return m.groups()

