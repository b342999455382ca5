"""What the directory says about an account when the citizen binds: accepted, wrong password,
or a password-policy state (locked, expired, must change) shown as a clear French message.

The bind asks for the password-policy response control (draft-behera-ldap-password-policy,
OID 1.3.6.1.4.1.42.2.27.8.5.1, OpenLDAP's ``ppolicy`` overlay): with it, OpenLDAP says *why*
a bind was refused (a locked account answers 49 like a wrong password, the control tells them
apart) and that a bind accepted needs a new password first. ldap3 does not decode this control;
:func:`policy_error` reads its few bytes of BER. Without the control (another directory),
the result code alone decides: 49 is a wrong password, 53 a disabled account.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from plugins.ldap.directory import Directory, DirectoryUnavailable

PPOLICY_OID = "1.3.6.1.4.1.42.2.27.8.5.1"
#: ppolicy ``error`` values (ENUMERATED in the control).
PASSWORD_EXPIRED, ACCOUNT_LOCKED, CHANGE_AFTER_RESET = 0, 1, 2


class State(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"          # wrong password (or unknown login: same message)
    LOCKED = "locked"            # locked by the directory's own policy
    EXPIRED = "expired"          # password expired
    MUST_CHANGE = "must_change"  # password reset by an agent: to be changed first
    DISABLED = "disabled"        # unwillingToPerform: account disabled


@dataclass(frozen=True)
class Answer:
    state: State
    result: int | None = None


def policy_error(value: bytes | None) -> int | None:
    """The ``error`` of a PasswordPolicyResponseValue (SEQUENCE { [0] warning OPTIONAL,
    [1] error OPTIONAL }), or ``None`` when absent or unreadable."""
    if not value or len(value) < 2 or value[0] != 0x30:
        return None
    end = min(len(value), 2 + value[1]) if value[1] < 0x80 else len(value)
    i = 2 if value[1] < 0x80 else 2 + (value[1] & 0x7F)
    while i + 1 < end:
        tag, length = value[i], value[i + 1]
        body = value[i + 2:i + 2 + length]
        if tag == 0x81 and body:
            return int.from_bytes(body, "big")
        i += 2 + length
    return None


def bind_as(directory: Directory, dn: str, password: str) -> Answer:
    """Bind as ``dn`` asking for the password policy control; the directory's trouble is
    :class:`DirectoryUnavailable`, the account's state an :class:`Answer`."""
    if not password or len(password) > 1024 or "\x00" in password:
        return Answer(State.REFUSED, 49)
    accepted, result = directory.bind(dn, password, [(PPOLICY_OID, False, None)])
    code = result.get("result")
    control = (result.get("controls") or {}).get(PPOLICY_OID) or {}
    error = policy_error(control.get("value") if isinstance(control, dict) else None)
    if accepted:
        return Answer(State.MUST_CHANGE if error == CHANGE_AFTER_RESET else State.ACCEPTED, code)
    if error == ACCOUNT_LOCKED:
        return Answer(State.LOCKED, code)
    if error == PASSWORD_EXPIRED:
        return Answer(State.EXPIRED, code)
    if code == 53:
        return Answer(State.DISABLED, code)
    if code in (49, 19, 50):
        return Answer(State.REFUSED, code)
    raise DirectoryUnavailable(f"{directory.settings.name}: bind result {code}")
