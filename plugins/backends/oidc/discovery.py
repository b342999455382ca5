"""Provider metadata (OpenID Connect Discovery 1.0), fetched at first use and cached per process.

Fetched lazily so that a source being down at start-up does not stop the proxy;
cached (one hour by default) so that a login costs no extra round trip. A
failed fetch is not cached: the next login tries again.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .errors import InvalidSourceResponse
from .fetch import SYSTEM_STORE, Trust, call_json
from .urls import checked_url

#: How long provider metadata is trusted before being fetched again.
METADATA_TTL = 3600


@dataclass(frozen=True)
class ProviderMetadata:
    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str | None
    jwks_uri: str
    #: RFC 9207: the provider promises an ``iss`` parameter in authorization responses.
    iss_parameter_supported: bool


def well_known_url(issuer: str) -> str:
    return issuer.rstrip("/") + "/.well-known/openid-configuration"


def parse_metadata(data: dict, issuer: str, signing_alg: str,
                   allow_loopback_http: bool) -> ProviderMetadata:
    """Validate a discovery document for the configured ``issuer``; raise if unusable."""
    if data.get("issuer") != issuer:
        # Exact comparison (OIDC Discovery §4.3): no normalisation, no trailing-slash tolerance.
        raise InvalidSourceResponse("discovery: issuer in metadata differs from the configured one")

    def url(name: str) -> str:
        return checked_url(data.get(name), allow_loopback_http, f"discovery: {name}")

    algs = data.get("id_token_signing_alg_values_supported")
    if isinstance(algs, list) and signing_alg not in algs:
        raise InvalidSourceResponse(f"discovery: provider does not list {signing_alg} in "
                                    "id_token_signing_alg_values_supported")
    userinfo = data.get("userinfo_endpoint")
    return ProviderMetadata(
        issuer=issuer,
        authorization_endpoint=url("authorization_endpoint"),
        token_endpoint=url("token_endpoint"),
        userinfo_endpoint=url("userinfo_endpoint") if userinfo is not None else None,
        jwks_uri=url("jwks_uri"),
        iss_parameter_supported=data.get("authorization_response_iss_parameter_supported") is True,
    )


class Discovery:
    """Per-process cache of one provider's metadata."""

    def __init__(self, issuer: str, signing_alg: str, allow_loopback_http: bool,
                 ttl: int = METADATA_TTL, clock: Callable[[], float] = time.monotonic,
                 trust: Trust = SYSTEM_STORE) -> None:
        self.issuer = checked_url(issuer, allow_loopback_http, "configured issuer")
        self.trust = trust
        self.signing_alg = signing_alg
        self.allow_loopback_http = allow_loopback_http
        self.ttl = ttl
        self.clock = clock
        self._lock = threading.Lock()
        self._cached: ProviderMetadata | None = None
        self._fetched_at = 0.0

    def metadata(self) -> ProviderMetadata:
        with self._lock:
            if self._cached is not None and self.clock() - self._fetched_at < self.ttl:
                return self._cached
        reply = call_json("GET", well_known_url(self.issuer), what="discovery",
                          trust=self.trust)
        if reply.status != 200:
            raise InvalidSourceResponse(f"discovery: HTTP {reply.status}")
        meta = parse_metadata(reply.data, self.issuer, self.signing_alg, self.allow_loopback_http)
        with self._lock:
            self._cached, self._fetched_at = meta, self.clock()
        return meta
