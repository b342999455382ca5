"""What binds an authorization code to the request that asked for it: PKCE and ``nonce``.

RFC 9700 §2.1.1 (OAuth 2.0 Security BCP): a code must be bound to its flow, by PKCE or,
for an OpenID Connect client, by the ``nonce`` its ID token echoes. NC Connect's policy:

* PKCE S256 is required unless the partner file says ``require_pkce: false``, which only a
  confidential client may say (a public client has no other proof at the token endpoint;
  the schema refuses the setting, and :attr:`.clients.Client.pkce_required` ignores it).
  mod_auth_openidc 2.4 sends no PKCE by default: such a client is registered
  ``require_pkce: false`` or configured with ``OIDCPKCEMethod S256``.
* PKCE a client sends is enforced, whatever its partner file says: a challenge at the
  authorization endpoint requires the matching verifier at the token endpoint (no
  downgrade), and a verifier without a challenge is refused (pyop would skip the check).
* ``nonce`` may be left out only by a request carrying a PKCE challenge; the ID token then
  carries no ``nonce`` claim (OIDC Core §2: present only when the request had one).

Refusals say which partner-file setting governs them, so the partner's developer and the
federation's administrator know what to change. Descriptions are short ASCII and never
quote a request value.
"""

from __future__ import annotations

from . import pkce
from .clients import Client
from .errors import OAuthError

#: Why PKCE is enforced at the token endpoint even for a client that may omit it.
_SENT_IS_ENFORCED = "PKCE sent is always enforced, whatever oidc.require_pkce says"

CHALLENGE_REQUIRED = (
    "code_challenge is required for this client (partner file: oidc.require_pkce; set the RP "
    "to send PKCE S256, e.g. OIDCPKCEMethod S256, or register require_pkce: false for a "
    "confidential client)")
CHALLENGE_REQUIRED_PUBLIC = (
    "code_challenge is required for a public client (partner file: "
    "oidc.token_endpoint_auth_method none; send PKCE S256, e.g. OIDCPKCEMethod S256)")
NONCE_REQUIRED = (
    "nonce is required when no code_challenge is sent (RFC 9700 2.1.1; partner file: "
    "oidc.require_pkce is false for this client; send a nonce, or PKCE S256)")
METHOD_WITHOUT_CHALLENGE = (
    "code_challenge_method without code_challenge (PKCE: send both, method S256)")
METHOD_NOT_S256 = "code_challenge_method must be S256 (plain or none is refused)"
CHALLENGE_MALFORMED = "code_challenge is malformed (S256: 43 to 128 base64url characters)"
VERIFIER_MISSING = f"code_verifier is required: a code_challenge was sent ({_SENT_IS_ENFORCED})"
VERIFIER_MISMATCH = f"code_verifier does not match code_challenge ({_SENT_IS_ENFORCED})"
VERIFIER_WITHOUT_CHALLENGE = (
    "code_verifier sent but the authorization request had no code_challenge (send both, "
    "or neither if the partner file says oidc.require_pkce: false)")


class BindingRefused(Exception):
    """An authorization request whose code would not be bound (``invalid_request``)."""

    def __init__(self, description: str) -> None:
        super().__init__(description)
        self.error = "invalid_request"
        self.description = description


def checked_challenge(client: Client, challenge: str | None, method: str | None) -> str | None:
    """The request's S256 challenge, ``None`` when this client may and did omit PKCE."""
    if challenge is None:
        if method is not None:
            raise BindingRefused(METHOD_WITHOUT_CHALLENGE)
        if client.is_public:
            raise BindingRefused(CHALLENGE_REQUIRED_PUBLIC)
        if client.pkce_required:
            raise BindingRefused(CHALLENGE_REQUIRED)
        return None
    # RFC 7636 §4.3: no method means "plain", which is refused like an explicit one.
    if method != pkce.METHOD:
        raise BindingRefused(METHOD_NOT_S256)
    if not pkce.challenge_is_well_formed(challenge):
        raise BindingRefused(CHALLENGE_MALFORMED)
    return challenge


def check_nonce(nonce: str | None, challenge: str | None) -> None:
    """A code needs at least one binding: the nonce, or the PKCE challenge."""
    if nonce is None and challenge is None:
        raise BindingRefused(NONCE_REQUIRED)


def check_verifier(challenge: str | None, verifier: str | None) -> None:
    """At the token endpoint, for the grant's challenge (``invalid_grant`` otherwise)."""
    if challenge is None:
        if verifier is not None:
            raise OAuthError("invalid_grant", VERIFIER_WITHOUT_CHALLENGE)
        return
    if verifier is None:
        raise OAuthError("invalid_grant", VERIFIER_MISSING)
    if not pkce.verifier_matches(verifier, challenge):
        raise OAuthError("invalid_grant", VERIFIER_MISMATCH)
