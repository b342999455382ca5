"""The token endpoint: the authorization_code grant, and nothing else (RFC 6749 §4.1.3).

Checks run in an order that keeps codes one-time: the request is checked for
shape and the client authenticated *before* the code is taken from the store;
once taken, any mismatch (client, redirect URI, PKCE: :func:`.binding.check_verifier`)
burns the code. A failed client authentication therefore never consumes the code
(RFC 6749 §5.2: the request is refused, not the grant); a ``private_key_jwt``
assertion that passes is consumed (its ``jti``) even if the grant is then refused.
"""

from __future__ import annotations

import logging

from satosa.context import Context
from satosa.response import Response

from .binding import check_verifier
from .client_assertion import AssertionVerifier, Audience
from .client_auth import authenticate_client
from .clients import ClientRegistry
from .errors import OAuthError
from .grants import GrantStore
from .id_token import IdTokenSigner
from .params import BadParameter, form_params, text
from .responses import error_json, json_response

logger = logging.getLogger("ncconnect.oidc")

MAX_CODE = 256
MAX_URI = 2048
MAX_VERIFIER = 256


class TokenEndpoint:
    """``token_url`` is the audience ``private_key_jwt`` assertions name. Without it, it is the
    issuer joined with the path this endpoint is routed at: the frontend registers it at
    exactly ``<name>/token``, so that is :attr:`.discovery.Endpoints.token`."""

    def __init__(self, clients: ClientRegistry, grants: GrantStore, signer: IdTokenSigner,
                 access_token_lifetime: int, token_url: str | None = None) -> None:
        self.clients = clients
        self.grants = grants
        self.signer = signer
        self.access_token_lifetime = access_token_lifetime
        self.token_url = token_url

    def _assertions(self, context: Context) -> AssertionVerifier:
        issuer = self.signer.issuer
        token_url = self.token_url or f"{issuer.rstrip('/')}/{context.path}"
        return AssertionVerifier(self.grants.store, Audience(token_url, issuer))

    def __call__(self, context: Context) -> Response:
        try:
            return self._exchange(context)
        except OAuthError as err:
            logger.info("token request refused",
                        extra={"error": err.error, "reason": err.description})
            return error_json(err)

    def _exchange(self, context: Context) -> Response:
        if context.request_method != "POST":
            raise OAuthError("invalid_request", "the token endpoint accepts POST only", 405,
                             [("Allow", "POST")])
        params = form_params(context)
        client = authenticate_client(context.request_authorization or "", params, self.clients,
                                     assertions=self._assertions(context))
        try:
            grant_type = text(params, "grant_type", 64)
            code = text(params, "code", MAX_CODE)
            redirect_uri = text(params, "redirect_uri", MAX_URI)
            verifier = text(params, "code_verifier", MAX_VERIFIER)
        except BadParameter as exc:
            raise OAuthError("invalid_request", str(exc)) from exc
        if grant_type is None:
            raise OAuthError("invalid_request", "grant_type is required")
        if grant_type != "authorization_code":
            raise OAuthError("unsupported_grant_type", "only authorization_code is supported")
        if code is None:
            raise OAuthError("invalid_request", "code is required")
        if redirect_uri is None:
            raise OAuthError("invalid_request", "redirect_uri is required")

        grant = self.grants.redeem_code(code)
        if grant is None:
            raise OAuthError("invalid_grant", "code is invalid, expired or already used")
        if grant.client_id != client.client_id:
            raise OAuthError("invalid_grant", "code was issued to another client")
        if grant.redirect_uri != redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri differs from the authorization request")
        check_verifier(grant.code_challenge, verifier)

        access_token = self.grants.issue_access_token(code, grant)
        extra = {c: grant.claims[c] for c in grant.id_token_claims if c in grant.claims}
        id_token = self.signer.sign(client_id=client.client_id, sub=grant.sub, nonce=grant.nonce,
                                    auth_time=grant.auth_time, access_token=access_token,
                                    acr=grant.acr, sid=grant.sid, extra=extra)
        logger.info("tokens issued", extra={"client": client.service_id})
        return json_response({"access_token": access_token, "token_type": "Bearer",
                              "expires_in": self.access_token_lifetime, "id_token": id_token})
