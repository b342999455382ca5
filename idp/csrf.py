"""CSRF tokens bound to one login flow and one form.

The token is an HMAC of the flow id and the form name, so a token taken from
another flow (or another citizen's browser) never validates, and no server
storage is needed.
"""

from __future__ import annotations

import hashlib
import hmac


def csrf_token(secret: bytes, flow_id: str, form: str) -> str:
    return hmac.new(secret, f"{flow_id}\x00{form}".encode(), hashlib.sha256).hexdigest()


def csrf_ok(secret: bytes, flow_id: str, form: str, token: object) -> bool:
    if not isinstance(token, str) or not flow_id:
        return False
    return hmac.compare_digest(csrf_token(secret, flow_id, form), token)
