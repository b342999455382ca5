"""SATOSA backend that answers from an SSO session instead of an identity source.

The SSO-session request micro-service (:mod:`plugins.micro_services.session`) routes
here only after deciding that the session may answer this request, and hands the
session over as a context decoration (same HTTP request, nothing stored anew).
``start_auth`` then replays what the source said when the citizen signed in —
subject, normalised attributes, level and the real authentication time — through
SATOSA's ordinary callback, so the response chain runs exactly as after a source's
answer: pairwise subject, minimisation and consent for *this* service.

``context.target_backend`` is set back to the session's source: minimisation and
the connection history name the source the identity came from, never "a session".
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

from satosa.backends.base import BackendModule
from satosa.context import Context
from satosa.internal import AuthenticationInformation, InternalData
from satosa.response import Response

from idp.errors import FlowError
from idp.sso.session import REPLAY_DECORATION, SsoSession
from plugins.micro_services.history import SOURCE_STATE_KEY

logger = logging.getLogger("ncconnect.sso")


def _iso(epoch: int) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class SsoReplayBackend(BackendModule):
    def __init__(self, auth_callback_func, internal_attributes: dict, config: dict[str, Any],
                 base_url: str, name: str) -> None:
        super().__init__(auth_callback_func, internal_attributes, base_url, name)

    def register_endpoints(self) -> list:
        return []

    def get_metadata_desc(self) -> list:
        return []

    def start_auth(self, context: Context, internal_request: InternalData) -> Response:
        session = context.get_decoration(REPLAY_DECORATION)
        if not isinstance(session, SsoSession):
            # Only the SSO micro-service routes here, in the same request.
            raise FlowError("erreur_interne", 500, "sso backend reached without a session")
        context.target_backend = session.source
        # The request micro-service that notes the source saw this backend's name.
        context.state[SOURCE_STATE_KEY] = session.source
        auth_info = AuthenticationInformation(session.acr, _iso(session.auth_time),
                                              session.issuer)
        internal = InternalData(auth_info=auth_info)
        internal.subject_id = session.subject
        internal.attributes = {k: list(v) if isinstance(v, list) else v
                               for k, v in session.attributes.items()}
        logger.info("login answered from the sso session", extra={"source": session.source})
        return self.auth_callback_func(context, internal)
