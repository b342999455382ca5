"""Validation of an authorization request (OIDC Core §3.1.2), in the only safe order.

1. The client and its redirect URI are checked first; until both are known an
   error is a page of ours (:class:`FlowError`), never a redirect, so a forged
   request cannot turn NC Connect into an open redirector.
2. Everything else is refused back to the client as an OAuth error
   (:class:`AuthorizationRefused`), with its ``state``.

The result, :class:`PendingAuthorization`, is all the frontend keeps in the
flow state until the identity source answers, with the request's
:class:`~idp.authn_requirements.Requirements` (``prompt``, ``max_age``,
``acr_values``): ``prompt=login``, ``prompt=select_account`` and ``max_age=0`` force a
fresh authentication, ``prompt=none`` forbids any page, ``acr_values`` (eIDAS URIs, or
``eidas1``…``eidas3``) raise the level; a level NC Connect does not know is refused with
``unmet_authentication_requirements`` rather than silently answered lower.

PKCE and ``nonce`` follow :mod:`.binding`: a code is always bound to its request by one of
them, and ``nonce`` is ``None`` when a request with a PKCE challenge left it out.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from idp import loa
from idp.authn_requirements import Requirements
from idp.errors import FlowError

from .binding import BindingRefused, check_nonce, checked_challenge
from .claims import MAX_CLAIMS_PARAMETER, parse_claims_parameter, scope_claims
from .clients import Client, ClientRegistry
from .errors import AuthorizationRefused
from .params import BadParameter, text

MAX_CLIENT_ID = 128
MAX_URI = 2048
MAX_STATE = 2048
MAX_NONCE = 1024
MAX_SCOPE = 1024
MAX_SHORT = 128
MAX_ACR_VALUES = 1024
#: Longer than a S256 challenge may be (128): the well-formedness check says what is wrong.
MAX_CHALLENGE = 256
MAX_MAX_AGE = 16
#: OIDC Core §3.1.2.1.
PROMPTS = frozenset({"none", "login", "consent", "select_account"})
#: OpenID Connect Unmet Authentication Requirements 1.0.
UNMET = "unmet_authentication_requirements"


@dataclass(frozen=True)
class PendingAuthorization:
    """A validated request, waiting for the identity source (JSON-serialisable)."""

    client_id: str
    redirect_uri: str
    state: str
    #: ``None``: the request left it out (allowed with a PKCE challenge, :mod:`.binding`).
    nonce: str | None
    code_challenge: str | None
    #: Claims the client asked for *and* may receive.
    claims: tuple[str, ...]
    #: Among ``claims``, those the ``claims`` parameter asked for in the ID token.
    id_token_claims: tuple[str, ...]

    def to_state(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_state(cls, data: Any) -> PendingAuthorization:
        if not isinstance(data, dict):
            raise FlowError("session_expiree", detail="no pending oidc authorization in the flow")
        nonce = data.get("nonce")
        if nonce is not None and not isinstance(nonce, str):
            raise FlowError("session_expiree", detail="malformed oidc flow state")
        try:
            return cls(
                client_id=str(data["client_id"]), redirect_uri=str(data["redirect_uri"]),
                state=str(data["state"]), nonce=nonce,
                code_challenge=data.get("code_challenge"),
                claims=tuple(data["claims"]), id_token_claims=tuple(data["id_token_claims"]),
            )
        except (KeyError, TypeError) as exc:
            raise FlowError("session_expiree", detail="malformed oidc flow state") from exc


def trusted_client(params: Mapping[str, Any], clients: ClientRegistry) -> tuple[Client, str]:
    """The client and its redirect URI, or a :class:`FlowError` (never a redirect)."""
    try:
        client = clients.get(text(params, "client_id", MAX_CLIENT_ID))
    except BadParameter:
        client = None
    if client is None:
        raise FlowError("client_inconnu", detail="authorization request: unknown client_id")
    try:
        redirect_uri = text(params, "redirect_uri", MAX_URI)
    except BadParameter:
        redirect_uri = None
    if redirect_uri is None or redirect_uri not in client.redirect_uris:
        raise FlowError("redirect_uri_invalide",
                        detail=f"redirect_uri not registered for client {client.service_id}")
    return client, redirect_uri


class _Refuser:
    """Reads parameters and refuses, once the redirect URI is trusted."""

    def __init__(self, params: Mapping[str, Any], redirect_uri: str) -> None:
        self.params = params
        self.redirect_uri = redirect_uri
        self.state: str | None = None

    def refuse(self, error: str, description: str) -> AuthorizationRefused:
        return AuthorizationRefused(error, description, self.redirect_uri, self.state)

    def present(self, name: str) -> bool:
        return self.params.get(name) not in (None, "")

    def get(self, name: str, max_len: int) -> str | None:
        try:
            return text(self.params, name, max_len)
        except BadParameter as exc:
            raise self.refuse("invalid_request", f"{name} is malformed or too long") from exc


def validate_authorization_request(params: Mapping[str, Any], clients: ClientRegistry,
                                   scope_map: Mapping[str, tuple[str, ...]],
                                   repeated: frozenset[str] = frozenset()
                                   ) -> tuple[Client, PendingAuthorization, Requirements]:
    """``repeated``: parameter names sent more than once, which RFC 6749 §3.1 forbids. A
    repeated ``client_id`` or ``redirect_uri`` leaves no address to trust (our page); any other
    is answered ``invalid_request`` at the registered redirect URI."""
    if repeated & {"client_id", "redirect_uri"}:
        raise FlowError("requete_invalide",
                        detail="authorization request: client_id or redirect_uri repeated")
    client, redirect_uri = trusted_client(params, clients)
    r = _Refuser(params, redirect_uri)
    if "state" not in repeated:
        r.state = r.get("state", MAX_STATE)
    if repeated:
        raise r.refuse("invalid_request", f"{', '.join(sorted(repeated))} repeated")

    if r.present("request"):
        raise r.refuse("request_not_supported", "request objects are not supported")
    if r.present("request_uri"):
        raise r.refuse("request_uri_not_supported", "request_uri is not supported")

    response_type = r.get("response_type", MAX_SHORT)
    if response_type is None:
        raise r.refuse("invalid_request", "response_type is required")
    if response_type != "code":
        raise r.refuse("unsupported_response_type", "only response_type=code is supported")
    response_mode = r.get("response_mode", MAX_SHORT)
    if response_mode not in (None, "query"):
        raise r.refuse("invalid_request", "only response_mode=query is supported")

    scopes = (r.get("scope", MAX_SCOPE) or "").split()
    if "openid" not in scopes:
        raise r.refuse("invalid_scope", "scope must contain openid")
    if r.state is None:
        raise r.refuse("invalid_request", "state is required")
    nonce = r.get("nonce", MAX_NONCE)
    try:
        challenge = checked_challenge(client, r.get("code_challenge", MAX_CHALLENGE),
                                      r.get("code_challenge_method", MAX_SHORT))
        check_nonce(nonce, challenge)
    except BindingRefused as refused:
        raise r.refuse(refused.error, refused.description) from None

    try:
        claims_param = parse_claims_parameter(r.get("claims", MAX_CLAIMS_PARAMETER))
    except ValueError as exc:
        raise r.refuse("invalid_request", str(exc)) from exc

    requirements = _requirements(r)

    asked = scope_claims(scopes, scope_map) | claims_param.userinfo | claims_param.id_token
    released = asked & client.allowed_claims
    pending = PendingAuthorization(
        client_id=client.client_id, redirect_uri=redirect_uri, state=r.state, nonce=nonce,
        code_challenge=challenge, claims=tuple(sorted(released)),
        id_token_claims=tuple(sorted(claims_param.id_token & released)),
    )
    return client, pending, requirements


def _requirements(r: _Refuser) -> Requirements:
    prompt = set((r.get("prompt", MAX_SHORT) or "").split())
    if not prompt <= PROMPTS:
        raise r.refuse("invalid_request", "prompt has a value OIDC Core does not define")
    if "none" in prompt and len(prompt) > 1:
        raise r.refuse("invalid_request", "prompt=none cannot be combined with other values")
    raw_max_age = r.get("max_age", MAX_MAX_AGE)
    if raw_max_age is not None and not (raw_max_age.isascii() and raw_max_age.isdigit()):
        raise r.refuse("invalid_request", "max_age must be a non-negative integer")
    max_age = int(raw_max_age) if raw_max_age is not None else None
    values = (r.get("acr_values", MAX_ACR_VALUES) or "").split()
    levels = [loa.level_of(v) for v in values]
    if any(level is None for level in levels):
        raise r.refuse(UNMET, "acr_values names a level of assurance NC Connect does not know "
                       "(eIDAS URIs or eidas1..eidas3)")
    asked = loa.lowest(x for x in levels if x is not None) if values else None
    return Requirements(
        force="login" in prompt or "select_account" in prompt or max_age == 0,
        passive="none" in prompt, max_age=max_age,
        loa_min=asked or loa.LOW, loa_asked=asked,
        acr_style=loa.style_of(values[0]) if values else loa.STYLE_URI,
        consent_prompt="consent" in prompt)

