"""Single sign-on, response side: keep the session after a source's answer, note who used it.

Two response micro-services (:mod:`idp.sso.session` describes the records):

* :class:`SsoSessionRecord`, **first** of the response chain, so it sees the source's
  own subject and every normalised attribute before pairwise identifiers and
  minimisation change them. After a fresh authentication it creates the session
  under a new cookie value and files it under the citizen's account key; after an
  answer from the session it renews the idle lifetime. The cookie is added to
  whatever response ends this request's chain (redirect to the service, the SAML
  auto-post page, the consent screen).

  The account key is the one :class:`~plugins.micro_services.pairwise.PairwiseSubject`
  derives a step later — computed here with the same functions, secret and sector,
  because the session must be filed *before* anything is released (a store failure
  then stops the login instead of leaving an unlisted session behind a released
  identity), and the same citizen re-authenticating must keep their session id.
* :class:`SsoServiceUse`, **last**, just before the frontend answers: notes the
  service in the session with what single logout needs (protocol, the service's
  pairwise subject, its own session id), and links that session id back to the
  session (:mod:`idp.sso.session`). Being last, it runs only for a login the
  service actually receives, including after the consent screen's own request.
  The SAML frontend, which alone decides the NameID (a transient or email one is no
  pairwise subject), then notes the entry again with the NameID it sent
  (:data:`idp.sso.session.NOTED_SERVICE_DECORATION`).

Both write through :func:`idp.app.write_with_flow`: the session, its index entry, the
service's entry and its link go to the store with the flow state, in that step's single
round trip, and only if the step succeeds (a step that fails leaves no session behind).

A passive request (``prompt=none``, ``IsPassive``) answered from the session must not
end on a page either: when a step of the chain stops it to show one (the consent
screen, when nothing is remembered), :class:`SsoSessionRecord` — which sees whether
the chain reached :class:`SsoServiceUse` — answers ``consent_required`` instead. The
consent screen may raise it itself first (:func:`idp.refusals.consent_required`).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import ResponseMicroService
from satosa.response import Response

from idp import loa
from idp.app import write_with_flow
from idp.auth_instant import auth_time_of
from idp.authn_requirements import requirements_of
from idp.dictionary.pivot import subject_basis
from idp.errors import FlowError
from idp.keys import read_secret
from idp.pairwise import pairwise_id
from idp.refusals import consent_required
from idp.sso.session import (
    NOTED_SERVICE_DECORATION,
    REPLAY_DECORATION,
    SOURCE_SESSION_DECORATION,
    STATE_KEY,
    SessionStore,
    SsoSession,
    cookie_header,
    cookie_value,
    new_sid,
    service_sid,
)
from idp.stores import open_store
from idp.stores.sealing import at_rest_key

from .pairwise import ACCOUNT_SECTOR, SUBJECT_TYPE

logger = logging.getLogger("ncconnect.sso")

#: Context decoration: this request's response chain reached its end (no page in between).
CHAIN_DONE = "ncc.sso_chain_done"


def citizen_key(secret: bytes, attributes: Mapping[str, Any], source_subject: str) -> str:
    """The citizen's account key, exactly as :class:`PairwiseSubject` derives it."""
    return pairwise_id(secret, ACCOUNT_SECTOR, subject_basis(attributes, source_subject))


def _sessions(config: Mapping[str, Any]) -> SessionStore:
    life = config["lifetimes"]
    return SessionStore(open_store(config["store_url"]), int(life["idle"]), int(life["absolute"]),
                        at_rest_key(config))


def _remember(context: Context, session: SsoSession) -> None:
    # The citizen's account key: the service's session id is linked back to the session
    # with it (single logout finds the session from the id the service knows).
    context.state[STATE_KEY] = {"key": session.key, "sid": session.sid,
                                "citizen": session.citizen, "expires_at": session.expires_at}


def _source_session(context: Context) -> dict[str, Any] | None:
    """What the backend of this fresh login kept for its source's logout (same request)."""
    recorded = context.get_decoration(SOURCE_SESSION_DECORATION)
    return json.loads(json.dumps(recorded)) if isinstance(recorded, dict) else None


