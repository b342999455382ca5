"""Approved services in the portal: a partner's service page, its secret and its changes; an
administrator's switch to disable or enable a service.

Partner side (role ``partner``; a service is theirs when its file bears their
``organisation_id``, any other is "not found"):

* ``GET /partenaires/services/<id>``: what the service is registered with, its client id;
* ``POST /partenaires/services/<id>/secret``: a new client secret, shown once; the previous
  one keeps working for ``secret_overlap_hours`` (its hash and expiry stay in the partner
  file as ``previous_client_secret``), so the partner can switch without an outage;
* ``GET|POST /partenaires/services/<id>/modifier``: a change proposal, the request form filled
  in from the partner file. Saved as a draft, or submitted: applied at once when it needs no
  review (:func:`.changes.review_reasons`), queued for the administrators otherwise.

Administrators (role ``admin``): ``POST /admin/services/<id>/etat`` disables or enables a
service (``ncconnect partenaires disable|enable``'s code), then the registry is reloaded.

Every write goes through :mod:`idp.partners.edit` / :mod:`idp.partners.update` (validated
with the whole registry, atomic), is an audit event, then reloads every proxy host.
"""

from __future__ import annotations

import logging
import re
import time
from typing import TYPE_CHECKING, Any

import yaml
from satosa.context import Context
from satosa.response import Response, SeeOther

from idp.audit.events import audit_event
from idp.errors import FlowError
from idp.pages import lang_of, render
from idp.partners.edit import disable_partner, enable_partner, new_client_secret
from idp.partners.schema import ID_PATTERN
from idp.schema_errors import ConfigError

from . import changes, demandes, formulaire
from .roles import ADMIN
from .view import duration_label, instant_label

if TYPE_CHECKING:
    from .workflow import Workflow

logger = logging.getLogger("ncconnect.admin")

SERVICE = ID_PATTERN.strip("^$")
SERVICES = "partenaires/services"
STATE_FORM = "admin:etat:{}"
#: What the partner reads on a change applied without review (the portal's language).
NO_REVIEW_MESSAGE = ("Modification appliquée sans examen : seuls le contact ou des adresses de "
                     "retour sur des hôtes déjà approuvés ont changé.")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def folder_unavailable(exc: BaseException) -> FlowError:
    """The partner folder could not be written (full, read-only, a write refused): the
    "temporarily unavailable" page, as for a store outage; the log names the error's kind,
    never a path or a value."""
    logger.error("partner folder not written", extra={"problem": type(exc).__name__})
    return FlowError("service_indisponible", 503, "partner folder not written")


