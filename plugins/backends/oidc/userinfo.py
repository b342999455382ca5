"""UserInfo request (OIDC Core §5.3): plain JSON only, and about the ID token's subject.

A signed or encrypted UserInfo (``application/jwt``) is refused rather than
half-verified; the ``sub`` check (§5.3.2) stops a token substitution from
attaching someone else's claims to this login.
"""

from __future__ import annotations

import hmac
from typing import Any

from .errors import InvalidSourceResponse
from .fetch import Trust, call_json


def fetch_userinfo(endpoint: str, access_token: str, expected_sub: str,
                   trust: Trust) -> dict[str, Any]:
    reply = call_json("GET", endpoint, what="userinfo", trust=trust,
                      headers={"Authorization": f"Bearer {access_token}",
                               "Accept": "application/json"})
    if reply.status != 200:
        raise InvalidSourceResponse(f"userinfo: HTTP {reply.status}")
    if reply.media_type != "application/json":
        raise InvalidSourceResponse("userinfo: answer is not application/json")
    sub = reply.data.get("sub")
    if not isinstance(sub, str) or not hmac.compare_digest(sub.encode(), expected_sub.encode()):
        raise InvalidSourceResponse("userinfo: sub differs from the ID token's sub")
    return reply.data
