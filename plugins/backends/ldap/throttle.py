"""Lockout per account and rate limit per client address, in the shared store.

Both count with ``store.incr`` (atomic, fixed window), so they hold across gunicorn workers
and hosts. Keys never hold the login or the address in clear: a keyed hash of the normalised
login (lower-cased, trimmed) and of the address. Unknown logins are counted exactly like
existing ones, so the lockout itself tells nothing about which accounts exist.
"""

from __future__ import annotations

import hashlib
import ipaddress
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FAILURES_NAMESPACE = "ldap-echecs"
ATTEMPTS_NAMESPACE = "ldap-tentatives"


def login_key(source_id: str, login: str) -> str:
    """Hash of the normalised login: the same account whatever the case or spaces typed."""
    normalised = login.strip().lower()
    return hashlib.sha256(f"{source_id}\x00{normalised}".encode("utf-8", "replace")).hexdigest()


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
                 rate_limit: Mapping[str, int]) -> None:
        self.store = store
        self.source_id = source_id
        self.failures, self.lock_seconds = int(lockout["failures"]), int(lockout["minutes"]) * 60
        self.attempts, self.rate_seconds = (int(rate_limit["attempts"]),
                                            int(rate_limit["minutes"]) * 60)

    def attempt_from(self, address: str) -> Blocked | None:
        """Count one attempt from ``address``; blocked when over the limit."""
        key = hashlib.sha256(f"{self.source_id}\x00{address}".encode()).hexdigest()
        count, left = self.store.incr(ATTEMPTS_NAMESPACE, key, self.rate_seconds)
        return Blocked(time.time() + left) if count > self.attempts else None

    def locked(self, login: str) -> Blocked | None:
        count, left = self.store.count(FAILURES_NAMESPACE, login_key(self.source_id, login))
        return Blocked(time.time() + left) if count >= self.failures else None

    def failed(self, login: str) -> Blocked | None:
        """Count one failure; the lockout starts with the failure that reaches the limit."""
        count, left = self.store.incr(FAILURES_NAMESPACE, login_key(self.source_id, login),
                                      self.lock_seconds)
        return Blocked(time.time() + left) if count >= self.failures else None

    def succeeded(self, login: str) -> None:
        """A right password ends the account's count of failures: a citizen's typos of last
        week do not add to today's."""
        self.store.reset(FAILURES_NAMESPACE, login_key(self.source_id, login))
