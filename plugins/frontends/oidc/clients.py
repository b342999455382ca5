"""The registered relying parties, as assembled from ``partenaires/`` (``conf["clients"]``).

Only what the partner file says is trusted: exact redirect URIs (and post-logout
redirect URIs, and where back-channel logout tokens go), one client authentication
method, the hash of the secret (never the secret) or the public keys of a
``private_key_jwt`` client, and the claims the service may receive.

After a secret is regenerated with an overlap, the entry also carries the hash of
the previous secret and when it stops working (``previous_client_secret_sha256``,
``previous_client_secret_expires_at``, seconds since the epoch): the expiry is
compared with the clock at each authentication, so the previous secret stops
working on time without a reload.

A ``private_key_jwt`` entry carries its own ``allow_loopback_http`` (the proxy's
demo mode): the exception applies to the one URL it was checked for, and
nothing outside the entry is needed to load the client.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .client_jwks import ClientKeys, client_keys

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
#: Methods that prove the client with a shared secret.
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(frozen=True)
class Client:
    client_id: str
    service_id: str
    name: str
    redirect_uris: tuple[str, ...]
    auth_method: str
    secret_sha256: str | None
    require_pkce: bool
    allowed_claims: frozenset[str]
    #: Public keys of a ``private_key_jwt`` client (``None`` for every other method).
    keys: ClientKeys | None = field(default=None, compare=False)
    #: Where RP-initiated logout may send the browser back (matched exactly).
    post_logout_redirect_uris: tuple[str, ...] = ()
    #: Where back-channel logout tokens are posted (``None``: the client cannot be told).
    backchannel_logout_uri: str | None = None
    #: SHA-256 of the secret before the last regeneration, accepted until
    #: ``previous_secret_expires_at`` (seconds since the epoch) so the partner can switch.
    previous_secret_sha256: str | None = None
    previous_secret_expires_at: float | None = None

    @property
    def is_public(self) -> bool:
        return self.auth_method == "none"

    @property
    def pkce_required(self) -> bool:
        """Public clients cannot keep a secret: PKCE is their only proof at the token endpoint."""
        return self.require_pkce or self.is_public

    def matching_secret(self, secret: str, now: float | None = None
                        ) -> Literal["current", "previous"] | None:
        """Which registered secret ``secret`` is: the current one, the previous one while its
        overlap lasts (at ``now``, default the clock), or neither (``None``).

        Both hashes are compared in constant time, and both always: how long the answer
        takes does not tell whether a previous secret exists or which one matched."""
        if not self.secret_sha256:
            return None
        digest = hashlib.sha256(secret.encode("utf-8", errors="surrogatepass")).hexdigest()
        current = hmac.compare_digest(digest, self.secret_sha256)
        previous = hmac.compare_digest(digest, self.previous_secret_sha256 or "")
        if current:
            return "current"
        if (previous and self.previous_secret_expires_at is not None
                and (time.time() if now is None else now) < self.previous_secret_expires_at):
            return "previous"
        return None

    def secret_matches(self, secret: str, now: float | None = None) -> bool:
        """Whether ``secret`` authenticates this client (current or unexpired previous)."""
        return self.matching_secret(secret, now) is not None


def _client(client_id: str, entry: Mapping[str, Any]) -> Client:
    method = entry.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in AUTH_METHODS:
        raise ValueError(f"oidc client {client_id}: unsupported token_endpoint_auth_method "
                         f"{method!r} (one of {', '.join(AUTH_METHODS)})")
    secret = entry.get("client_secret_sha256")
    if method in SECRET_METHODS and not secret:
        raise ValueError(f"oidc client {client_id}: {method} needs client_secret_sha256")
    if method not in SECRET_METHODS and secret:
        raise ValueError(f"oidc client {client_id}: {method} clients have no secret")
    previous, expires_at = _previous_secret(client_id, method, secret, entry)
    keys: ClientKeys | None = None
    if method == "private_key_jwt":
        keys = client_keys(client_id, entry.get("jwks"), entry.get("jwks_uri"),
                           entry.get("allow_loopback_http") is True)
    elif entry.get("jwks") is not None or entry.get("jwks_uri") is not None:
        raise ValueError(f"oidc client {client_id}: jwks and jwks_uri are for private_key_jwt")
    uris = tuple(entry.get("redirect_uris") or ())
    if not uris:
        raise ValueError(f"oidc client {client_id}: no redirect_uris")
    return Client(
        client_id=client_id,
        service_id=str(entry.get("service_id") or client_id),
        name=str(entry.get("name") or client_id),
        redirect_uris=uris,
        auth_method=method,
        secret_sha256=secret if method in SECRET_METHODS else None,
        require_pkce=bool(entry.get("require_pkce", True)),
        allowed_claims=frozenset(entry.get("allowed_claims") or ()),
        keys=keys,
        post_logout_redirect_uris=tuple(entry.get("post_logout_redirect_uris") or ()),
        backchannel_logout_uri=entry.get("backchannel_logout_uri") or None,
        previous_secret_sha256=previous,
        previous_secret_expires_at=expires_at,
    )


def _previous_secret(client_id: str, method: str, secret: str | None,
                     entry: Mapping[str, Any]) -> tuple[str | None, float | None]:
    """(hash, expiry) of the previous secret of an entry, both ``None`` without one. The
    partner schema already checks this; an entry built otherwise is refused at start."""
    previous = entry.get("previous_client_secret_sha256")
    expires_at = entry.get("previous_client_secret_expires_at")
    if previous is None and expires_at is None:
        return None, None
    if method not in SECRET_METHODS or not secret:
        raise ValueError(f"oidc client {client_id}: a previous secret is only for a "
                         "secret-based client with a current secret")
    if not isinstance(previous, str) or not previous:
        raise ValueError(f"oidc client {client_id}: previous_client_secret_expires_at "
                         "without previous_client_secret_sha256")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int | float):
        raise ValueError(f"oidc client {client_id}: previous_client_secret_expires_at must be "
                         "seconds since the epoch")
    return previous, float(expires_at)


class ClientRegistry:
    """Lookup of clients by ``client_id``; unknown ids give ``None``, never an exception."""

    def __init__(self, clients: Mapping[str, Mapping[str, Any]]) -> None:
        self._clients = {cid: _client(cid, entry) for cid, entry in clients.items()}

    def get(self, client_id: str | None) -> Client | None:
        if not isinstance(client_id, str):
            return None
        return self._clients.get(client_id)

    def __iter__(self) -> Iterator[Client]:
        return iter(self._clients.values())
