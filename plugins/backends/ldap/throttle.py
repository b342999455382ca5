"""Lockout per account and rate limit per client address, in the shared store.

Both count with ``store.incr`` (atomic, fixed window), so they hold across gunicorn workers
and hosts. Keys never hold the login or the address in clear: a keyed hash of the normalised
login (lower-cased, trimmed) and of the address, HMAC-SHA256 under a key of the proxy's (so a
copy of the store cannot be checked against guessed logins or addresses). Unknown logins are
counted exactly like existing ones, so the lockout itself tells nothing about which accounts exist.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FAILURES_NAMESPACE = "ldap-echecs"
ATTEMPTS_NAMESPACE = "ldap-tentatives"


def keyed_hash(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 of ``parts`` under ``key``: a store key that names nobody to whoever lacks
    the key."""
    data = "\x00".join(parts).encode("utf-8", "replace")
    return hmac.new(key, data, hashlib.sha256).hexdigest()


def throttle_key(secret: bytes) -> bytes:
    """The throttle's own key, derived from a secret of the proxy's data folder (the pairwise
    secret, which never rotates, so counters survive key rotations; the CSRF secret for a
    configuration that names no other) with a label of its own, so neither use can stand
    for the other."""
    return hmac.new(secret, b"ncconnect/ldap-throttle/v1", hashlib.sha256).digest()


def login_key(key: bytes, source_id: str, login: str) -> str:
    """Keyed hash of the normalised login: the same account whatever the case or spaces
    typed."""
    return keyed_hash(key, source_id, login.strip().lower())


def client_address(headers: Mapping[str, str], trusted_proxies: Iterable[str]) -> str:
    """``REMOTE_ADDR``, or the last address ``X-Forwarded-For`` names that is not one of our
    own proxies, when (and only when) the request came from a listed proxy."""
    remote = headers.get("REMOTE_ADDR", "") or "?"
    trusted = [ipaddress.ip_network(p, strict=False) for p in trusted_proxies]

    def is_trusted(addr: str) -> bool:
        try:
            ip = ipaddress.ip_address(addr.strip())
        except ValueError:
            return False
        return any(ip in net for net in trusted)

    if not trusted or not is_trusted(remote):
        return remote
    hops = [h.strip() for h in headers.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not is_trusted(hop):
            return hop
    return remote


@dataclass(frozen=True)
class Blocked:
    """Until when (epoch seconds) a login is refused without asking the directory."""

    until: float


class Throttle:
    def __init__(self, store: Any, source_id: str, lockout: Mapping[str, int],
                 rate_limit: Mapping[str, int], key: bytes) -> None:
        self.store = store
        self.key = key
        self.source_id = source_id
        self.failures, self.lock_seconds = int(lockout["failures"]), int(lockout["minutes"]) * 60
        self.attempts, self.rate_seconds = (int(rate_limit["attempts"]),
                                            int(rate_limit["minutes"]) * 60)

    def attempt_from(self, address: str) -> Blocked | None:
        """Count one attempt from ``address``; blocked when over the limit."""
        key = keyed_hash(self.key, self.source_id, address)
        count, left = self.store.incr(ATTEMPTS_NAMESPACE, key, self.rate_seconds)
        return Blocked(time.time() + left) if count > self.attempts else None

    def locked(self, login: str) -> Blocked | None:
        key = login_key(self.key, self.source_id, login)
        count, left = self.store.count(FAILURES_NAMESPACE, key)
        return Blocked(time.time() + left) if count >= self.failures else None

    def failed(self, login: str) -> Blocked | None:
        """Count one failure; the lockout starts with the failure that reaches the limit."""
        key = login_key(self.key, self.source_id, login)
        count, left = self.store.incr(FAILURES_NAMESPACE, key, self.lock_seconds)
        return Blocked(time.time() + left) if count >= self.failures else None

    def succeeded(self, login: str) -> None:
        """A right password ends the account's count of failures: a citizen's typos of last
        week do not add to today's."""
        self.store.reset(FAILURES_NAMESPACE, login_key(self.key, self.source_id, login))
