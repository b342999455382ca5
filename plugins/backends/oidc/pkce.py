"""PKCE (RFC 7636), S256 only: binds the authorization code to this login's browser flow.

Even with a confidential client, PKCE stops a stolen or injected authorization
code from being redeemed in another flow.
"""

from __future__ import annotations

import base64
import hashlib
import secrets


def new_verifier() -> str:
    """86 characters of the unreserved alphabet (RFC 7636 §4.1 asks for 43 to 128)."""
    return secrets.token_urlsafe(64)


def s256_challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
