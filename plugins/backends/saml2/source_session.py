"""What a SAML source issued at login and wants back in our LogoutRequest.

Lasso-based IdPs (LemonLDAP::NG, eIDAS nodes) find the session to end by the NameID
*exactly* as they issued it — Format, NameQualifier, SPNameQualifier, SPProvidedID,
value — and the assertion's ``SessionIndex``; anything rebuilt from our own idea of
the qualifiers is an "Unknown principal". So the backend keeps them as they came, in
the SSO session (``SsoSession.source_session``, a plain JSON dict through the
:data:`idp.sso.session.SOURCE_SESSION_DECORATION`), and the logout sends them back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

from saml2.saml import NameID

#: Longest qualifier, format or SessionIndex kept (URIs and opaque ids; real ones are short).
MAX_FIELD = 1024


@dataclass(frozen=True)
class IssuedNameID:
    value: str
    format: str | None = None
    name_qualifier: str | None = None
    sp_name_qualifier: str | None = None
    sp_provided_id: str | None = None

    def to_name_id(self) -> NameID:
        return NameID(text=self.value, format=self.format, name_qualifier=self.name_qualifier,
                      sp_name_qualifier=self.sp_name_qualifier,
                      sp_provided_id=self.sp_provided_id)

    @classmethod
    def from_record(cls, record: object) -> IssuedNameID | None:
        if not isinstance(record, Mapping) or not isinstance(record.get("value"), str):
            return None
        fields = {k: record.get(k) for k in ("format", "name_qualifier", "sp_name_qualifier",
                                              "sp_provided_id")}
        if not all(v is None or isinstance(v, str) for v in fields.values()):
            return None
        return cls(value=record["value"], **fields)


def record_of(name_id: IssuedNameID, session_index: str | None) -> dict[str, Any]:
    """The JSON-serialisable record kept in the SSO session."""
    return {"protocol": "saml2", "name_id": asdict(name_id), "session_index": session_index}


def read_record(record: Mapping[str, Any] | None) -> tuple[IssuedNameID, str | None] | None:
    """(NameID, SessionIndex) of a session's record; ``None`` for anything else (a session
    recorded before this existed, or by another kind of source)."""
    if not isinstance(record, Mapping) or record.get("protocol") != "saml2":
        return None
    name_id = IssuedNameID.from_record(record.get("name_id"))
    index = record.get("session_index")
    if name_id is None or not (index is None or isinstance(index, str)):
        return None
    return name_id, index
