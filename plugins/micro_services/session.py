"""Single sign-on, request side: answer from the citizen's SSO session when it is good enough.

A request micro-service placed *before* the identity-source choice. It reads the
session cookie (:mod:`idp.sso.session`) and the request's requirements
(:mod:`idp.authn_requirements`), raised to the service's own minimum level, and:

* when a live session exists, its source is one this service accepts, its level
  reaches what is required, and the request neither forces a new authentication
  nor sets a ``max_age`` the session is older than — routes the request to the
  backend :data:`~idp.sso.session.BACKEND_NAME`, which replays the session: no
  choice page, no request to the source;
* otherwise, when the request is passive (``prompt=none``, ``IsPassive``) — ends
  the login with ``login_required`` without showing any page;
* otherwise lets the choice and a source authenticate the citizen afresh (a
  session below the level asked is *stepped up* this way, never reused).

The decision is logged with its reason; never the session, the cookie or who.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import RequestMicroService
from satosa.response import Response

from idp import loa
from idp.authn_requirements import Requirements, record, requirements_of
from idp.refusals import level_unreachable, login_required
from idp.sso.session import (
    BACKEND_NAME,
    REPLAY_DECORATION,
    SessionStore,
    SsoSession,
    cookie_value,
)
from idp.stores import open_store
from idp.stores.sealing import at_rest_key

logger = logging.getLogger("ncconnect.sso")


def why_not_reused(session: SsoSession | None, service: Mapping[str, Any],
                   req: Requirements, now: float) -> str | None:
    """``None`` when ``session`` may answer this request, else the reason it may not."""
    if session is None:
        return "no_session"
    if session.source not in service["sources"]:
        return "source_not_accepted"
    if not loa.reaches(session.loa, req.loa_min) or req.stated_level(session.loa) is None:
        return "level_too_low"
    if req.force:
        return "fresh_authentication_asked"
    if not req.session_usable_at(session.auth_time, now):
        return "older_than_max_age"
    return None


class SsoSessionRequest(RequestMicroService):
    """``config`` is what ``idp.assemble`` builds: the store, the SSO lifetimes and, per
    requester, the service id, its accepted (active) sources and its minimum level."""

    def __init__(self, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        life = config["lifetimes"]
        self.sessions = SessionStore(open_store(config["store_url"]), int(life["idle"]),
                                     int(life["absolute"]), at_rest_key(config))
        self.services: dict[str, dict[str, Any]] = dict(config["services"])

    def process(self, context: Context, data: InternalData) -> Response:
        service = self.services.get(data.requester)
        if service is None:
            # Not ours to refuse: the choice refuses unknown requesters with its own page.
            return super().process(context, data)
        req = requirements_of(context).with_service_minimum(service["loa_min"])
        record(context, req)
        if not req.satisfiable:
            logger.info("level asked cannot be stated", extra={"service": service["service_id"]})
            raise level_unreachable(context)
        now = time.time()
        session = self.sessions.find(cookie_value(context), now)
        reason = why_not_reused(session, service, req, now)
        if reason is None:
            assert session is not None
            logger.info("sso session reused", extra={"service": service["service_id"],
                                                     "source": session.source})
            context.target_backend = BACKEND_NAME
            context.decorate(REPLAY_DECORATION, session)
            return super().process(context, data)
        logger.info("sso session not reused", extra={"service": service["service_id"],
                                                     "reason": reason,
                                                     "passive": req.passive})
        if req.passive:
            raise login_required(context)
        return super().process(context, data)
