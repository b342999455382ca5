"""CSRF tokens bound to one login flow and one form.

The token is an HMAC of the flow id and the form name, so a token taken from
another flow (or another citizen's browser) never validates, and no server
storage is needed.

The secret rotates with overlap (:mod:`idp.keyring`): tokens are made with the active CSRF
secret and accepted with any secret not retired, so a form shown before ``ncconnect keys
activate csrf`` is still accepted after it, for as long as the previous secret is kept (at
least a flow's, a consent screen's and an account session's lifetime: ``keys retire``
refuses earlier).
"""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

from .keyring.secret_set import SecretSet, secret_set

Secrets = bytes | SecretSet


def csrf_secrets(path: str | Path) -> SecretSet:
    """The CSRF secrets of the keys folder holding ``path`` (``csrf_secret_path``)."""
    return secret_set(Path(path), "csrf")


def active_secret(secret: Secrets) -> bytes:
    return secret.active if isinstance(secret, SecretSet) else secret


def accepted_secrets(secret: Secrets) -> list[bytes]:
    return secret.accepted if isinstance(secret, SecretSet) else [secret]


def csrf_token(secret: Secrets, flow_id: str, form: str) -> str:
    message = f"{flow_id}\x00{form}".encode()
    return hmac.new(active_secret(secret), message, hashlib.sha256).hexdigest()


def csrf_ok(secret: Secrets, flow_id: str, form: str, token: object) -> bool:
    if not isinstance(token, str) or not flow_id:
        return False
    message = f"{flow_id}\x00{form}".encode()
    # Every accepted secret is tried (no early exit), so timing tells nothing of which matched.
    matches = [hmac.compare_digest(hmac.new(s, message, hashlib.sha256).hexdigest(), token)
               for s in accepted_secrets(secret)]
    return any(matches)
