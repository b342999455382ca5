"""PKCE (RFC 7636), S256 only: "plain" would hand the verifier to anyone who saw the request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

#: A S256 challenge is base64url without padding; 43-128 characters.
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43,128}")
#: RFC 7636 §4.1: unreserved characters, 43-128 of them.
_VERIFIER = re.compile(r"[A-Za-z0-9._~-]{43,128}")

METHOD = "S256"


def challenge_is_well_formed(challenge: str) -> bool:
    return _CHALLENGE.fullmatch(challenge) is not None


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verifier_matches(verifier: str, challenge: str) -> bool:
    """True when ``verifier`` is well formed and hashes to ``challenge`` (constant time)."""
    if _VERIFIER.fullmatch(verifier) is None:
        return False
    return hmac.compare_digest(s256(verifier), challenge)
