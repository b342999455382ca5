"""Single logout: end the citizen's SSO session first, then tell everyone who relied on it.

Every way out goes through :meth:`SingleLogout.logout` — an OIDC service's
``end_session_endpoint``, an SP's LogoutRequest, *Mon espace NC Connect* ending one
session or all of them — and in this order:

1. **The session ends**, in the store, before anything else and whatever happens next
   (:meth:`idp.sso.session.SessionStore.close`: record, citizen index entry, service
   list, links; the browser's cookie is cleared with ``Max-Age=0``). Of two concurrent
   logouts of one session, exactly one gets its services and tells them.
2. **Back channel**, server to server, in parallel with short timeouts
   (:mod:`idp.sso.logout_notices`): a signed logout token to every other OIDC service
   of the session that registered a ``backchannel_logout_uri``.
3. **Front channel**, through the browser, one hop at a time (:mod:`idp.sso.logout_plan`
   keeps the plan in the shared store): a signed LogoutRequest to every other SAML SP of
   the session with a Redirect or POST SingleLogoutService; then, when the session that
   ended is this browser's own, the logout at the identity source (OIDC
   ``end_session_endpoint``, SAML SingleLogoutService) where the source offers one. A hop
   whose target does not even accept a connection is skipped and reported, so a service
   that is down never strands the citizen; an answer that never comes only loses the
   rest of the hops — the session itself is long gone.
4. **The end**: straight back to the service that asked (its registered
   ``post_logout_redirect_uri`` with ``state``, or a signed LogoutResponse) when every
   service and the source were told; otherwise — or when nobody asked — our French page
   listing who was told, who could not be reached and who offers no logout, with a
   *Continuer* button to the service that asked. SAML answers ``PartialLogout`` then.

The orchestration holds no protocol itself and imports no plugin: the plugins that own a
protocol register what they can tell when SATOSA builds them (:meth:`SingleLogout.
register_back_channel` for the OIDC frontend's logout tokens, :meth:`SingleLogout.
register_front_channel` for the SAML frontend's messages to SPs, :meth:`SingleLogout.
register_source` for every identity source's backend). SATOSA builds every plugin of an
app before it serves a request, so the hub is complete by then. One instance per
configuration per process (``idp.sso.logout_wiring`` gives every participant its id).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlencode

from satosa.context import Context
from satosa.response import Response, SeeOther

from ..audit.events import audit_event
from ..autopost import FORM_ACTION_HEADER
from ..csrf import csrf_ok, csrf_secrets, csrf_token
from ..errors import FlowError
from ..metrics.definitions import SESSIONS_ENDED
from ..metrics.labels import Labels
from ..pages import render
from ..stores import open_store
from ..stores.sealing import at_rest_key
from .front_channel import Outgoing, origin_of, reachable
from .logout_notices import Notice, deliver, noted
from .logout_plan import LogoutPlan
from .session import SessionStore, SsoSession, cookie_header, cookie_value, digest

logger = logging.getLogger("ncconnect.logout")

#: Form name of the CSRF tokens bound to an SSO session (logout confirmation).
CONFIRM_FORM = "deconnexion"
RESULT_TEMPLATE = "deconnexion/resultat.html"

_hubs: dict[str, SingleLogout] = {}


class SourceLogoutFailed(Exception):
    """The source's logout could not be prepared (its metadata unreachable or invalid)."""


class BackChannel(Protocol):
    """Services told server to server (OIDC back-channel logout tokens)."""

    def notice(self, entry: Mapping[str, Any]) -> Notice | None: ...


class FrontChannel(Protocol):
    """Services told through the browser (SAML SPs): requests to them, the answer to one."""

    by_service: Mapping[str, str]

    def entity_of(self, service_id: str) -> str | None: ...

    def can_tell(self, service_id: str) -> bool: ...

    def origins(self, service_id: str) -> set[str]: ...

    def logout_request(self, service_id: str, name_id: str, session_index: str | None,
                       name_id_format: str | None = None) -> Outgoing: ...

    def logout_response(self, entity_id: str, request_id: str, relay_state: str,
                        binding: str | None, *, partial: bool) -> Outgoing | None: ...


class SourceLogout(Protocol):
    """An identity source's own logout, the last browser hop of a logout."""

    def origin(self) -> str | None: ...

    def outgoing(self, plan_id: str, subject: str) -> Outgoing | None:
        """The hop (``subject``: the session's, as the backend recorded it); ``None`` when the
        source offers no logout; raises :class:`SourceLogoutFailed`. A source whose backend
        recorded what its logout needs (:attr:`SsoSession.source_session`) gets it as the
        keyword ``source_session``, and only then."""


