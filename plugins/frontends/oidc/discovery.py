"""OpenID Provider metadata (OIDC Discovery §3, RFC 8414) and the public key set.

The document says exactly what the provider does: code flow only, query
response mode, pairwise subjects, RS256, S256 PKCE, no request objects, the
``iss`` authorization response parameter (RFC 9207), the algorithms a
``private_key_jwt`` client may sign its assertions with and, when single logout is
configured, the end-session endpoint and back-channel logout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .client_jwks import KEY_TYPE
from .clients import AUTH_METHODS
from .id_token import ALG
from .pkce import METHOD

#: Claims about the authentication itself, always present in ID tokens.
PROTOCOL_CLAIMS = ("sub", "iss", "aud", "azp", "exp", "iat", "auth_time", "nonce", "at_hash",
                   "acr", "sid")


@dataclass(frozen=True)
class Endpoints:
    issuer: str
    name: str

    def url(self, path: str) -> str:
        return f"{self.issuer.rstrip('/')}/{path}"

    @property
    def authorization(self) -> str:
        return self.url(f"{self.name}/authorize")

    @property
    def token(self) -> str:
        return self.url(f"{self.name}/token")

    @property
    def userinfo(self) -> str:
        return self.url(f"{self.name}/userinfo")

    @property
    def jwks(self) -> str:
        return self.url(f"{self.name}/jwks")

    @property
    def end_session(self) -> str:
        return self.url(f"{self.name}/logout")


def provider_metadata(endpoints: Endpoints, scopes: dict[str, tuple[str, ...]]
                      ) -> dict[str, Any]:
    identity_claims = sorted({c for claims in scopes.values() for c in claims})
    return {
        "issuer": endpoints.issuer,
        "authorization_endpoint": endpoints.authorization,
        "token_endpoint": endpoints.token,
        "userinfo_endpoint": endpoints.userinfo,
        "jwks_uri": endpoints.jwks,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": [ALG],
        "code_challenge_methods_supported": [METHOD],
        "token_endpoint_auth_methods_supported": list(AUTH_METHODS),
        "token_endpoint_auth_signing_alg_values_supported": list(KEY_TYPE),
        "scopes_supported": ["openid", *sorted(s for s in scopes if s != "openid")],
        "claims_supported": [*PROTOCOL_CLAIMS, *identity_claims],
        "claims_parameter_supported": True,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "authorization_response_iss_parameter_supported": True,
    }


def logout_metadata(endpoints: Endpoints) -> dict[str, Any]:
    """RP-Initiated Logout 1.0 §2.1 and Back-Channel Logout 1.0 §2.1: where to send the
    citizen to log out, and that logout tokens carry ``sid`` (and ``sub``). No front-channel
    logout: relying parties are told over the back channel only."""
    return {
        "end_session_endpoint": endpoints.end_session,
        "backchannel_logout_supported": True,
        "backchannel_logout_session_supported": True,
        "frontchannel_logout_supported": False,
    }
