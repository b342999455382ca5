"""When the citizen authenticated, as the identity source reported it.

Both frontends pass it on (OIDC ``auth_time``, SAML ``AuthnInstant``); sources send
epoch seconds or ISO-8601 text, and a missing, malformed or future value must not
be trusted, so it becomes "now".
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any


def auth_time_of(timestamp: Any) -> int:
    """Epoch seconds of the authentication; now when the source gave nothing usable."""
    now = int(time.time())
    value: float | None = None
    if isinstance(timestamp, int | float) and not isinstance(timestamp, bool):
        value = float(timestamp)
    elif isinstance(timestamp, str) and timestamp:
        try:
            value = float(timestamp)
        except ValueError:
            try:
                parsed = dt.datetime.fromisoformat(timestamp)
            except ValueError:
                parsed = None
            if parsed is not None:
                if parsed.tzinfo is None:
                    parsed = parsed.replace(tzinfo=dt.UTC)
                value = parsed.timestamp()
    if value is None or value != value or not 0 < value <= now:  # value != value: NaN
        return now
    return int(value)
