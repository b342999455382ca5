"""What each login leaves behind: its metrics and its audit events, from SATOSA's own hooks.

The application (:class:`idp.app.NCConnectApp`) calls this at the points SATOSA's base
defines for every login, whichever plugins serve it: a frontend hands over a request
(started), the request chain picked a source (source chosen), a backend hands back an
answer (source answered, or the SSO session answered), the response chain ends at the
frontend (completed), or the login stops (refused). Plugins add what only they know (the
consent decision, the attributes released) through :func:`idp.audit.events.audit_event`
and :mod:`idp.metrics.definitions`.

Labels and audit fields are partner ids from the registry, levels and fixed words
(:class:`idp.metrics.labels.Labels`); ``path`` is the service's protocol and the source's
(``oidc->saml2``: an OIDC service, a SAML source), as the benchmarks name them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from satosa.context import Context

from . import correlation, loa
from .audit.events import audit_event
from .metrics import definitions as m
from .metrics.labels import OTHER, Labels

#: SATOSA's own flow-state key, where it keeps the requester between the steps.
SATOSA_STATE = "SATOSA_BASE"
#: The backend answering from an SSO session (:data:`idp.sso.session.BACKEND_NAME`).
SSO_BACKEND = "ncconnect:sso"
#: Flow-state key of the citizen's account key (set by the pairwise micro-service).
CITIZEN_STATE_KEY = "ncc_citoyen"
#: Flow-state key of the source this login used (set by the history micro-service on the
#: request side, and by the SSO backend when the session answers).
SOURCE_STATE_KEY = "ncc_source"
#: Frontend name -> protocol label.
FRONTEND_PROTOCOLS = {"oidc": "oidc", "saml2": "saml2", "compte": "compte"}


class LoginTrail:
    """``config``: the assembled ``NCC_OBSERVABILITY`` (services by requester, sources with
    their protocol, directories)."""

    def __init__(self, config: Mapping[str, Any] | None) -> None:
        config = config or {}
        sources = dict(config.get("sources") or {})
        self.labels = Labels(config.get("services"), sources, config.get("directories") or ())
        #: source id -> its protocol ("oidc", "saml2", "ldap").
        self.source_protocols: dict[str, str] = {k: str(v.get("protocol")) for k, v
                                                 in sources.items()}

    def service_of(self, context: Context) -> str:
        base = context.state.get(SATOSA_STATE) if context.state is not None else None
        return self.labels.service(base.get("requester") if isinstance(base, dict) else None)

    def started(self, context: Context, requester: object) -> None:
        service = self.labels.service(requester)
        protocol = FRONTEND_PROTOCOLS.get(str(context.target_frontend), OTHER)
        m.LOGINS_STARTED.labels(service, protocol).inc()
        audit_event("login_started", service=service, protocol=protocol)

    def source_chosen(self, context: Context) -> None:
        backend = context.target_backend
        if backend == SSO_BACKEND:
            return  # reported as sso_reused when the session answers
        audit_event("source_chosen", service=self.service_of(context),
                    source=self.labels.source(backend))

    def source_answered(self, context: Context, auth_class_ref: object) -> None:
        level = loa.level_of(auth_class_ref) or OTHER
        service = self.service_of(context)
        if context.target_backend == SSO_BACKEND:
            m.SSO_REUSED.labels(service).inc()
            audit_event("sso_reused", service=service, loa=level)
            return
        source = self.labels.source(context.target_backend)
        m.SOURCE_ANSWERS.labels(source, level).inc()
        audit_event("source_answered", service=service, source=source, loa=level)

    def completed(self, context: Context, auth_class_ref: object) -> None:
        """The frontend answered the service; the source is the one the flow notes (the SSO
        session's own source when the session answered)."""
        service = self.service_of(context)
        src = self.labels.source(context.state.get(SOURCE_STATE_KEY)
                                 if context.state is not None else None)
        # As the benchmarks name paths: the service's protocol, then the source's.
        path = (f"{FRONTEND_PROTOCOLS.get(str(context.target_frontend), OTHER)}->"
                f"{self.source_protocols.get(src, OTHER)}")
        m.LOGINS_COMPLETED.labels(service, src, path).inc()
        audit_event("login_completed", service=service, source=src,
                    loa=loa.level_of(auth_class_ref) or OTHER, path=path)

    def refused(self, context: Context, reason: str) -> None:
        service = self.service_of(context)
        m.LOGINS_REFUSED.labels(service, reason).inc()
        audit_event("login_refused", service=service, reason=reason)

    @staticmethod
    def bind(context: Context, login_id: str) -> None:
        """The request belongs to ``login_id``, and to the citizen the flow names once known
        (:data:`plugins.micro_services.pairwise.CITIZEN_STATE_KEY`)."""
        citizen = context.state.get(CITIZEN_STATE_KEY) if context.state is not None else None
        correlation.bind(login_id, citizen if isinstance(citizen, str) else None)

