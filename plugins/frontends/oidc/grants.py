"""Codes and access tokens, kept in the shared store so any worker can serve any step.

Records are keyed by the SHA-256 of the code or token, not by its value: a copy
of the store (SQLite file, Redis dump) hands out no usable credential. What a grant holds
(``sub``, claims, nonce…) is sealed under the code, then under the access token
(:mod:`idp.stores.sealing`): only the holder of the code or token opens it, and a copy
of the store reveals no claim value. A code is
redeemed with ``take``, atomic across processes: of two concurrent redemptions
exactly one gets the grant. A redeemed code leaves a marker naming the access
token issued from it, so that a replay revokes that token (RFC 6749 §4.1.2).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import asdict, dataclass
from typing import Any

from satosa.context import Context

from idp import correlation
from idp.app import write_with_flow
from idp.stores import Put, Store
from idp.stores.sealing import Unsealable, seal, unseal

from .settings import Lifetimes

logger = logging.getLogger("ncconnect.oidc")

CODE_NS = "oidc-code"
TOKEN_NS = "oidc-access-token"
REDEEMED_NS = "oidc-code-redeemed"


def digest(value: str) -> str:
    """Store key for a code or token: its SHA-256, so the store never holds the value."""
    return hashlib.sha256(value.encode("utf-8", errors="surrogatepass")).hexdigest()


@dataclass(frozen=True)
class CodeGrant:
    """What an authorization code stands for, until the client redeems it."""

    client_id: str
    redirect_uri: str
    #: ``None`` when the request bound the code by PKCE alone (:mod:`.binding`).
    nonce: str | None
    code_challenge: str | None
    sub: str
    claims: dict[str, Any]
    id_token_claims: list[str]
    auth_time: int
    acr: str | None
    #: This client's id of the citizen's SSO session (OIDC ``sid`` claim, for logout).
    sid: str | None = None

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CodeGrant:
        return cls(**record)


@dataclass(frozen=True)
class AccessGrant:
    """What an access token gives: the subject and claims of one grant, for one client."""

    client_id: str
    sub: str
    claims: dict[str, Any]


class GrantStore:
    def __init__(self, store: Store, lifetimes: Lifetimes) -> None:
        self.store = store
        self.lifetimes = lifetimes

    def issue_code(self, grant: CodeGrant, context: Context | None = None) -> str:
        """A new code; with the request's ``context``, stored with its flow state (one round
        trip, before the redirect carrying the code leaves)."""
        code = secrets.token_urlsafe(32)
        key = digest(code)
        # The login id (random, no personal data) lets the token and userinfo calls log
        # under the login they finish (idp.correlation).
        put = Put(CODE_NS, key, {"client_id": grant.client_id,
                                 "login_id": correlation.login_id(),
                                 "sealed": seal(code, CODE_NS, key, asdict(grant))},
                  self.lifetimes.code)
        if context is not None:
            write_with_flow(context, self.store, put)
        else:
            self.store.put_many([put])
        return code

    def redeem_code(self, code: str) -> CodeGrant | None:
        """The grant, once; ``None`` for unknown, expired or already redeemed codes."""
        key = digest(code)
        record = self.store.take(CODE_NS, key)
        if record is not None:
            correlation.join(record.get("login_id"))
            try:
                return CodeGrant.from_record(unseal(code, CODE_NS, key, record.get("sealed")))
            except (TypeError, Unsealable):
                logger.error("unreadable authorization code record")
                return None
        redeemed = self.store.get(REDEEMED_NS, key)
        if redeemed is not None:
            self.store.delete(TOKEN_NS, str(redeemed.get("access_token", "")))
            logger.warning("authorization code replayed: access token revoked",
                           extra={"client": redeemed.get("client_id")})
        return None

    def issue_access_token(self, code: str, grant: CodeGrant) -> str:
        token = secrets.token_urlsafe(32)
        access = AccessGrant(client_id=grant.client_id, sub=grant.sub, claims=grant.claims)
        ttl = self.lifetimes.access_token
        key = digest(token)
        # The token and the redeemed-code marker in one round trip (one transaction); the
        # marker lives as long as the token it may have to revoke.
        self.store.put_many([
            Put(TOKEN_NS, key, {"client_id": grant.client_id,
                                "login_id": correlation.login_id(),
                                "sealed": seal(token, TOKEN_NS, key, asdict(access))}, ttl),
            Put(REDEEMED_NS, digest(code),
                {"access_token": digest(token), "client_id": grant.client_id}, ttl)])
        return token

    def access_grant(self, token: str) -> AccessGrant | None:
        key = digest(token)
        record = self.store.get(TOKEN_NS, key)
        if record is None:
            return None
        correlation.join(record.get("login_id"))
        try:
            return AccessGrant(**unseal(token, TOKEN_NS, key, record.get("sealed")))
        except (TypeError, Unsealable):
            logger.error("unreadable access token record")
            return None
