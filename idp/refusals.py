"""Logins that end with a protocol error to the service, and which error.

SATOSA carries "the login did not succeed" from any step to the frontend as a
:class:`~satosa.exception.SATOSAAuthenticationError`; the frontend answers the
service in its protocol (``handle_backend_error``). Until now every such error meant
"the usager or the source said no". :class:`LoginRefused` names *why*, from a short
fixed list, so that each frontend can answer with the right code:

* ``access_denied``: OIDC ``access_denied``; SAML ``RequestDenied``;
* ``login_required``: OIDC ``login_required``; SAML ``NoPassive``;
* ``consent_required``: OIDC ``consent_required``; SAML ``NoPassive``;
* ``level_unreachable``: OIDC ``unmet_authentication_requirements``; SAML
  ``NoAuthnContext`` (second-level statuses under ``Responder``).

``unmet_authentication_requirements`` is the code of *OpenID Connect Core — Unmet
Authentication Requirements 1.0*. Any other ``SATOSAAuthenticationError`` keeps its
old meaning (OIDC ``access_denied``; SAML ``RequestDenied`` when its message says
``access_denied``, ``AuthnFailed`` otherwise).

The consent screen may raise ``consent_required(context)`` itself when the request is
passive (:func:`idp.authn_requirements.requirements_of`) and the screen would have to
be shown; if it shows the screen anyway, the SSO-session record answers
``consent_required`` in its place (:mod:`plugins.micro_services.session_record`).

Raised from a *request* micro-service, the error must still find its way back to
the frontend: SATOSA only notes which frontend a flow belongs to when it routes to a
backend, so the helpers below note it first (from ``context.target_frontend``).
"""

from __future__ import annotations

from typing import Any

from satosa.context import Context
from satosa.exception import SATOSAAuthenticationError
from satosa.routing import STATE_KEY as ROUTER_STATE_KEY

ACCESS_DENIED = "access_denied"
LOGIN_REQUIRED = "login_required"
CONSENT_REQUIRED = "consent_required"
LEVEL_UNREACHABLE = "level_unreachable"
REASONS = frozenset({ACCESS_DENIED, LOGIN_REQUIRED, CONSENT_REQUIRED, LEVEL_UNREACHABLE})


class LoginRefused(SATOSAAuthenticationError):
    """A login ended without an identity, for ``reason`` (one of :data:`REASONS`)."""

    def __init__(self, state: Any, reason: str) -> None:
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}")
        super().__init__(state, reason)
        self.reason = reason


def refusal(context: Context, reason: str) -> LoginRefused:
    """The error to raise to end this login with ``reason``, routed to its frontend."""
    if context.state.get(ROUTER_STATE_KEY) is None and context.target_frontend:
        context.state[ROUTER_STATE_KEY] = context.target_frontend
    return LoginRefused(context.state, reason)


def login_required(context: Context) -> LoginRefused:
    """The request was passive and the citizen would have to sign in."""
    return refusal(context, LOGIN_REQUIRED)


def consent_required(context: Context) -> LoginRefused:
    """The request was passive and the consent screen would have to be shown."""
    return refusal(context, CONSENT_REQUIRED)


def level_unreachable(context: Context) -> LoginRefused:
    """The level asked for is unknown, or no source the service accepts reaches it."""
    return refusal(context, LEVEL_UNREACHABLE)


def reason_of(exception: Any) -> str | None:
    """The reason of a :class:`LoginRefused`; ``None`` for any other error."""
    return exception.reason if isinstance(exception, LoginRefused) else None
