"""The citizen's single sign-on sessions as *Mon espace NC Connect* shows them, and ends them.

Read from the session index (:mod:`idp.sso.session`, owner = the citizen's account key,
taken from the account session, never from a form): which source, at what level, since
when, last used when, for which services, and whether it is *this* browser's session.

A session's ``sid`` never leaves NC Connect, not even in our own page: each row carries
an HMAC of it under the CSRF secret, and the form's value is matched against the
citizen's own sessions only. Ending a session is a single logout like any other
(:meth:`idp.sso.logout.SingleLogout.logout`): its services are told.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from idp.csrf import Secrets, accepted_secrets, active_secret
from idp.sso.logout import SingleLogout
from idp.sso.session import SsoSession
from plugins.micro_services.consent_view import Shown, localised

from .view import LOA_LABELS, Instant, local_time


@dataclass(frozen=True)
class SessionRow:
    ref: str
    current: bool
    source_name: Shown
    loa_label: str
    started: Instant
    last_used: Instant
    services: list[Shown]


def session_ref(secret: Secrets, sid: str) -> str:
    """Names a session in the page: made with the active CSRF secret."""
    return hmac.new(active_secret(secret), f"compte-session\x1f{sid}".encode(),
                    hashlib.sha256).hexdigest()


def _instant(epoch: object, lang: str) -> Instant:
    value = epoch if isinstance(epoch, int | float) else 0
    return local_time(datetime.fromtimestamp(value, UTC), lang)


class CitizenSessions:
    def __init__(self, hub: SingleLogout, secret: Secrets) -> None:
        self.hub = hub
        self.secret = secret

    def rows(self, citizen: str, current_key: str | None, lang: str,
             service_names: Mapping[str, str]) -> list[SessionRow]:
        """Newest use first."""
        rows = []
        for sid, entry in self.hub.sessions.sessions_of(citizen).items():
            services = self.hub.sessions.services(sid)
            source = str(entry.get("source") or "")
            level = str(entry.get("loa") or "")
            rows.append(SessionRow(
                ref=session_ref(self.secret, sid),
                current=current_key is not None and entry.get("key") == current_key,
                source_name=localised(self.hub.names.sources.get(source, source), lang),
                loa_label=LOA_LABELS[lang].get(level, level),
                started=_instant(entry.get("created"), lang),
                last_used=_instant(entry.get("last_used"), lang),
                services=[localised(service_names.get(s, s), lang) for s in services]))
        return sorted(rows, key=lambda r: r.last_used.iso, reverse=True)

    def named(self, citizen: str, ref: object) -> SsoSession | None:
        """The citizen's live session whose row carries ``ref``."""
        if not isinstance(ref, str) or len(ref) != 64:
            return None
        for sid in self.hub.sessions.sessions_of(citizen):
            # A page shown before a CSRF rotation names it with the previous secret.
            if any([hmac.compare_digest(hmac.new(s, f"compte-session\x1f{sid}".encode(),
                                                 hashlib.sha256).hexdigest(), ref)
                    for s in accepted_secrets(self.secret)]):
                return self.hub.sessions.by_sid(citizen, sid, time.time())
        return None

    def all_of(self, citizen: str) -> list[SsoSession]:
        now = time.time()
        found = (self.hub.sessions.by_sid(citizen, sid, now)
                 for sid in self.hub.sessions.sessions_of(citizen))
        return [s for s in found if s is not None]
