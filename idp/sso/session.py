"""The single sign-on session: "sign in once", kept server-side in the shared store.

After a citizen authenticated at an identity source, NC Connect keeps what the
source said — which source, the source's subject, when, at what level, the
normalised attributes — so that another service in the same browser is answered
without the choice page and without the source's login (each service still gets
its own minimisation, pairwise identifier and consent screen).

Where things live (every worker and host sees the same, nothing per process):

* ``sso-session`` / SHA-256 of the cookie value → :class:`SsoSession`. The browser
  holds only the cookie ``__Host-ncc_session`` (256 random bits, ``Secure; HttpOnly;
  SameSite=None; Path=/``): a copy of the store gives no usable cookie. The record's
  TTL is the idle lifetime, never beyond the absolute one; each use renews it. The
  source's subject and the attributes are sealed under the cookie (``sealed``,
  :mod:`idp.stores.sealing`): only the browser's request opens them. What the source needs
  for its own logout (``source_session``) is sealed under the proxy's at-rest key, since a
  logout may start without the cookie. Times, levels, ids and the source stay readable.
* ``sso-sessions`` / owner = the citizen's account key, item = the session's ``sid``
  → a small index entry: what *Mon espace NC Connect* lists, and how it finds the
  record to end it.
* ``sso-session-services`` / owner = ``sid``, item = service id → the services the
  session answered, with what single logout needs: the protocol, the ``subject`` the
  service received (OIDC: its pairwise ``sub``; SAML: the NameID, persistent, transient or
  email, with its ``name_id_format``) and the service's own session id (OIDC ``sid``
  claim, SAML ``SessionIndex``). The ``subject`` is sealed under the at-rest key
  (``subject_sealed``): logout needs it without the cookie.
* ``sso-session-link`` / a service's own session id → ``{"sid", "citizen",
  "service_id"}``: how a logout that names the session the way the service knows it
  (an ID token's ``sid``, a LogoutRequest's ``SessionIndex``) finds the session, on
  any worker, without the browser's cookie.

The ``sid`` is random and never leaves NC Connect as such: each service receives
``HMAC(sid, service id)``, so two services cannot link a citizen through it (the
same reason ``sub`` is pairwise).

A fresh authentication always gets a new cookie value (no session fixation); when
the same citizen authenticates again in the browser (``prompt=login``, step-up),
the session keeps its ``sid`` and its services, so a later logout still reaches them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from http.cookies import CookieError, SimpleCookie
from typing import Any

from satosa.context import Context

from idp.stores import Put, Store
from idp.stores.sealing import AtRestKey, Unsealable, seal, unseal

logger = logging.getLogger("ncconnect.sso")

NAMESPACE = "sso-session"
INDEX_NAMESPACE = "sso-sessions"
SERVICES_NAMESPACE = "sso-session-services"
LINK_NAMESPACE = "sso-session-link"
#: ``__Host-`` prefix: Secure, Path=/, no Domain, enforced by the browser.
COOKIE = "__Host-ncc_session"
#: Flow-state key: which session this login belongs to ({"key", "sid", "citizen", "expires_at"}).
STATE_KEY = "ncc_sso"
#: Name of the backend that answers from a session (not a partner id: those have no ':').
BACKEND_NAME = "ncconnect:sso"
#: Context decoration carrying the session a request is answered from (same request only).
REPLAY_DECORATION = "ncc.sso_replay"
#: Context decoration a backend sets on a fresh login: what its source needs to end its own
#: session at logout (a JSON dict, opaque here), kept as :attr:`SsoSession.source_session`.
SOURCE_SESSION_DECORATION = "ncc.source_session"
#: Length of ``secrets.token_urlsafe(32)``: any other cookie value is not ours.
COOKIE_LENGTH = 43
#: Context decoration: the entry :class:`SsoServiceUse` noted for the service answered in this
#: request (``{"sid", "service_id", "entry", "ttl"}``), for a frontend to note it again with
#: what it sent (the SAML NameID).
NOTED_SERVICE_DECORATION = "ncc.sso_noted_service"

#: Writes records together: ``Store.put_many`` at once, or queued with the flow state.
Writer = Callable[[list[Put]], None]


def digest(cookie_value: str) -> str:
    return hashlib.sha256(cookie_value.encode("ascii")).hexdigest()


def service_sid(sid: str, service_id: str) -> str:
    """The session id one service sees (OIDC ``sid``, SAML ``SessionIndex``)."""
    mac = hmac.new(sid.encode("ascii"), f"sid\x1f{service_id}".encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode("ascii")


@dataclass(frozen=True)
class SsoSession:
    key: str
    sid: str
    citizen: str
    source: str
    #: The source's subject (``<source id>:<sub or NameID>``), replayed as it came, and the
    #: attributes: both empty when read without the cookie (not part of equality, for that).
    subject: str = field(compare=False)
    attributes: dict[str, Any] = field(compare=False)
    #: When the citizen authenticated at the source (epoch seconds).
    auth_time: int
    loa: str
    acr: str
    issuer: str | None
    created: int
    last_used: int
    expires_at: int
    #: What the source needs to log this session out, as its backend recorded it (SAML: the
    #: NameID exactly as issued and the SessionIndex); ``None`` for sources that need
    #: nothing.
    source_session: dict[str, Any] | None = None
    #: ``subject`` and ``attributes`` sealed under the cookie, as stored. A session read
    #: without the cookie (*Mon espace*, a logout started by a service) has this and an
    #: empty ``subject`` and ``attributes``; rewriting it keeps the sealed values.
    sealed: str = ""

    def alive(self, now: float, idle: int) -> bool:
        """Within both lifetimes (the store's TTL already enforces them; checked again so a
        clock or TTL quirk never extends a session)."""
        return now < self.expires_at and now - self.last_used < idle

    def to_record(self, at_rest: AtRestKey) -> dict[str, Any]:
        """What the store holds: no attribute value, no subject in clear."""
        record = asdict(self)
        del record["subject"], record["attributes"]
        record["source_session"] = (at_rest.seal(NAMESPACE, self.key, self.source_session)
                                    if self.source_session is not None else None)
        return record

    @classmethod
    def from_record(cls, record: dict[str, Any], at_rest: AtRestKey,
                    cookie: str | None = None) -> SsoSession | None:
        """The session a stored record holds; its subject and attributes only with the
        ``cookie``. ``None`` (logged, without any value) for a record that does not open:
        wrong cookie, tampered, or written by an older version (fail closed)."""
        try:
            fields = {k: record[k] for k in _CLEAR_FIELDS}
            sealed = record["sealed"]
            recorded = record.get("source_session")
            source_session = (at_rest.unseal(NAMESPACE, fields["key"], recorded)
                              if recorded is not None else None)
            opened = unseal(cookie, NAMESPACE, fields["key"], sealed) if cookie else {}
            return cls(**fields, sealed=sealed, source_session=source_session,
                       subject=str(opened.get("subject", "")),
                       attributes=dict(opened.get("attributes") or {}))
        except (KeyError, TypeError, AttributeError, Unsealable) as exc:
            logger.error("unreadable sso session record", extra={"problem": type(exc).__name__})
            return None

    def index_entry(self) -> dict[str, Any]:
        return {"key": self.key, "source": self.source, "loa": self.loa,
                "auth_time": self.auth_time, "created": self.created,
                "last_used": self.last_used, "expires_at": self.expires_at}


#: Fields of the record kept readable: ids, times, levels, the source (no personal data;
#: ``citizen`` is the account key, an HMAC under the pairwise secret).
_CLEAR_FIELDS = ("key", "sid", "citizen", "source", "auth_time", "loa", "acr", "issuer",
                 "created", "last_used", "expires_at")


def cookie_value(context: Context) -> str | None:
    cookie = SimpleCookie()
    try:
        cookie.load(context.cookie or "")
    except CookieError:
        return None
    morsel = cookie.get(COOKIE)
    value = morsel.value if morsel is not None else ""
    return value if len(value) == COOKIE_LENGTH and value.isascii() else None


def cookie_header(value: str, max_age: int) -> str:
    # Same conventions as the flow cookie; SameSite=None: SAML services POST their
    # AuthnRequests cross-site, and the session must be seen there too.
    return f"{COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; Secure; SameSite=None"


def service_sid_of(context: Context, service_id: str) -> str | None:
    """The service's session id for this login, when it belongs to an SSO session."""
    ref = context.state.get(STATE_KEY) if context.state is not None else None
    sid = ref.get("sid") if isinstance(ref, dict) else None
    return service_sid(sid, service_id) if isinstance(sid, str) and sid else None


