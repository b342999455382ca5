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
from typing import Any

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


def posted_form(context: Any, base_url: str, secret: Secrets, bound_to: str, form: str,
                code: str = "compte_formulaire_invalide") -> dict[str, str]:
    """The fields of a state-changing form, after both locks: posted from our own origin
    (:func:`idp.same_origin.posted_from`) and carrying the CSRF token of ``form`` bound to
    ``bound_to`` (a flow or a session id). Otherwise a :class:`~idp.errors.FlowError` 403 with
    ``code`` (405 for anything but a POST)."""
    from .errors import FlowError
    from .same_origin import posted_from

    if getattr(context, "request_method", None) != "POST":
        raise FlowError("methode_non_autorisee", 405, f"{form}: needs POST")
    fields = context.request if isinstance(context.request, dict) else {}
    if not posted_from(context, base_url):
        raise FlowError(code, 403, f"{form}: posted from another origin")
    if not csrf_ok(secret, bound_to, form, fields.get("csrf")):
        raise FlowError(code, 403, f"{form}: CSRF token invalid")
    return fields
