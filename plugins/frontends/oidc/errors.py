"""Protocol errors: what a *trusted* client receives instead of a page of ours.

Errors before the client and its redirect URI are known end on our own page
(:class:`idp.errors.FlowError`); once they are known, errors travel back to the
client in OAuth form (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1). Descriptions are
for developers and never carry a token, a code or a personal datum.
"""

from __future__ import annotations


class OAuthError(Exception):
    """An OAuth error answered as JSON (token and userinfo endpoints)."""

    def __init__(self, error: str, description: str, status: int = 400,
                 headers: list[tuple[str, str]] | None = None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or []


def invalid_client(description: str) -> OAuthError:
    """RFC 6749 §5.2: 401 with a challenge, whatever scheme the client tried."""
    return OAuthError("invalid_client", description, 401,
                      [("WWW-Authenticate", 'Basic realm="NC Connect"')])


def invalid_token(description: str) -> OAuthError:
    """RFC 6750 §3.1: the bearer token is unknown, expired or revoked."""
    return OAuthError("invalid_token", description, 401,
                      [("WWW-Authenticate", 'Bearer realm="NC Connect", error="invalid_token"')])


class AuthorizationRefused(Exception):
    """An authorization request refused *after* its redirect URI was found registered.

    ``state`` is the client's value when it was readable, so the client can match
    the error to its request.
    """

    def __init__(self, error: str, description: str, redirect_uri: str,
                 state: str | None) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.redirect_uri = redirect_uri
        self.state = state
