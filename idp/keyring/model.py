"""The keyring: which keys the proxy holds, for what, and where each one is in its rollover.

One record per key, in ``DATA_DIR/keys/keyring.json`` (no key material there: each key is a
file of its own, mode 0600, beside it). A key goes through four dates, never backwards:

* ``created``: written and *published* at once (JWKS, SAML metadata; for internal secrets:
  accepted) — partners' caches can learn it before it is used;
* ``activate_after``: from then on ``ncconnect keys activate`` may make it the key that signs,
  encrypts to or makes tokens (before that, only with ``--now``: a compromise);
* ``activated`` / ``deactivated``: the key in use, one per purpose; the previous one keeps
  verifying (decrypting, accepting) what it made until it is retired;
* ``retired``: no longer published nor accepted; its files are deleted.

The dates, not flags, are the state, so every worker and host reading the same file agrees.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

Kind = Literal["rsa", "rsa-cert", "secret"]


@dataclass(frozen=True)
class Purpose:
    """What one kind of key is for, and the file names ``ncconnect keys init`` always used
    (the first key of each purpose keeps them, so existing data folders need no move)."""

    name: str
    kind: Kind
    legacy_key: str
    legacy_cert: str | None = None
    #: Whether partners see it (JWKS, metadata): then adding waits for their caches.
    public: bool = False
    #: ``False`` only for the pairwise secret (see :data:`PAIRWISE_REFUSAL`).
    rotates: bool = True


PURPOSES: dict[str, Purpose] = {p.name: p for p in (
    Purpose("oidc-signing", "rsa", "oidc-signing.pem", public=True),
    Purpose("saml-signing", "rsa-cert", "saml-signing.pem", "saml-signing.crt", public=True),
    Purpose("saml-encryption", "rsa-cert", "saml-encryption.pem", "saml-encryption.crt",
            public=True),
    Purpose("csrf", "secret", "csrf.secret"),
    Purpose("at-rest", "secret", "at-rest.secret"),
    Purpose("pairwise", "secret", "pairwise.secret", rotates=False),
)}

PAIRWISE_REFUSAL = (
    "the pairwise secret never rotates: every citizen's identifier at every service is "
    "derived from it, so a new secret would give every citizen a new identifier everywhere "
    "and cut each service from its accounts. After a compromise, see README, 'Key "
    "rotation', 'The pairwise secret never rotates': a planned migration with every service.")

Status = Literal["published", "activatable", "active", "previous", "retired"]


def now_utc() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def _iso(value: dt.datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _date(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(f"not a date: {value!r}")
    return dt.datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class KeyRecord:
    purpose: str
    kid: str
    #: File names inside the keys folder (no directories).
    file: str
    cert: str | None
    created: dt.datetime
    activate_after: dt.datetime
    activated: dt.datetime | None = None
    deactivated: dt.datetime | None = None
    retired: dt.datetime | None = None

    def status(self, now: dt.datetime) -> Status:
        if self.retired:
            return "retired"
        if self.deactivated:
            return "previous"
        if self.activated:
            return "active"
        return "activatable" if now >= self.activate_after else "published"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for name in ("created", "activate_after", "activated", "deactivated", "retired"):
            data[name] = _iso(data[name])
        return data

    @classmethod
    def from_json(cls, data: Any) -> KeyRecord:
        if not isinstance(data, dict) or data.get("purpose") not in PURPOSES:
            raise ValueError(f"not a key record: {data!r}")
        for name in ("kid", "file"):
            if not isinstance(data.get(name), str) or "/" in data[name]:
                raise ValueError(f"key record {name}: {data.get(name)!r}")
        created, after = _date(data.get("created")), _date(data.get("activate_after"))
        if created is None or after is None:
            raise ValueError("key record without created / activate_after")
        return cls(purpose=data["purpose"], kid=data["kid"], file=data["file"],
                   cert=data.get("cert"), created=created, activate_after=after,
                   activated=_date(data.get("activated")),
                   deactivated=_date(data.get("deactivated")),
                   retired=_date(data.get("retired")))


@dataclass
class Keyring:
    """Every key record, oldest first (retired ones too: the history of the folder)."""

    records: list[KeyRecord] = field(default_factory=list)
    version: int = 1

    def of(self, purpose: str) -> list[KeyRecord]:
        return [r for r in self.records if r.purpose == purpose]

    def find(self, purpose: str, kid: str) -> KeyRecord | None:
        found = [r for r in self.of(purpose) if r.kid == kid or r.kid.startswith(kid)]
        return found[0] if len(found) == 1 else None

    def active(self, purpose: str) -> KeyRecord | None:
        found = [r for r in self.of(purpose) if r.activated and not r.deactivated
                 and not r.retired]
        return found[-1] if found else None

    def usable(self, purpose: str) -> list[KeyRecord]:
        """Not retired: published, accepted for verification and decryption. The active key
        first, then the next ones (newest first), then the previous ones."""
        live = [r for r in self.of(purpose) if not r.retired]
        active = [r for r in live if r.activated and not r.deactivated]
        upcoming = sorted((r for r in live if not r.activated), key=lambda r: r.created,
                          reverse=True)
        previous = sorted((r for r in live if r.deactivated),
                          key=lambda r: r.deactivated or r.created, reverse=True)
        return active + upcoming + previous

    def replace(self, old: KeyRecord, **changes: Any) -> KeyRecord:
        new = replace(old, **changes)
        self.records[self.records.index(old)] = new
        return new

    def to_json(self) -> dict[str, Any]:
        return {"version": self.version, "keys": [r.to_json() for r in self.records]}

    @classmethod
    def from_json(cls, data: Any) -> Keyring:
        if not isinstance(data, dict) or data.get("version") != 1 \
                or not isinstance(data.get("keys"), list):
            raise ValueError("not a keyring (version 1)")
        return cls([KeyRecord.from_json(r) for r in data["keys"]])
