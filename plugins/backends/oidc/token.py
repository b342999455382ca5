"""Authorization code exchange at the token endpoint (client_secret_basic + PKCE verifier)."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from urllib.parse import quote

from .errors import InvalidSourceResponse
from .fetch import Trust, call_json


@dataclass(frozen=True)
class Tokens:
    access_token: str
    id_token: str


def basic_auth(client_id: str, client_secret: str) -> str:
    """RFC 6749 §2.3.1: both parts form-urlencoded before base64."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


def exchange_code(token_endpoint: str, *, code: str, redirect_uri: str, verifier: str,
                  client_id: str, client_secret: str, trust: Trust) -> Tokens:
    reply = call_json(
        "POST", token_endpoint, what="token", trust=trust,
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri,
              "code_verifier": verifier},
        headers={"Authorization": basic_auth(client_id, client_secret),
                 "Accept": "application/json"},
    )
    if reply.status != 200:
        error = reply.data.get("error")
        label = error if isinstance(error, str) and error.isascii() and len(error) < 64 else "?"
        raise InvalidSourceResponse(f"token: HTTP {reply.status}, error {label}")
    access_token = reply.data.get("access_token")
    id_token = reply.data.get("id_token")
    token_type = reply.data.get("token_type")
    if not isinstance(token_type, str) or token_type.lower() != "bearer":
        raise InvalidSourceResponse("token: token_type is not Bearer")
    if not isinstance(access_token, str) or not access_token or len(access_token) > 8192:
        raise InvalidSourceResponse("token: access_token missing or invalid")
    if not isinstance(id_token, str) or not id_token:
        raise InvalidSourceResponse("token: id_token missing")
    return Tokens(access_token, id_token)
