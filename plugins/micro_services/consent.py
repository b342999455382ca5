"""Consent and information screen: the usager sees what a service is about to receive.

A response micro-service, after minimisation: what it shows is exactly what would
be released. For the service it shows its name, organisation, purpose and legal
basis, and every attribute with its label, value and description. Attributes the
partner file marks ``optional`` may be unticked, and are then withheld.

* Legal basis ``consent``: "Accepter" / "Refuser".
* Any other basis: an *information* screen, "Continuer" / "Annuler" — the usager
  cannot refuse mandatory data, but may still untick optional ones or cancel.

Refusing or cancelling answers the service through the frontends' error path
(``idp.refusals.refusal(context, ACCESS_DENIED)``): an OIDC service gets
``error=access_denied`` with its ``state`` at its registered redirect URI, a SAML
service a signed ``RequestDenied`` Response.

While the usager reads the page, the response waits server-side in the shared
store (namespace ``consent-pending``, short TTL) bound to the flow (by the flow's
store key); the flow state keeps only its random reference. The store holds it under the
reference's SHA-256, sealed under the reference itself (:mod:`idp.stores.sealing`).
The form's POST *takes* it — one-time, so a replay, a forged post or a token from
another flow consumes it and releases nothing — and only then continues the chain.
Nothing personal goes in a cookie or a log line: logs carry the service id, the
decision and attribute *names*.

"Se souvenir de mon choix" files the decision under the citizen's account key
(see :mod:`.consent_records`); a later login covered by it skips the screen.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import ResponseMicroService
from satosa.response import Response, SeeOther

from idp.app import flow_id, flow_ref, write_with_flow
from idp.audit.events import audit_event
from idp.authn_requirements import requirements_of
from idp.autopost import FORM_ACTION_HEADER
from idp.csrf import csrf_ok, csrf_secrets, csrf_token
from idp.errors import FlowError
from idp.metrics import definitions as metrics
from idp.pages import lang_of, render
from idp.refusals import ACCESS_DENIED, consent_required, refusal
from idp.same_origin import posted_from
from idp.stores import Put, open_store
from idp.stores.sealing import Unsealable, seal, unseal

from .consent_records import forget, kept, new_record, remember, remembered
from .consent_view import screen_view, source_used, source_view
from .pairwise import citizen_of
from .provenance import provenance_of

#: The screen's address, relative to the base URL.
PATH = "consentement"
#: Namespace of responses waiting for the usager's decision.
PENDING_NAMESPACE = "consent-pending"
#: Form name the CSRF token is bound to (with the flow id).
FORM = "consentement"
#: Form fields: one checkbox per optional attribute, the remember box, the decision button.
ATTRIBUTE_FIELD = "attribut-"
REMEMBER_FIELD = "memoriser"
DECISION_FIELD = "decision"
TICKED = "oui"
#: (accept, refuse) button values of each kind of screen.
CONSENT_DECISIONS = ("accepter", "refuser")
INFORMATION_DECISIONS = ("continuer", "annuler")
#: What each decision is, for the audit stream (``consent_<outcome>``) and the metrics.
DECISION_OUTCOMES = {"accepter": "given", "continuer": "given", "refuser": "refused",
                     "annuler": "refused", "remembered": "remembered",
                     "consent_required": "required"}



def _parked_key(ref: str) -> str:
    """Store key of a parked response: the SHA-256 of its reference, never the reference."""
    return hashlib.sha256(ref.encode("utf-8", errors="surrogatepass")).hexdigest()

class ConsentScreen(ResponseMicroService):
    """``config`` is what ``idp.assemble._consent_service`` builds."""

    def __init__(self, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.store = open_store(config["store_url"])
        self.csrf_secret = csrf_secrets(config["csrf_secret_path"])  # rotates (idp.keyring)
        self.screen_ttl = int(config["lifetimes"]["consent_screen"])
        #: requester -> service entry (name, organisation, purpose, legal basis, attributes...).
        self.services: dict[str, dict[str, Any]] = dict(config["services"])
        #: attribute -> {label_fr, label_en, description_fr, description_en, format}, in
        #: dictionary order.
        self.dictionary: dict[str, dict[str, str]] = dict(config["dictionary"])
        #: source id -> {display_name: {fr, en}, logo}; directory id -> {organisation: {fr, en}}.
        self.config_sources: dict[str, dict[str, Any]] = dict(config.get("sources") or {})
        self.directories: dict[str, dict[str, Any]] = dict(config.get("directories") or {})
        #: NC Connect's own pages signing the citizen in (``/mon-compte``): nothing leaves
        #: NC Connect, so there is nothing to show. Listed one by one; anyone else unknown
        #: is refused.
        self.own_requesters: frozenset[str] = frozenset(config.get("own_requesters", ()))

    def register_endpoints(self) -> list:
        return [(f"^{PATH}$", self.consent_endpoint)]

    # -- response path ------------------------------------------------------------

    def process(self, context: Context, data: InternalData) -> Response:
        if data.requester in self.own_requesters and data.requester not in self.services:
            # (A partner registered under the same requester would still get the screen.)
            return super().process(context, data)
        service = self._service(data.requester)
        citizen = citizen_of(context)
        attributes = data.attributes if isinstance(data.attributes, dict) else {}
        optional = _optional(service)
        asks = requirements_of(context)
        # OIDC prompt=consent: the service wants the citizen asked again, remembered or not.
        if service["remember_days"] > 0 and not asks.consent_prompt:
            record = remembered(self.store, citizen, service["service_id"])
            if record is not None and record.covers(attributes, set(attributes) - optional,
                                                    service["legal_basis"]):
                release = kept(attributes, optional, record.accepted)
                data.attributes = {k: v for k, v in attributes.items() if k in release}
                self._audit(service, "remembered", release, set(attributes) - release, False)
                return super().process(context, data)
        if asks.passive:  # prompt=none / IsPassive: no page may be shown
            self._audit(service, "consent_required", frozenset(), set(attributes), False)
            raise consent_required(context)
        fid = flow_id(context)
        if not fid:
            raise FlowError("session_expiree", detail="consent: response outside a flow")
        ref = secrets.token_urlsafe(32)
        # Parked under the hash of ``ref``, the response sealed under ``ref`` itself (a bearer
        # secret kept only in the flow's own sealed state): the store cannot open it.
        key = _parked_key(ref)
        # Stored with the flow state that keeps ``ref``: one round trip.
        write_with_flow(context, self.store, Put(PENDING_NAMESPACE, key, {
            "flow": flow_ref(context),
            "sealed": seal(ref, PENDING_NAMESPACE, key, data.to_dict())}, self.screen_ttl))
        context.state[self.name] = {"pending": ref}
        return SeeOther(f"{self.base_url}/{PATH}")

    # -- the screen ------------------------------------------------------------------

    def consent_endpoint(self, context: Context) -> Response:
        state = context.state.get(self.name) if context.state is not None else None
        ref = state.get("pending") if isinstance(state, dict) else None
        if not isinstance(ref, str) or not ref:
            raise FlowError("consentement_expire", detail="consent screen without a response")
        if context.request_method == "POST":
            return self._decide(context, ref)
        parked = self._parked(self.store.get(PENDING_NAMESPACE, _parked_key(ref)), context, ref)
        data = InternalData.from_dict(parked["data"])
        service = self._service(data.requester)
        lang = lang_of(context)
        # The account used: the one the request went to, or the SSO session's own source.
        source = source_view(self.config_sources, source_used(context), lang)
        page = render("consent.html", context, lang=lang,
                      **screen_view(service, data.attributes or {}, self.dictionary, lang,
                                    provenance_of(context), source, self.directories),
                      decisions=_decisions(service),
                      csrf=csrf_token(self.csrf_secret, flow_id(context), FORM),
                      action=f"{self.base_url}/{PATH}")
        # The form posts here, but an OIDC service's answer is a redirect to its redirect URI,
        # and browsers hold redirects of a form submission to the CSP's form-action too.
        origins = _origins(service.get("redirect_uris") or ())
        if origins:
            page.headers.append((FORM_ACTION_HEADER, " ".join(origins)))
        return page

    def _decide(self, context: Context, ref: str) -> Response:
        # Taken before anything is checked: whatever this post is, the response is used up.
        parked = self._parked(self.store.take(PENDING_NAMESPACE, _parked_key(ref)), context, ref)
        form = context.request if isinstance(context.request, dict) else {}
        if not posted_from(context, self.base_url):
            raise FlowError("csrf", status=403, detail="consent form posted from another origin")
        if not csrf_ok(self.csrf_secret, flow_id(context), FORM, form.get("csrf")):
            raise FlowError("csrf", status=403, detail="consent form token invalid")
        data = InternalData.from_dict(parked["data"])
        service = self._service(data.requester)
        accept, refuse = _decisions(service)
        decision = form.get(DECISION_FIELD)
        attributes = data.attributes if isinstance(data.attributes, dict) else {}
        del context.state[self.name]
        if decision == refuse:
            self._refuse(context, service, attributes)
        if decision != accept:
            raise FlowError("requete_invalide", detail="consent form without a known decision")
        optional = _optional(service)
        ticked = {a for a in optional if form.get(f"{ATTRIBUTE_FIELD}{a}") == TICKED}
        release = kept(attributes, optional, ticked)
        wants_memory = form.get(REMEMBER_FIELD) == TICKED and service["remember_days"] > 0
        if wants_memory:
            # Written before anything is released: if the store fails, nothing is sent.
            record = new_record(service["service_id"], service["legal_basis"], attributes,
                                release, service["remember_days"])
            remember(self.store, citizen_of(context), record, service["remember_days"])
        data.attributes = {k: v for k, v in attributes.items() if k in release}
        self._audit(service, decision, release, set(attributes) - release, wants_memory)
        return self.next(context, data)

    def _refuse(self, context: Context, service: dict[str, Any],
                attributes: Mapping[str, Any]) -> None:
        """A refusal is never remembered, and withdraws an earlier remembered choice."""
        if service["remember_days"] > 0:
            forget(self.store, citizen_of(context), service["service_id"])
        self._audit(service, _decisions(service)[1], set(), set(attributes), False)
        raise refusal(context, ACCESS_DENIED)

    # -- helpers -----------------------------------------------------------------------

    def _service(self, requester: Any) -> dict[str, Any]:
        service = self.services.get(requester) if isinstance(requester, str) else None
        if service is None:
            raise FlowError("service_non_autorise", 403, "consent: requester not in the registry")
        return service

    @staticmethod
    def _parked(parked: dict[str, Any] | None, context: Context, ref: str) -> dict[str, Any]:
        if parked is None:
            raise FlowError("consentement_expire",
                            detail="consent: response expired, already decided or replayed")
        if not flow_id(context) or parked.get("flow") != flow_ref(context):
            raise FlowError("consentement_expire", 403, "consent: response of another flow")
        try:
            data = unseal(ref, PENDING_NAMESPACE, _parked_key(ref), parked.get("sealed"))
        except Unsealable:
            # A record of an older version, or a damaged one: as if it had expired.
            raise FlowError("consentement_expire",
                            detail="consent: parked response does not open") from None
        if not isinstance(data, dict):
            raise FlowError("consentement_expire", detail="consent: parked response damaged")
        return {"data": data}

    @staticmethod
    def _audit(service: dict[str, Any], decision: str, released: set[str] | frozenset[str],
               withheld: set[str] | frozenset[str], remembered_now: bool) -> None:
        """The decision, by attribute names, in the audit stream and the metrics."""
        outcome = DECISION_OUTCOMES.get(decision, "refused")
        metrics.CONSENT_DECISIONS.labels(service["service_id"], outcome).inc()
        audit_event(f"consent_{outcome}", service=service["service_id"], screen=decision,
                    legal_basis=service["legal_basis"], released=sorted(released),
                    withheld=sorted(withheld), remember=remembered_now)


def _optional(service: Mapping[str, Any]) -> set[str]:
    return {name for name, policy in service["attributes"].items() if policy.get("optional")}


def _origins(uris: Any) -> list[str]:
    """``scheme://host[:port]`` of each registered URI, once each."""
    found = {f"{p.scheme}://{p.netloc}" for p in map(urlsplit, uris) if p.scheme and p.netloc}
    return sorted(found)


def _decisions(service: Mapping[str, Any]) -> tuple[str, str]:
    return CONSENT_DECISIONS if service["legal_basis"] == "consent" else INFORMATION_DECISIONS
