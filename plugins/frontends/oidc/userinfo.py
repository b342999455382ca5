"""The userinfo endpoint (OIDC Core §5.3): the claims of one grant, for its bearer token.

Claims are stored with the access token, per grant: a token shows what was
released for that login and that client, never a per-user record another login
could have changed.
"""

from __future__ import annotations

import logging
import re

from satosa.context import Context
from satosa.response import Response

from .clients import ClientRegistry
from .errors import OAuthError, invalid_token
from .grants import GrantStore
from .params import BadParameter, form_params, text
from .responses import error_json, json_response

logger = logging.getLogger("ncconnect.oidc")

#: RFC 6750 §2.1 b64token, bounded.
_TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]{1,512}=*")


def _presented_token(context: Context) -> str | None:
    header = (context.request_authorization or "").strip()
    header_token = None
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer":
            header_token = value.strip()
    form_token = None
    if context.request_method == "POST":
        try:
            form_token = text(form_params(context), "access_token", 1024)
        except BadParameter as exc:
            raise invalid_token("malformed access token") from exc
    if header_token is not None and form_token is not None:
        raise OAuthError("invalid_request", "send the access token only once")
    token = header_token if header_token is not None else form_token
    if token is not None and _TOKEN.fullmatch(token) is None:
        raise invalid_token("malformed access token")
    return token


class UserinfoEndpoint:
    def __init__(self, clients: ClientRegistry, grants: GrantStore) -> None:
        self.clients = clients
        self.grants = grants

    def __call__(self, context: Context) -> Response:
        try:
            token = _presented_token(context)
            if token is None:
                # RFC 6750 §3.1: no credentials at all get a bare challenge, without error code.
                return json_response({}, 401, [("WWW-Authenticate", 'Bearer realm="NC Connect"')])
            grant = self.grants.access_grant(token)
            if grant is None:
                raise invalid_token("access token unknown, expired or revoked")
            if self.clients.get(grant.client_id) is None:
                # The service was deactivated since (redeployment): its tokens die with it.
                raise invalid_token("access token of a client no longer registered")
        except OAuthError as err:
            logger.info("userinfo refused", extra={"error": err.error, "reason": err.description})
            return error_json(err)
        return json_response({**grant.claims, "sub": grant.sub})