class SessionStore:
    def __init__(self, store: Store, idle: int, absolute: int,
                 at_rest: AtRestKey | None = None) -> None:
        if not 0 < idle <= absolute:
            raise ValueError("sso lifetimes: need 0 < idle <= absolute")
        self.store = store
        self.idle = idle
        self.absolute = absolute
        self.at_rest = at_rest or AtRestKey.ephemeral()

    def ttl(self, session: SsoSession, now: float) -> int:
        return max(1, int(min(self.idle, session.expires_at - now)))

    def find(self, cookie: str | None, now: float) -> SsoSession | None:
        """The live session the cookie names, or ``None``."""
        if cookie is None:
            return None
        record = self.store.get(NAMESPACE, digest(cookie))
        session = SsoSession.from_record(record, self.at_rest, cookie) \
            if record is not None else None
        return session if session is not None and session.alive(now, self.idle) else None

    def create(self, *, sid: str, citizen: str, source: str, subject: str,
               attributes: dict[str, Any], auth_time: int, loa: str, acr: str,
               issuer: str | None, now: float,
               source_session: dict[str, Any] | None = None,
               write: Writer | None = None) -> tuple[str, SsoSession]:
        """A new session under a new cookie value: (cookie value, session). ``write``: how its
        records are written (by default at once; a login step passes
        :func:`idp.app.write_with_flow`, so they go with the flow state in one round trip and
        only if the step succeeds)."""
        cookie = secrets.token_urlsafe(32)
        stamp = int(now)
        key = digest(cookie)
        sealed = seal(cookie, NAMESPACE, key, {"subject": subject, "attributes": attributes})
        session = SsoSession(key=key, sid=sid, citizen=citizen, source=source,
                             subject=subject, attributes=attributes, auth_time=auth_time,
                             loa=loa, acr=acr, issuer=issuer, created=stamp, last_used=stamp,
                             expires_at=stamp + self.absolute, source_session=source_session,
                             sealed=sealed)
        self._save(session, now, write)
        return cookie, session

    def touch(self, session: SsoSession, now: float) -> SsoSession | None:
        """The session used once more: its idle lifetime starts again. ``None`` when it ended
        meanwhile (logout): it is not brought back."""
        used = replace(session, last_used=int(now))
        ttl = self.ttl(used, now)
        # Only if still there, in one step: a logout between a read and a write must stick.
        if not self.store.replace(NAMESPACE, used.key, used.to_record(self.at_rest), ttl):
            return None
        self.store.put_item(INDEX_NAMESPACE, used.citizen, used.sid, used.index_entry(), ttl)
        return used

    def _save(self, session: SsoSession, now: float, write: Writer | None = None) -> None:
        ttl = self.ttl(session, now)
        # The record and its index entry in one round trip (one transaction).
        (write or self.store.put_many)([
            Put(NAMESPACE, session.key, session.to_record(self.at_rest), ttl),
            Put(INDEX_NAMESPACE, session.citizen, session.index_entry(), ttl,
                item=session.sid)])

    def replace_cookie(self, old: SsoSession) -> None:
        """Forget the record under the old cookie; the index entry (same ``sid``) was
        overwritten by the new session already."""
        self.store.delete(NAMESPACE, old.key)

    def extend_services(self, session: SsoSession, now: float) -> None:
        """Services of a continued session live as long as the new session may."""
        ttl = max(1, int(session.expires_at - now))
        writes: list[Put] = []
        for item, entry in self.store.items(SERVICES_NAMESPACE, session.sid).items():
            writes.append(Put(SERVICES_NAMESPACE, session.sid, entry, ttl, item=item))
            if isinstance(entry.get("sid"), str):
                writes.append(Put(LINK_NAMESPACE, entry["sid"],
                                  _link(session.sid, session.citizen, item), ttl))
        self.store.put_many(writes)

    def end(self, session: SsoSession) -> None:
        """Forget the session everywhere, without telling its services (see :meth:`close`)."""
        self.close(session)

    def close(self, session: SsoSession) -> dict[str, dict[str, Any]] | None:
        """End the session and return the services it answered, for single logout to notify.

        The record is *taken*, atomically across workers and hosts: of two logouts of the
        same session (two tabs, a service and *Mon espace*), exactly one gets the services
        and notifies them; the other gets ``None``. Whatever happens to the notifications,
        the session is gone when this returns.
        """
        taken = self.store.take(NAMESPACE, session.key)
        self.store.delete_item(INDEX_NAMESPACE, session.citizen, session.sid)
        if taken is None:
            # Another logout took it: that one reads the services, tells them and cleans up
            # (reading or deleting them here could leave it nothing to tell). An expired
            # session's leftovers expire on their own TTLs.
            return None
        services = self.services(session.sid)
        for entry in services.values():
            if isinstance(entry.get("sid"), str):
                self.store.delete(LINK_NAMESPACE, entry["sid"])
        self.store.delete_owner(SERVICES_NAMESPACE, session.sid)
        return services

    def _seal_entry(self, sid: str, service_id: str, entry: dict[str, Any]) -> dict[str, Any]:
        """A services entry as stored: the subject the service knows sealed at rest."""
        stored = {k: v for k, v in entry.items() if k != "subject"}
        stored["subject_sealed"] = self.at_rest.seal(SERVICES_NAMESPACE, f"{sid}\x1f{service_id}",
                                                     entry.get("subject"))
        return stored

    def _open_entry(self, sid: str, service_id: str,
                    stored: dict[str, Any]) -> dict[str, Any] | None:
        try:
            subject = self.at_rest.unseal(SERVICES_NAMESPACE, f"{sid}\x1f{service_id}",
                                          stored.get("subject_sealed"))
        except Unsealable:
            logger.error("unreadable sso service entry", extra={"service": service_id})
            return None
        entry = {k: v for k, v in stored.items() if k != "subject_sealed"}
        entry["subject"] = subject
        return entry

    def note_service(self, sid: str, service_id: str, entry: dict[str, Any], ttl: int,
                     citizen: str | None = None, write: Writer | None = None) -> None:
        """The session answered ``service_id``: its entry (and, with ``citizen``, the link from
        the service's own session id), written by ``write`` as in :meth:`create`. Noting the
        same service again in one step replaces the entry: the SAML frontend does so with the
        NameID it actually sent (single logout names the citizen exactly as the SP knows them,
        and a transient NameID is known nowhere else)."""
        writes = [Put(SERVICES_NAMESPACE, sid, self._seal_entry(sid, service_id, entry),
                      max(1, ttl), item=service_id)]
        if citizen and isinstance(entry.get("sid"), str):
            writes.append(Put(LINK_NAMESPACE, entry["sid"], _link(sid, citizen, service_id),
                              max(1, ttl)))
        (write or self.store.put_many)(writes)  # the entry and its link in one round trip

    def by_sid(self, citizen: str, sid: str, now: float) -> SsoSession | None:
        """The live session ``sid`` of ``citizen`` (from *Mon espace*: no cookie needed)."""
        entry = self.sessions_of(citizen).get(sid)
        key = entry.get("key") if isinstance(entry, dict) else None
        record = self.store.get(NAMESPACE, key) if isinstance(key, str) else None
        session = SsoSession.from_record(record, self.at_rest) if record is not None else None
        if session is None or session.sid != sid or session.citizen != citizen:
            return None
        return session if session.alive(now, self.idle) else None

    def by_service_sid(self, service_sid_value: str,
                       now: float) -> tuple[SsoSession | None, str | None]:
        """(the live session a service's own session id names, that service's id).

        ``(None, service id)`` when the link exists but the session ended meanwhile;
        ``(None, None)`` when nothing is known of this id.
        """
        if not service_sid_value or len(service_sid_value) > 128:
            return None, None
        link = self.store.get(LINK_NAMESPACE, service_sid_value)
        if link is None:
            return None, None
        sid, citizen, service_id = link.get("sid"), link.get("citizen"), link.get("service_id")
        if not all(isinstance(x, str) and x for x in (sid, citizen, service_id)):
            return None, None
        return self.by_sid(citizen, sid, now), service_id

    def services(self, sid: str) -> dict[str, dict[str, Any]]:
        """The services ``sid`` answered, subjects opened (entries that do not open are left
        out: a record of an older version)."""
        opened = {item: self._open_entry(sid, item, stored)
                  for item, stored in self.store.items(SERVICES_NAMESPACE, sid).items()}
        return {item: entry for item, entry in opened.items() if entry is not None}

    def sessions_of(self, citizen: str) -> dict[str, dict[str, Any]]:
        """The citizen's live sessions, by ``sid`` (for *Mon espace NC Connect*)."""
        return self.store.items(INDEX_NAMESPACE, citizen)


def new_sid() -> str:
    return secrets.token_urlsafe(32)


def _link(sid: str, citizen: str, service_id: str) -> dict[str, str]:
    return {"sid": sid, "citizen": citizen, "service_id": service_id}
