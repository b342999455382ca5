"""Reading an RP-initiated logout request (OpenID Connect RP-Initiated Logout 1.0 §2–§3).

What may be trusted, and when:

* ``id_token_hint`` counts only if *we* signed it (RS256, our key, our ``iss``); an
  expired hint is still a hint (§2: the OP must accept one), a forged or foreign one is
  no hint at all. Its audience names the client; ``client_id``, when also given, must
  be that client (otherwise the request is refused on our page).
* ``post_logout_redirect_uri`` is used only when it matches one of the client's
  registered URIs exactly, the client being the hint's audience, or ``client_id`` when
  no hint was sent at all (§3: never after an invalid hint). Otherwise the logout still
  happens and ends on our page: NC Connect never becomes an open redirector.
* ``state`` goes back to the client with the redirect, as received.

Whether the citizen must confirm (no valid hint) is the endpoint's decision
(:mod:`.frontend`), not this module's.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptojwt.exception import JWKESTException
from cryptojwt.jwk.rsa import RSAKey
from cryptojwt.jws.jws import JWS

from idp.errors import FlowError

from .clients import Client, ClientRegistry
from .id_token import ALG
from .params import BadParameter, text

MAX_HINT = 8192
MAX_URI = 2048
MAX_STATE = 2048
MAX_CLIENT_ID = 128


@dataclass(frozen=True)
class EndSessionRequest:
    #: The client the request is about, when it could be told (hint or client_id).
    client: Client | None
    #: The verified hint's claims; ``None`` when there was none or it was not ours.
    hint: dict[str, Any] | None
    #: Whether a hint was sent, valid or not (an invalid one forbids the redirect).
    hint_sent: bool
    #: The registered URI to send the browser back to, if any.
    redirect_uri: str | None
    state: str | None


def _read(params: Mapping[str, Any], name: str, max_len: int) -> str | None:
    try:
        return text(params, name, max_len)
    except BadParameter as exc:
        raise FlowError("deconnexion_invalide", detail=f"end_session: {name} malformed") from exc


def verify_hint(token: str, key: RSAKey | list[RSAKey], issuer: str) -> dict[str, Any] | None:
    """The claims of an ID token we issued (signature and ``iss``; expiry not checked), with
    any of our published keys (a hint signed by a retired key counts as no hint)."""
    try:
        claims = JWS(alg=ALG).verify_compact(token, keys=key if isinstance(key, list)
                                             else [key], sigalg=ALG)
    except (JWKESTException, ValueError, TypeError, KeyError, IndexError):
        return None
    if not isinstance(claims, dict) or claims.get("iss") != issuer:
        return None
    return claims


def _audience(claims: Mapping[str, Any]) -> str | None:
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    if len(audiences) == 1 and isinstance(audiences[0], str):
        return audiences[0]
    azp = claims.get("azp")
    return azp if isinstance(azp, str) and azp in audiences else None


def read_end_session_request(params: Mapping[str, Any], clients: ClientRegistry,
                             key: RSAKey | list[RSAKey], issuer: str) -> EndSessionRequest:
    raw_hint = _read(params, "id_token_hint", MAX_HINT)
    client_id = _read(params, "client_id", MAX_CLIENT_ID)
    uri = _read(params, "post_logout_redirect_uri", MAX_URI)
    state = _read(params, "state", MAX_STATE)
    hint = verify_hint(raw_hint, key, issuer) if raw_hint else None
    if hint is not None:
        audience = _audience(hint)
        if client_id is not None and client_id != audience:
            raise FlowError("deconnexion_invalide",
                            detail="end_session: client_id is not the hint's audience")
        client = clients.get(audience)
    else:
        client = clients.get(client_id)
    redirect = None
    if uri is not None and client is not None and (hint is not None or raw_hint is None) \
            and uri in client.post_logout_redirect_uris:
        redirect = uri
    return EndSessionRequest(client=client, hint=hint, hint_sent=raw_hint is not None,
                             redirect_uri=redirect, state=state)