#: Why sessions end (``logout(reason=…)``): the values the metrics label by.
LOGOUT_REASONS = ("oidc_end_session", "oidc_end_session_confirmed", "account_one",
                  "account_all", "saml_slo", "saml_slo_unsigned",
                  "saml_slo_unsigned_confirmed", "logout")


def logout_hub(conf: Mapping[str, Any]) -> SingleLogout:
    """The orchestration for this assembled configuration (``conf["id"]``), built once per
    process: every plugin of one app shares it, a reloaded configuration gets its own."""
    key = str(conf["id"])
    hub = _hubs.get(key)
    if hub is None:
        hub = SingleLogout(conf)
        while len(_hubs) >= 4:  # configurations replaced by reloads
            _hubs.pop(next(iter(_hubs)))
        _hubs[key] = hub
    return hub


def with_query(uri: str, params: Mapping[str, str | None]) -> str:
    query = urlencode({k: v for k, v in params.items() if v is not None})
    return f"{uri}{'&' if '?' in uri else '?'}{query}" if query else uri


@dataclass(frozen=True)
class Names:
    services: Mapping[str, str]
    sources: Mapping[str, str]

    def of_services(self, ids: Iterable[str]) -> list[str]:
        return _unique(self.services.get(i, i) for i in ids)

    def of_sources(self, ids: Iterable[str]) -> list[str]:
        return _unique(self.sources.get(i, i) for i in ids)


def _unique(values: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(values))


