"""Per-partner pseudonymous subject identifiers.

HMAC-SHA256 under a secret kept in the data folder: stable across restarts and
workers, different for every sector, and not reversible without the secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac


def pairwise_id(secret: bytes, sector: str, subject: str) -> str:
    mac = hmac.new(secret, f"{sector}\x00{subject}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