class Services:
    def __init__(self, wf: Workflow) -> None:
        self.wf = wf
        self.fe = wf.fe

    def endpoints(self) -> list[tuple[str, Any]]:
        return [(rf"^{SERVICES}/({SERVICE})$", self.service_endpoint),
                (rf"^{SERVICES}/({SERVICE})/secret$", self.secret_endpoint),
                (rf"^{SERVICES}/({SERVICE})/modifier$", self.change_endpoint),
                (rf"^admin/services/({SERVICE})/etat$", self.state_endpoint)]

    # -- the partner's own service ------------------------------------------------------

    def _own_service(self, context: Context, suffix: str, post: bool):
        m = re.match(rf"^{SERVICES}/({SERVICE}){suffix}$", context.path or "")
        if m is None:
            raise FlowError("page_inconnue", 404, "portal path")
        signed = self.wf._partner(context, post=post)
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        service = self.fe.registry.services.get(m[1])
        if service is None or service.organisation_id != holder.organisation:
            return self.fe._refusal(context, "service_inconnu", 404)
        return session, holder, service

    def pending_changes(self, service) -> list[demandes.ServiceRequest]:
        """The service's change proposals not yet decided (a draft included)."""
        return [r for r in self.wf.requests.of_organisation(str(service.organisation_id))
                if r.kind == demandes.CHANGE and r.service_id == service.id
                and r.status in (demandes.DRAFT, demandes.SUBMITTED,
                                 demandes.CHANGES_REQUESTED)]

    def _uses_secret(self, service) -> bool:
        return service.oidc is not None \
            and service.oidc.token_endpoint_auth_method in SECRET_METHODS

    def service_endpoint(self, context: Context) -> Response:
        found = self._own_service(context, "", False)
        if isinstance(found, Response):
            return found
        session, _, service = found
        return self._service_page(context, session, service)

    def _service_page(self, context: Context, session, service, secret: str | None = None,
                      previous_expires: int | None = None, status: int = 200,
                      pending: list[demandes.ServiceRequest] | None = None) -> Response:
        """The service's page; ``pending``: its change proposals, when read already (the
        page after a new secret reads nothing from the store: see :meth:`secret_endpoint`)."""
        lang = lang_of(context)
        url = f"{self.fe.base_url}/{SERVICES}/{service.id}"
        pending = self.pending_changes(service) if pending is None else pending
        previous = service.oidc.previous_client_secret if service.oidc is not None else None
        return render(
            "admin/partenaire_service.html", context, status, lang=lang, service=service,
            name=service.name.in_lang(lang)[0],
            released=self.wf.released_rows(
                [{"name": n, "justification": a.justification.in_lang(lang)[0],
                  "optional": a.optional} for n, a in service.attributes.items()], lang),
            uses_secret=self._uses_secret(service), secret=secret,
            previous_expires=self._expiry(previous_expires or (
                previous.expires_at.timestamp() if previous is not None
                and previous.expires_at.timestamp() > time.time() else None), lang),
            overlap=duration_label(self.fe.secret_overlap_hours, lang)
            if self.fe.secret_overlap_hours else None,
            secret_action=f"{url}/secret",
            secret_csrf=self.fe.csrf_for(session, f"partenaires:secret-service:{service.id}"),
            change_url=f"/{SERVICES}/{service.id}/modifier",
            pending=[{"url": f"/partenaires/demandes/{r.id}",
                      "status_label": self.wf.status_label(r, lang)} for r in pending],
            home_url="/partenaires/", **self.wf._logout(session))

    @staticmethod
    def _expiry(at: float | None, lang: str) -> str | None:
        return instant_label(at, lang) if at else None

    def secret_endpoint(self, context: Context) -> Response:
        """A new secret, written then shown in the same answer.

        Everything the page needs from the shared store (the session, the role, the pending
        changes) is read *before* the file is written, and nothing after it can fail on the
        store (the registry generation's bump only warns): a store outage is the 503 page
        with nothing written, never a secret in the file that was not shown. That matters
        beyond the lost secret: a second regeneration would move the unseen one into
        ``previous_client_secret`` and end the overlap of the secret the partner really
        uses. A folder that cannot be written is the 503 page too, nothing written."""
        found = self._own_service(context, "/secret", True)
        if isinstance(found, Response):
            return found
        session, holder, service = found
        self.fe.check_post(context, session, f"partenaires:secret-service:{service.id}")
        if not self._uses_secret(service):
            return self.fe._refusal(context, "demande_close", 409)
        pending = self.pending_changes(service)
        overlap = int(self.fe.secret_overlap_hours * 3600)
        try:
            made = new_client_secret(self.fe.partners_dir, service.id, self.fe.dictionary,
                                     self.fe.allow_loopback_http, overlap_seconds=overlap)
        except (ConfigError, OSError) as exc:
            raise folder_unavailable(exc) from None
        audit_event("secret_regenerated", organisation=holder.organisation, service=service.id,
                    overlap_hours=self.fe.secret_overlap_hours)
        logger.info("client secret regenerated from the partner portal")
        self.fe.registry_changed()
        return self._service_page(context, session, made.registry.services[service.id],
                                  secret=made.client_secret,
                                  previous_expires=int(time.time()) + overlap if overlap
                                  else None, pending=pending)

    # -- change proposals ---------------------------------------------------------------

    def change_endpoint(self, context: Context) -> Response:
        post = context.request_method == "POST"
        found = self._own_service(context, "/modifier", post)
        if isinstance(found, Response):
            return found
        session, holder, service = found
        form_name = f"partenaires:modifier:{service.id}"
        action = f"{self.fe.base_url}/{SERVICES}/{service.id}/modifier"
        pending = self.pending_changes(service)
        if pending:
            # One change at a time: the one in progress is where the partner continues.
            return SeeOther(f"{self.fe.base_url}/partenaires/demandes/{pending[0].id}")
        current = self.current_form(service.id)
        if not post:
            return self.wf.form_page(context, session, current, {}, action, form_name,
                                     change_of=service)
        fields = self.fe.check_post(context, session, form_name)
        form, logo_problem = self.wf.posted_form(context, fields, current)
        if logo_problem:
            return self.wf.form_page(context, session, form, {"logo": [logo_problem]}, action,
                                     form_name, 400, change_of=service)
        if fields.get("action") == "brouillon":
            request = self.wf.requests.submit(str(holder.organisation), form, demandes.DRAFT,
                                              demandes.CHANGE, service.id)
            audit_event("request_saved", organisation=holder.organisation, request=request.id,
                        kind=demandes.CHANGE, service=service.id)
            return SeeOther(f"{self.fe.base_url}/partenaires/demandes/{request.id}")
        checked = self.wf.check(form, str(holder.organisation), service.id)
        if not changes.changed_fields(current, form):
            checked.add(formulaire.GENERAL, "nothing differs from the service as registered: "
                        "change a field, or go back")
        if checked.errors:
            return self.wf.form_page(context, session, form, checked.errors, action, form_name,
                                     400, change_of=service)
        request = self.wf.requests.submit(str(holder.organisation), form, demandes.SUBMITTED,
                                          demandes.CHANGE, service.id)
        return self.after_submit(request, current)

    def current_form(self, service_id: str) -> dict[str, Any]:
        path = self.fe.registry.files[service_id]
        return changes.form_of_service(yaml.safe_load(path.read_text(encoding="utf-8")))

    def after_submit(self, request: demandes.ServiceRequest,
                     current: dict[str, Any] | None = None) -> Response:
        """A change just submitted: applied at once when no field needs a review, queued
        otherwise. Either way an audit event names the fields changed (never their values)."""
        url = f"{self.fe.base_url}/partenaires/demandes/{request.id}"
        current = current if current is not None else self.current_form(request.service_id)
        changed = changes.changed_fields(current, request.form)
        reasons = changes.review_reasons(current, request.form)
        audit_event("request_submitted", organisation=request.organisation,
                    request=request.id, kind=request.kind, service=request.service_id,
                    fields=",".join(changed), review=bool(reasons))
        if reasons:
            return SeeOther(url)
        problem = self.wf.apply(request, NO_REVIEW_MESSAGE)
        if problem:
            # The registry moved since the check: the administrators take it from the queue.
            logger.warning("change not applied at once: left for review")
        return SeeOther(url)

    # -- administrators: disable, enable ------------------------------------------------

    def state_endpoint(self, context: Context) -> Response:
        m = re.match(rf"^admin/services/({SERVICE})/etat$", context.path or "")
        if m is None:
            raise FlowError("page_inconnue", 404, "portal path")
        signed = self.fe._signed_in(context, "accueil", post=True)
        if isinstance(signed, Response):
            return signed
        session, holder = signed
        fields = self.fe.check_post(context, session, STATE_FORM.format(m[1]))
        if holder.role != ADMIN:
            return self.fe._refusal(context, "sans_role")
        if m[1] not in self.fe.registry.services or fields.get("etat") not in (
                "activer", "desactiver"):
            return self.fe._refusal(context, "service_inconnu", 404)
        change = enable_partner if fields["etat"] == "activer" else disable_partner
        try:
            done = change(self.fe.partners_dir, m[1], self.fe.dictionary,
                          self.fe.allow_loopback_http)
        except ConfigError as exc:
            logger.warning("service state not changed", extra={"problem": str(exc)[:300]})
            return self.fe.home_page(context, session, holder, 409, state_problem=m[1])
        if done.changed:
            audit_event("service_enabled" if fields["etat"] == "activer"
                        else "service_disabled", service=m[1])
            self.fe.registry_changed()
        return SeeOther(f"{self.fe.base_url}/admin/#services")