class SingleLogout:
    def __init__(self, conf: Mapping[str, Any]) -> None:
        life = conf["lifetimes"]
        self.store = open_store(str(conf["store_url"]))
        self.at_rest = at_rest_key(conf)
        self.sessions = SessionStore(self.store, int(life["idle"]), int(life["absolute"]),
                                     self.at_rest)
        self.csrf_secret = csrf_secrets(conf["csrf_secret_path"])  # rotates (idp.keyring)
        names = conf.get("names") or {}
        self.names = Names(dict(names.get("services") or {}), dict(names.get("sources") or {}))
        self.oidc: BackChannel | None = None
        self.saml: FrontChannel | None = None
        #: SP entity id -> service id (where a LogoutResponse goes, for form targets).
        self.services_by_entity: dict[str, str] = {}
        self.sources: dict[str, SourceLogout] = {}

    # -- participants, registered by the plugins that own a protocol -------------------

    def register_back_channel(self, services: BackChannel) -> None:
        self.oidc = services

    def register_front_channel(self, services: FrontChannel) -> None:
        self.saml = services
        self.services_by_entity = {e: sid for sid, e in services.by_service.items()}

    def register_source(self, source_id: str, source: SourceLogout) -> None:
        self.sources[source_id] = source

    # -- the browser's session and the confirmation form ---------------------------

    def browser_session(self, context: Context) -> SsoSession | None:
        return self.sessions.find(cookie_value(context), time.time())

    def csrf_token(self, session: SsoSession) -> str:
        """Bound to the session being ended: a third-party page cannot produce it."""
        return csrf_token(self.csrf_secret, session.key, CONFIRM_FORM)

    def csrf_valid(self, session: SsoSession, token: object) -> bool:
        return csrf_ok(self.csrf_secret, session.key, CONFIRM_FORM, token)

    # -- where the browser may be sent ------------------------------------------------

    def form_targets(self, sessions: Iterable[SsoSession], browser_key: str | None,
                     finish: Mapping[str, Any] | None = None) -> list[str]:
        """Origins a logout of ``sessions`` may send the browser to. Browsers apply a page's
        CSP ``form-action`` to every redirect that follows its form's submission, so a page
        of ours whose form starts a logout lists them (computed from the registry and the
        sessions, never from the request)."""
        origins: set[str] = set()
        for session in sessions:
            if self.saml is not None:
                for service_id, entry in self.sessions.services(session.sid).items():
                    if entry.get("protocol") == "saml2":
                        origins |= self.saml.origins(service_id)
            if session.key == browser_key:
                origins |= self._source_origins(session.source)
        return sorted(origins | self._finish_origins(finish or {}))

    def _source_origins(self, source_id: str) -> set[str]:
        source = self.sources.get(source_id)
        found = source.origin() if source is not None else None
        return {found} if found else set()

    def _finish_origins(self, finish: Mapping[str, Any]) -> set[str]:
        if finish.get("kind") == "oidc" and finish.get("uri"):
            return {origin_of(str(finish["uri"]))}
        if finish.get("kind") == "saml" and self.saml is not None:
            service = self.services_by_entity.get(str(finish.get("entity_id")))
            return self.saml.origins(service) if service else set()
        return set()

    def _plan_targets(self, plan: LogoutPlan) -> list[str]:
        origins: set[str] = set()
        for step in [*([plan.current] if plan.current else []), *plan.steps]:
            if step.get("kind") == "sp" and self.saml is not None:
                origins |= self.saml.origins(str(step["service_id"]))
            elif step.get("kind") == "source":
                origins |= self._source_origins(str(step["source_id"]))
        return sorted(origins | self._finish_origins(plan.finish))

    # -- starting a logout -------------------------------------------------------------

    def logout(self, context: Context, sessions: Iterable[SsoSession], *,
               initiator: str | None = None, finish: dict[str, Any] | None = None,
               reason: str = "logout") -> Response:
        """End ``sessions`` now, tell their services, and answer the browser."""
        ending = list({s.key: s for s in sessions}.values())
        cookie = cookie_value(context)
        browser_key = digest(cookie) if cookie else None
        # The source's subject is sealed under the cookie: the browser's own session, opened
        # with it (the sessions passed may have been read without it, e.g. from Mon espace).
        browser = self.sessions.find(cookie, time.time()) if cookie else None
        plan = LogoutPlan.new(finish or {"kind": "page"})
        if initiator:
            plan.informed.append(initiator)
        notices: list[Notice] = []
        source_steps: list[dict[str, Any]] = []
        ended = 0
        for session in ending:
            services = self.sessions.close(session)
            if services is None:
                continue  # another logout ended it first, and tells its services
            ended += 1
            SESSIONS_ENDED.labels(Labels.one_of(reason, LOGOUT_REASONS)).inc()
            audit_event("session_ended", citizen=session.citizen, how=reason,
                        services=sorted(services))
            for service_id, entry in services.items():
                if service_id != initiator:
                    self._plan_service(plan, notices, entry)
            if session.key == browser_key:
                opened = browser if browser is not None and browser.key == session.key \
                    else session
                source_steps.append({"kind": "source", "source_id": session.source,
                                     "subject": opened.subject,
                                     "source_session": session.source_session})
        logger.info("sso sessions ended", extra={"reason": reason, "sessions": ended,
                                                 "back_channel": len(notices),
                                                 "front_channel": len(plan.steps)})
        reached, failed = deliver(notices)
        plan.informed += reached
        plan.failed += failed
        plan.steps += source_steps
        response = self._next(context, plan)
        if cookie and (browser_key in {s.key for s in ending}
                       or self.sessions.find(cookie, time.time()) is None):
            response.headers.append(("Set-Cookie", cookie_header("", 0)))
        return response

    def _plan_service(self, plan: LogoutPlan, notices: list[Notice],
                      entry: Mapping[str, Any]) -> None:
        service_id = str(entry.get("service_id"))
        protocol = entry.get("protocol")
        if protocol == "oidc" and self.oidc is not None:
            notice = self.oidc.notice(entry)
            if notice is not None:
                notices.append(notice)
                return
        elif protocol == "saml2" and self.saml is not None and self.saml.can_tell(service_id) \
                and isinstance(entry.get("subject"), str):
            # The NameID exactly as the SP received it (a transient one is in no other place).
            plan.steps.append({"kind": "sp", "service_id": service_id,
                               "name_id": entry["subject"], "session_index": entry.get("sid"),
                               "name_id_format": entry.get("name_id_format")})
            return
        plan.untold.append(service_id)

    # -- the browser hops --------------------------------------------------------------

    def _next(self, context: Context, plan: LogoutPlan) -> Response:
        plan.current = None
        while plan.steps:
            step = plan.steps.pop(0)
            outgoing = self._hop(plan, step)
            if outgoing is None:
                continue
            plan.current = {**step, "request_id": outgoing.request_id}
            plan.save(self.store, self.at_rest)
            if outgoing.request_id:
                plan.wait_for(self.store, outgoing.request_id)
            response = outgoing.response(context)
            if not outgoing.is_redirect:
                # The auto-posted form starts a journey through every hop left.
                response.headers.append((FORM_ACTION_HEADER, " ".join(self._plan_targets(plan))))
            return response
        plan.delete(self.store)
        return self._finish(context, plan)

    def _hop(self, plan: LogoutPlan, step: Mapping[str, Any]) -> Outgoing | None:
        """The message for one hop; ``None`` (outcome recorded) when it cannot be made."""
        if step["kind"] == "sp":
            service_id = str(step["service_id"])
            assert self.saml is not None
            try:
                outgoing = self.saml.logout_request(service_id, str(step["name_id"]),
                                                    step.get("session_index"),
                                                    step.get("name_id_format"))
            except LookupError:
                plan.untold.append(service_id)
                return None
            if not reachable(outgoing.url):
                logger.warning("service not reached for logout", extra={"service": service_id})
                plan.failed.append(service_id)
                return None
            return outgoing
        source_id = str(step["source_id"])
        source = self.sources.get(source_id)
        if source is None:
            plan.sources[source_id] = "untold"
            return None
        subject, recorded = str(step.get("subject") or ""), step.get("source_session")
        try:
            outgoing = source.outgoing(plan.id, subject, source_session=recorded) \
                if isinstance(recorded, dict) else source.outgoing(plan.id, subject)
        except SourceLogoutFailed as exc:
            logger.warning("source not reached for logout",
                           extra={"source": source_id, "reason": str(exc)})
            plan.sources[source_id] = "failed"
            return None
        if outgoing is None:
            plan.sources[source_id] = "untold"
            return None
        if not reachable(outgoing.url):
            logger.warning("source not reached for logout", extra={"source": source_id})
            plan.sources[source_id] = "failed"
            return None
        return outgoing

    def service_answered(self, context: Context, in_response_to: str, sp_entity_id: str,
                         success: bool) -> Response:
        """A SAML SP's LogoutResponse (verified by the SAML frontend) to one of our hops."""
        plan = LogoutPlan.answered(self.store, in_response_to, self.at_rest)
        if plan is None or plan.current is None or plan.current.get("kind") != "sp" \
                or self.saml is None \
                or self.saml.entity_of(str(plan.current["service_id"])) != sp_entity_id:
            raise FlowError("deconnexion_expiree", detail="SP LogoutResponse to no pending hop")
        service_id = str(plan.current["service_id"])
        (plan.informed if success else plan.failed).append(service_id)
        noted(service_id, "front", success)
        logger.info("service answered the logout", extra={"service": service_id,
                                                          "success": success})
        return self._next(context, plan)

    def source_answered(self, context: Context, source_id: str, *, request_id: str | None = None,
                        plan_id: str | None = None, success: bool = True) -> Response:
        """The identity source sent the browser back (OIDC: ``state`` is the plan id; SAML:
        its LogoutResponse, verified by the backend, answers ``request_id``)."""
        if request_id is not None:
            plan = LogoutPlan.answered(self.store, request_id, self.at_rest)
        else:
            plan = LogoutPlan.load(self.store, plan_id or "", self.at_rest)
            if plan is not None and (plan.current or {}).get("request_id") is not None:
                plan = None
        if plan is None or plan.current is None or plan.current.get("kind") != "source" \
                or plan.current.get("source_id") != source_id:
            raise FlowError("deconnexion_expiree", detail="source came back to no pending hop")
        plan.sources[source_id] = "done" if success else "failed"
        logger.info("source answered the logout", extra={"source": source_id,
                                                         "success": success})
        return self._next(context, plan)

    # -- the end -----------------------------------------------------------------------

    def _finish(self, context: Context, plan: LogoutPlan) -> Response:
        finish = plan.finish
        logger.info("single logout done", extra={
            "informed": len(plan.informed), "failed": len(plan.failed),
            "untold": len(plan.untold), "sources": sorted(set(plan.sources.values()))})
        link: str | None = None
        form: Outgoing | None = None
        if finish.get("kind") == "oidc" and finish.get("uri"):
            link = with_query(str(finish["uri"]), {"state": finish.get("state")})
            if plan.complete:
                return SeeOther(link)
        elif finish.get("kind") == "saml" and self.saml is not None:
            outgoing = self.saml.logout_response(
                str(finish["entity_id"]), str(finish["request_id"]),
                str(finish.get("relay_state") or ""), finish.get("binding"),
                partial=not plan.complete)
            if outgoing is not None and plan.complete:
                return outgoing.response(context)
            if outgoing is not None and outgoing.is_redirect:
                link = outgoing.url
            else:
                form = outgoing
        return self.result_page(context, plan, link=link, form=form,
                                back=finish.get("back"))

    def result_page(self, context: Context, plan: LogoutPlan, *, link: str | None = None,
                    form: Outgoing | None = None, back: str | None = None) -> Response:
        sources = plan.sources
        resp = render(
            RESULT_TEMPLATE, context,
            informed=self.names.of_services(plan.informed),
            failed=self.names.of_services(plan.failed),
            untold=self.names.of_services(plan.untold),
            sources_done=self.names.of_sources(k for k, v in sources.items() if v == "done"),
            sources_failed=self.names.of_sources(k for k, v in sources.items()
                                                 if v == "failed"),
            sources_untold=self.names.of_sources(k for k, v in sources.items()
                                                 if v == "untold"),
            link=link, form=form, back=back)
        if form is not None:
            resp.headers.append((FORM_ACTION_HEADER, form.origin))
        return resp
