"""What the demo SAML IdP issued per login, and the strict LogoutRequest check made against it.

The IdP remembers each login it answered — the SP, the username, the NameID and the
``SessionIndex`` it issued — for 8 hours, so that an SP's LogoutRequest can end it. The
check is as strict as Lasso-based IdPs' (LemonLDAP::NG): the request must name sessions
issued to that very SP by their ``SessionIndex``, with the NameID given back exactly as
issued — Format, NameQualifier, SPNameQualifier, SPProvidedID, value. NC Connect is thus
tested against the least forgiving real source: any NameID field it fails to keep, or
sends back altered, makes the source answer ``UnknownPrincipal`` and keep its session.
"""

from __future__ import annotations

import hashlib
from typing import Any

from saml2.saml import NameID

from .pending import Pending

#: How long it remembers a login it answered, for the SP's LogoutRequest.
SESSION_TTL = 8 * 3600
#: The NameID fields a LogoutRequest must give back exactly as issued.
NAME_ID_FIELDS = ("text", "format", "name_qualifier", "sp_name_qualifier", "sp_provided_id")

NameIDFields = dict[str, str | None]


def name_id_fields(name_id: NameID) -> NameIDFields:
    """The fields compared at logout, as plain values: kept at issue, compared as a dict."""
    return {f: getattr(name_id, f, None) for f in NAME_ID_FIELDS}


def logout_request_names(message: Any) -> dict[str, Any]:
    """What a LogoutRequest names: ``{"name_id": its fields (``None`` without a plain
    NameID), "session_indexes": each stripped, in order}`` — kept for tests to read."""
    indexes = [(i.text or "").strip() for i in message.session_index or []]
    asked = name_id_fields(message.name_id) if message.name_id is not None else None
    return {"name_id": asked, "session_indexes": indexes}


def _key(session_index: str) -> str:
    return hashlib.sha256(session_index.encode("utf-8")).hexdigest()


class IssuedSessions:
    """The logins the IdP answered, by SessionIndex: ``{"sp", "username", "name_id": fields
    as issued}``, each for :data:`SESSION_TTL` (keyed by a digest of the SessionIndex)."""

    def __init__(self, ttl: int = SESSION_TTL) -> None:
        self._store = Pending(ttl=ttl)

    def record(self, session_index: str, sp: str, username: str, name_id: NameID) -> None:
        self._store.put(_key(session_index), {"sp": sp, "username": username,
                                              "name_id": name_id_fields(name_id)})

    def get(self, session_index: str) -> dict[str, Any] | None:
        """The live session ``session_index`` names (``None``: none, or expired)."""
        return self._store.get(_key(session_index))

    def end_if_named_as_issued(self, sp: str, name_id: NameIDFields | None,
                               session_indexes: list[str]) -> bool:
        """End the sessions named, all or none: only if there is a NameID and at least one
        SessionIndex, and every SessionIndex names a live session issued to ``sp`` with
        exactly this NameID. ``False``: nothing ended (the IdP answers UnknownPrincipal)."""
        found = [self.get(i) for i in session_indexes if i]
        if name_id is None or not session_indexes or len(found) != len(session_indexes) or any(
                f is None or f["sp"] != sp or f["name_id"] != name_id for f in found):
            return False
        for index in session_indexes:
            self._store.take(_key(index))
        return True
