"""Client authentication at the token endpoint (RFC 6749 §2.3, OIDC Core §9).

A client authenticates with the one method its partner file names: a client
registered for ``client_secret_basic`` presenting its secret in the form, a
confidential client presenting none, a key client presenting a secret or a
secret client presenting an assertion, is refused like a wrong secret.

A ``private_key_jwt`` request (RFC 7521 §4.2) names its client in the
assertion's ``iss``; a ``client_id`` parameter is optional and, when sent,
must be that same client. The assertion is verified in :mod:`.client_assertion`.

A client still using its previous secret during an overlap (see
:meth:`.clients.Client.matching_secret`) is let in and logged, client id only,
so operators see which partners have not switched yet.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
from collections.abc import Mapping
from urllib.parse import unquote_plus

from .client_assertion import (
    ASSERTION_TYPE,
    MAX_ASSERTION_BYTES,
    AssertionVerifier,
    parse_assertion,
)
from .clients import Client, ClientRegistry
from .errors import OAuthError, invalid_client
from .params import BadParameter, text

logger = logging.getLogger("ncconnect.oidc")

MAX_HEADER = 4096
MAX_ID = 128
MAX_SECRET = 512
MAX_ASSERTION_TYPE = 128


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """(client_id, secret) from ``Authorization: Basic``; ``None`` when no header was sent."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or len(header) > MAX_HEADER:
        raise invalid_client("unsupported or oversized Authorization header")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError) as exc:
        raise invalid_client("malformed Basic credentials") from exc
    user, sep, password = decoded.partition(":")
    if not sep:
        raise invalid_client("malformed Basic credentials")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(user), unquote_plus(password)


def _assertion_client(assertion_type: str | None, assertion: str | None, form_id: str | None,
                      clients: ClientRegistry, assertions: AssertionVerifier) -> Client:
    if assertion_type != ASSERTION_TYPE:
        raise invalid_client(f"client_assertion_type must be {ASSERTION_TYPE}")
    if assertion is None:
        raise invalid_client("client_assertion is required with client_assertion_type")
    parsed = parse_assertion(assertion)
    client_id = parsed.claimed_client
    if client_id is None:
        raise invalid_client("client_assertion: iss is required")
    if form_id is not None and form_id != client_id:
        raise invalid_client("client_id differs from the client_assertion's iss")
    client = clients.get(client_id)
    if client is None:
        raise invalid_client("unknown client or client authentication missing")
    if client.auth_method != "private_key_jwt":
        raise invalid_client(f"this client must authenticate with {client.auth_method}")
    assertions.verify(parsed, client)
    return client


def authenticate_client(authorization: str, params: Mapping[str, str],
                        clients: ClientRegistry, *, assertions: AssertionVerifier) -> Client:
    try:
        form_id = text(params, "client_id", MAX_ID)
        form_secret = text(params, "client_secret", MAX_SECRET)
        assertion_type = text(params, "client_assertion_type", MAX_ASSERTION_TYPE)
        assertion = text(params, "client_assertion", MAX_ASSERTION_BYTES)
    except BadParameter as exc:
        raise invalid_client(f"malformed client credentials ({exc})") from exc
    basic = _basic_credentials(authorization or "")
    uses_assertion = assertion_type is not None or assertion is not None
    if sum((basic is not None, form_secret is not None, uses_assertion)) > 1:
        raise OAuthError("invalid_request", "use only one client authentication method")
    if uses_assertion:
        return _assertion_client(assertion_type, assertion, form_id, clients, assertions)

    secret: str | None
    if basic is not None:
        method, (client_id, secret) = "client_secret_basic", basic
        if form_id is not None and form_id != client_id:
            raise invalid_client("client_id differs from the authenticated client")
    elif form_secret is not None:
        method, client_id, secret = "client_secret_post", form_id, form_secret
    else:
        method, client_id, secret = "none", form_id, None

    client = clients.get(client_id) if client_id else None
    if client is None:
        raise invalid_client("unknown client or client authentication missing")
    if client.auth_method != method:
        raise invalid_client(f"this client must authenticate with {client.auth_method}")
    if method != "none":
        matched = client.matching_secret(secret) if secret is not None else None
        if matched is None:
            raise invalid_client("client authentication failed")
        if matched == "previous":
            _log_previous_secret(client)
    return client


def _log_previous_secret(client: Client) -> None:
    expires = dt.datetime.fromtimestamp(client.previous_secret_expires_at or 0, dt.UTC)
    logger.warning("client authenticated with its previous secret: the partner has not "
                   "switched to the new one yet", extra={
                       "client": client.client_id,
                       "previous_secret_expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")})
