"""The account session: who is looking at ``/mon-compte``, held server-side.

The browser holds only a random 256-bit id (cookie ``__Secure-ncc_compte``, limited to
``/mon-compte``); the store holds, under the id's SHA-256 (never the id), the citizen's
account key and the name the page greets them with — sealed under the id
(:mod:`idp.stores.sealing`): a copy of the store gives neither a usable cookie nor the
name — for ``lifetimes.account_session`` seconds, whatever worker serves the next
request. The session is never extended: after its lifetime the citizen
signs in again, as on a shared computer they should.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from http.cookies import CookieError, SimpleCookie

from satosa.context import Context

from idp.stores import Store
from idp.stores.sealing import Unsealable, seal, unseal

NAMESPACE = "account-session"
#: ``__Secure-`` (the cookie needs Path=/mon-compte, which ``__Host-`` forbids) whenever the
#: proxy is served over https: a plain-http page can then neither set nor overwrite it.
COOKIE_NAME = "ncc_compte"
COOKIE = "__Secure-" + COOKIE_NAME
COOKIE_PATH = "/mon-compte"
#: ``secrets.token_urlsafe(32)``: 43 characters of the URL-safe base64 alphabet.
_ID = re.compile(r"^[A-Za-z0-9_-]{43}$")


@dataclass(frozen=True)
class AccountSession:
    id: str
    #: The citizen's account key: the owner of their consents and history.
    citizen: str
    greeting: str

    @property
    def key(self) -> str:
        """Where this session's records are stored: the SHA-256 of the cookie value."""
        return store_key(self.id)


def store_key(sid: str) -> str:
    return hashlib.sha256(sid.encode("ascii")).hexdigest()


class AccountSessions:
    """Sessions of one space: ``/mon-compte`` by default; the administration portal passes
    its own namespace, cookie name and path (:mod:`plugins.frontends.admin`)."""

    def __init__(self, store: Store, ttl: int, secure: bool = True, *,
                 namespace: str = NAMESPACE, cookie_name: str = COOKIE_NAME,
                 path: str = COOKIE_PATH) -> None:
        self.store = store
        self.ttl = ttl
        self.secure = secure
        self.namespace = namespace
        self.path = path
        self.cookie_name = "__Secure-" + cookie_name if secure else cookie_name

    def open(self, citizen: str, greeting: str) -> AccountSession:
        session = AccountSession(secrets.token_urlsafe(32), citizen, greeting)
        self.store.put(self.namespace, session.key, {
            "citizen": citizen,
            "greeting": seal(session.id, self.namespace, session.key, greeting)}, self.ttl)
        return session

    def current(self, context: Context) -> AccountSession | None:
        """The session the request's cookie names, if it still exists."""
        sid = _cookie_value(context.cookie or "", self.cookie_name)
        if sid is None or not _ID.match(sid):
            return None
        key = store_key(sid)
        record = self.store.get(self.namespace, key) or {}
        citizen = record.get("citizen")
        if not isinstance(citizen, str) or not citizen:
            return None
        try:
            greeting = unseal(sid, self.namespace, key, record.get("greeting"))
        except Unsealable:
            return None  # an older version's record, or a damaged one: sign in again
        return AccountSession(sid, citizen, greeting if isinstance(greeting, str) else "")

    def end(self, session: AccountSession) -> None:
        self.store.delete(self.namespace, session.key)

    def cookie(self, session: AccountSession) -> str:
        return self._cookie(session.id, self.ttl)

    def clearing_cookie(self) -> str:
        return self._cookie("", 0)

    def _cookie(self, value: str, max_age: int) -> str:
        # Lax: following a link to /mon-compte keeps the session, a cross-site POST does not.
        secure = "; Secure" if self.secure else ""
        return (f"{self.cookie_name}={value}; Path={self.path}; Max-Age={max_age}; "
                f"HttpOnly{secure}; SameSite=Lax")


def _cookie_value(header: str, name: str) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(header)
    except CookieError:
        return None
    morsel = cookie.get(name)
    return morsel.value if morsel is not None else None
