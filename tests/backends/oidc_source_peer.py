"""A real OpenID provider (pyop) behind a small WSGI app, playing an identity source.

Tests can make it misbehave the way a compromised or buggy provider would:
``tamper_token`` rewrites the token endpoint's JSON answer (to forge ID
tokens), ``tamper_userinfo`` the UserInfo answer, ``deny`` answers the
authorization request with ``error=access_denied``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlencode

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptojwt.jwk.hmac import SYMKey
from cryptojwt.jwk.rsa import RSAKey as CryptojwtRSAKey
from cryptojwt.jws.jws import JWS
from jwkest.jwk import RSAKey as JwkestRSAKey
from jwkest.jwk import import_rsa_key
from pyop.authz_state import AuthorizationState
from pyop.exceptions import BearerTokenError, InvalidAuthenticationRequest, OAuthError
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo

KID = "op-signing-1"
CLIENT_ID = "ncconnect-test"
CLIENT_SECRET = "s3cret-for-tests-only-0123456789"
USER_ID = "marie"
SUB = "sub-marie-1234"
#: What the provider knows about its one user: exactly what the proxy must pass on.
USER_CLAIMS = {
    "sub": SUB,
    "given_name": "Marie Louise",
    "family_name": "Wamytan",
    "preferred_username": "Marie Wamytan",
    "birthdate": "1990-04-12",
    "gender": "female",
    "email": "marie@example.nc",
    "phone_number": "+687 12 34 56",
}
SCOPES = ["openid", "profile", "email", "phone"]


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unverified_claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


class OidcSourcePeer:
    def __init__(self, base_url: str, signing_key: rsa.RSAPrivateKey, signing_pem: bytes,
                 redirect_uri: str) -> None:
        self.base_url = base_url
        self.signing_key = signing_key
        self.kid = KID
        jwk = JwkestRSAKey(key=import_rsa_key(signing_pem.decode()), alg="RS256", kid=KID,
                           use="sig")
        self.provider = Provider(
            jwk,
            {
                # pyop insists on an https issuer at construction; set below (loopback http).
                "issuer": "https://op.invalid",
                "authorization_endpoint": f"{base_url}/authorize",
                "token_endpoint": f"{base_url}/token",
                "userinfo_endpoint": f"{base_url}/userinfo",
                "jwks_uri": f"{base_url}/jwks",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "scopes_supported": SCOPES,
                "code_challenge_methods_supported": ["S256"],
            },
            AuthorizationState(HashBasedSubjectIdentifierFactory("salt")),
            {CLIENT_ID: {"client_secret": CLIENT_SECRET, "redirect_uris": [redirect_uri],
                         "response_types": ["code"],
                         "token_endpoint_auth_method": "client_secret_basic"}},
            Userinfo({USER_ID: dict(USER_CLAIMS)}),
        )
        self.provider.configuration_information["issuer"] = base_url
        self.metadata_overrides: dict[str, Any] = {}
        self.tamper_token: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.tamper_userinfo: Callable[[dict[str, Any]], dict[str, Any]] | None = None
        self.deny = False
        #: Extra parameters appended to the redirect back to the proxy (e.g. a forged ``iss``).
        self.extra_callback_params: dict[str, str] = {}
        self.token_requests = 0
        self.jwks_requests = 0
        self.discovery_requests = 0
        self.last_authorization: dict[str, str] = {}

    # -- forging helpers for hostile tests ------------------------------------

    def sign(self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None,
             kid: str | None = None) -> str:
        """An RS256 JWS of ``claims`` (with the provider's key unless ``key`` is given)."""
        jwk = CryptojwtRSAKey(priv_key=key or self.signing_key, kid=kid or self.kid)
        return JWS(json.dumps(claims), alg="RS256").sign_compact([jwk])

    @staticmethod
    def sign_hs256(claims: dict[str, Any], secret: str, kid: str = KID) -> str:
        return JWS(json.dumps(claims), alg="HS256").sign_compact(
            [SYMKey(key=secret.encode(), kid=kid)])

    @staticmethod
    def unsigned(claims: dict[str, Any], kid: str = KID) -> str:
        header = b64url(json.dumps({"alg": "none", "kid": kid}).encode())
        return f"{header}.{b64url(json.dumps(claims).encode())}."

    def rotate_key(self, key: rsa.RSAPrivateKey, pem: bytes, kid: str) -> None:
        """Sign from now on with a new key, published under a new kid."""
        self.signing_key, self.kid = key, kid
        self.provider.signing_key = JwkestRSAKey(key=import_rsa_key(pem.decode()), alg="RS256",
                                                 kid=kid, use="sig")

    def reissue(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Have the token endpoint answer with the real ID token's claims, changed, re-signed."""
        def tamper(answer: dict[str, Any]) -> dict[str, Any]:
            claims = unverified_claims(answer["id_token"])
            change(claims)
            answer["id_token"] = self.sign(claims)
            return answer
        self.tamper_token = tamper

    # -- WSGI ------------------------------------------------------------------

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        headers = {"Authorization": environ.get("HTTP_AUTHORIZATION", "")}
        if path == "/.well-known/openid-configuration":
            self.discovery_requests += 1
            meta = self.provider.provider_configuration.to_dict()
            meta.update(self.metadata_overrides)
            return self._json(start_response, meta)
        if path == "/jwks":
            self.jwks_requests += 1
            return self._json(start_response, self.provider.jwks)
        if path == "/authorize":
            return self._authorize(start_response, query)
        if path == "/token":
            length = int(environ.get("CONTENT_LENGTH") or 0)
            body = environ["wsgi.input"].read(length).decode()
            return self._token(start_response, body, headers)
        if path == "/userinfo":
            return self._userinfo(start_response, query, headers)
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    def _authorize(self, start_response, query: str) -> list[bytes]:
        try:
            request = self.provider.parse_authentication_request(query)
        except InvalidAuthenticationRequest as exc:
            return self._json(start_response, {"error": "invalid_request",
                                               "error_description": str(exc)}, "400 Bad Request")
        self.last_authorization = dict(parse_qsl(query))
        if self.deny:
            location = request["redirect_uri"] + "?" + urlencode(
                {"error": "access_denied", "state": request["state"]})
        else:
            response = self.provider.authorize(request, USER_ID)
            location = response.request(request["redirect_uri"])
        if self.extra_callback_params:
            location += "&" + urlencode(self.extra_callback_params)
        start_response("303 See Other", [("Location", location), ("Content-Length", "0")])
        return [b""]

    def _token(self, start_response, body: str, headers: dict[str, str]) -> list[bytes]:
        self.token_requests += 1
        try:
            answer = self.provider.handle_token_request(body, headers).to_dict()
        except OAuthError as exc:
            return self._json(start_response, {"error": getattr(exc, "oauth_error",
                                                                "invalid_request")},
                              "400 Bad Request")
        if self.tamper_token is not None:
            answer = self.tamper_token(answer)
        return self._json(start_response, answer)

    def _userinfo(self, start_response, query: str, headers: dict[str, str]) -> list[bytes]:
        try:
            answer = self.provider.handle_userinfo_request(query, headers).to_dict()
        except (BearerTokenError, OAuthError):
            return self._json(start_response, {"error": "invalid_token"}, "401 Unauthorized")
        if self.tamper_userinfo is not None:
            answer = self.tamper_userinfo(answer)
        return self._json(start_response, answer)

    @staticmethod
    def _json(start_response, data: dict, status: str = "200 OK") -> list[bytes]:
        body = json.dumps(data).encode()
        start_response(status, [("Content-Type", "application/json"),
                                ("Content-Length", str(len(body)))])
        return [body]


def now() -> int:
    return int(time.time())
