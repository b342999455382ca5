"""One login, one id: every log line written while serving a login carries ``login_id``.

A login is several requests (the service's request, the source's answer, the information
screen, the token and userinfo calls of an OIDC service), served by any worker of any host.
Its id is made when the flow starts, kept in the flow state (and in the OIDC code and access
token a service redeems later), and bound to the request being served in a
:class:`~contextvars.ContextVar`: :class:`LoginIdFilter`, on every log handler, adds it to each
record. It is random, says nothing about the citizen, and is no secret.

The citizen's account key (pseudonymous, hence personal data under the RGPD) is bound the same
way once known, but only the audit stream's handler adds it (:mod:`idp.audit.stream`): the
general logs never carry it.
"""

from __future__ import annotations

import logging
import secrets
from contextvars import ContextVar

#: Flow-state key of the login id.
STATE_KEY = "ncc_login"

_login: ContextVar[str | None] = ContextVar("ncc_login_id", default=None)
_citizen: ContextVar[str | None] = ContextVar("ncc_citizen", default=None)
_source: ContextVar[str | None] = ContextVar("ncc_source", default=None)


def new_login_id() -> str:
    return secrets.token_hex(8)


def bind(login_id: str | None, citizen: str | None = None) -> None:
    """The request being served belongs to ``login_id`` (and, once known, ``citizen``)."""
    _login.set(login_id)
    _citizen.set(citizen)
    _source.set(None)


def bind_source(source: object) -> None:
    """The request is a source's answer (the backend SATOSA routed it to): back-channel
    calls it makes are that source's (metrics label, checked against the registry there)."""
    _source.set(source if isinstance(source, str) else None)


def source() -> str | None:
    return _source.get()


def join(login_id: object) -> None:
    """A server-to-server call (token, userinfo) continues the login its code or token
    records."""
    if isinstance(login_id, str) and login_id:
        _login.set(login_id)


def bind_citizen(citizen: str | None) -> None:
    _citizen.set(citizen)


def login_id() -> str | None:
    return _login.get()


def citizen() -> str | None:
    return _citizen.get()


class LoginIdFilter(logging.Filter):
    """Adds ``login_id`` to records written while a login is being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "login_id", None) is None:
            value = _login.get()
            if value is not None:
                record.login_id = value
        return True
