"""Client authentication at the token endpoint (RFC 6749 §2.3, OIDC Core §9).

A client authenticates with the one method its partner file names: a client
registered for ``client_secret_basic`` presenting its secret in the form, or a
confidential client presenting none, is refused like a wrong secret.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import unquote_plus

from .clients import Client, ClientRegistry
from .errors import OAuthError, invalid_client
from .params import BadParameter, text

MAX_HEADER = 4096
MAX_ID = 128
MAX_SECRET = 512


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


def authenticate_client(authorization: str, params: Mapping[str, str],
                        clients: ClientRegistry) -> Client:
    try:
        form_id = text(params, "client_id", MAX_ID)
        form_secret = text(params, "client_secret", MAX_SECRET)
    except BadParameter as exc:
        raise invalid_client("malformed client credentials") from exc
    basic = _basic_credentials(authorization or "")
    if basic is not None and form_secret is not None:
        raise OAuthError("invalid_request", "use only one client authentication method")

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
    if method != "none" and (secret is None or not client.secret_matches(secret)):
        raise invalid_client("client authentication failed")
    return client