class SsoSessionRecord(ResponseMicroService):
    def __init__(self, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = _sessions(config)
        self.secret = read_secret(Path(config["pairwise_secret_path"]))

    def process(self, context: Context, data: InternalData) -> Response:
        now = time.time()
        replayed = context.get_decoration(REPLAY_DECORATION)
        if isinstance(replayed, SsoSession):
            touched = self.sessions.touch(replayed, now)
            if touched is None:
                raise FlowError("session_expiree", detail="sso session ended while answering")
            _remember(context, touched)
            resp = super().process(context, data)
            if requirements_of(context).passive and not context.get_decoration(CHAIN_DONE):
                logger.info("passive request would show a page: consent_required")
                raise consent_required(context)
            return resp
        created = self._fresh(context, data, now)
        resp = super().process(context, data)
        if created is not None:
            cookie, session = created
            resp.headers.append(("Set-Cookie", cookie_header(cookie,
                                                             session.expires_at - int(now))))
        return resp

    def _fresh(self, context: Context, data: InternalData,
               now: float) -> tuple[str, SsoSession] | None:
        """A new session for a fresh authentication; ``None`` when it states no level."""
        source = context.target_backend
        info = data.auth_info
        level = loa.level_of(getattr(info, "auth_class_ref", None))
        subject = data.subject_id
        if not isinstance(source, str) or level is None or not isinstance(subject, str) \
                or not subject:
            # Backends built by idp.assemble always state a checked level; anything else
            # gets no session rather than one at a guessed level.
            logger.warning("no sso session: answer without a level or subject",
                           extra={"source": source if isinstance(source, str) else None})
            return None
        attributes = data.attributes if isinstance(data.attributes, dict) else {}
        # A copy: the chain after us rewrites the attributes in place.
        attributes = json.loads(json.dumps(attributes))
        citizen = citizen_key(self.secret, attributes, subject)
        previous = self.sessions.find(cookie_value(context), now)
        same_citizen = previous is not None and previous.citizen == citizen
        if previous is not None and not same_citizen:
            self.sessions.end(previous)
        cookie, session = self.sessions.create(
            sid=previous.sid if same_citizen and previous else new_sid(), citizen=citizen,
            source=source, subject=subject, attributes=attributes,
            auth_time=auth_time_of(getattr(info, "timestamp", None)), loa=level,
            acr=loa.stated(level), issuer=getattr(info, "issuer", None), now=now,
            source_session=_source_session(context),
            write=lambda puts: write_with_flow(context, self.sessions.store, *puts))
        if same_citizen and previous is not None:
            self.sessions.replace_cookie(previous)
            self.sessions.extend_services(session, now)
        logger.info("sso session started", extra={"source": source, "loa": level,
                                                  "continued": same_citizen})
        _remember(context, session)
        return cookie, session


class SsoServiceUse(ResponseMicroService):
    """``config``: the store, the lifetimes and, per requester, ``service_id`` and
    ``protocol``; requesters not listed (NC Connect's own space) are not noted."""

    def __init__(self, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sessions = _sessions(config)
        self.services: dict[str, dict[str, str]] = dict(config["services"])

    def process(self, context: Context, data: InternalData) -> Response:
        context.decorate(CHAIN_DONE, True)
        ref = context.state.get(STATE_KEY) if context.state is not None else None
        service = self.services.get(data.requester)
        if isinstance(ref, dict) and service is not None:
            sid, expires_at = ref.get("sid"), ref.get("expires_at")
            if not isinstance(sid, str) or not isinstance(expires_at, int):
                raise FlowError("session_expiree", detail="sso: damaged session reference")
            subject = data.subject_id if data.subject_type == SUBJECT_TYPE else None
            citizen = ref.get("citizen")
            entry = {
                "service_id": service["service_id"], "protocol": service["protocol"],
                "requester": data.requester,
                "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "sid": service_sid(sid, service["service_id"]), "subject": subject,
            }
            ttl = expires_at - int(time.time())
            # Written with the flow state at the end of the step, in its round trip.
            self.sessions.note_service(
                sid, service["service_id"], entry, ttl,
                citizen=citizen if isinstance(citizen, str) else None,
                write=lambda puts: write_with_flow(context, self.sessions.store, *puts))
            context.decorate(NOTED_SERVICE_DECORATION, {
                "sid": sid, "service_id": service["service_id"], "entry": entry, "ttl": ttl})
        return super().process(context, data)
