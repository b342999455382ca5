"""The rollover rules: when a key may be added, activated and retired, and why not.

Every refusal is a :class:`Refused` whose message says why and what to do instead; the
command line prints it as is. The rules only read and change a :class:`.model.Keyring`;
:func:`add`, :func:`activate` and :func:`retire` apply them under the folder's lock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from .model import PAIRWISE_REFUSAL, PURPOSES, KeyRecord, Keyring, now_utc
from .storage import create_key, delete_files, ensure_keyring, locked, read_keyring, write_keyring


class Refused(ValueError):
    """A keyring change the rules do not allow; the message says why."""


@dataclass(frozen=True)
class Overlaps:
    """Seconds a previous key must stay accepted after it stopped being used: the longest
    life of anything it made (tokens, assertions, forms, sealed records)."""

    seconds: dict[str, int]

    def of(self, purpose: str) -> int:
        return self.seconds.get(purpose, 0)


def _purpose(name: str):
    if name not in PURPOSES:
        raise Refused(f"unknown purpose {name!r}: one of {', '.join(PURPOSES)}")
    purpose = PURPOSES[name]
    if not purpose.rotates:
        raise Refused(PAIRWISE_REFUSAL)
    return purpose


def _record(ring: Keyring, purpose: str, kid: str) -> KeyRecord:
    record = ring.find(purpose, kid)
    if record is None:
        known = ", ".join(r.kid for r in ring.of(purpose)) or "none"
        raise Refused(f"no single {purpose} key with kid {kid!r} (keys: {known})")
    return record


def add(folder: Path, purpose_name: str, activate_after: int,
        common_name: str = "NC Connect") -> KeyRecord:
    """Create and publish a new key; it may be activated ``activate_after`` seconds later."""
    purpose = _purpose(purpose_name)
    ensure_keyring(folder)
    with locked(folder):
        ring = read_keyring(folder)
        record = create_key(folder, ring, purpose, common_name,
                            activate_after_seconds=activate_after)
        write_keyring(folder, ring)
        return record


def check_activate(ring: Keyring, record: KeyRecord, now: dt.datetime, now_flag: bool) -> None:
    if record.retired:
        raise Refused(f"{record.purpose} key {record.kid} is retired: add a new key instead")
    if record.activated and not record.deactivated:
        raise Refused(f"{record.purpose} key {record.kid} is already the active key")
    if record.deactivated:
        raise Refused(f"{record.purpose} key {record.kid} was already replaced: keys never "
                      "go back into use; add a new key instead")
    if now < record.activate_after and not now_flag:
        raise Refused(
            f"{record.purpose} key {record.kid} may be activated from "
            f"{record.activate_after:%Y-%m-%d %H:%M}Z only: partners' caches of the JWKS or "
            "metadata may not know it yet. Use --now only after a suspected compromise of "
            "the active key (partners that have not refreshed will fail until they do).")


def activate(folder: Path, purpose_name: str, kid: str, now_flag: bool = False) -> KeyRecord:
    """Make ``kid`` the key in use; the previous active key becomes ``previous``."""
    _purpose(purpose_name)
    ensure_keyring(folder)
    with locked(folder):
        ring = read_keyring(folder)
        record = _record(ring, purpose_name, kid)
        now = now_utc()
        check_activate(ring, record, now, now_flag)
        old = ring.active(purpose_name)
        if old is not None:
            ring.replace(old, deactivated=now)
        record = ring.replace(record, activated=now)
        write_keyring(folder, ring)
        return record


def check_retire(ring: Keyring, record: KeyRecord, now: dt.datetime, overlaps: Overlaps,
                 force: bool) -> None:
    if record.retired:
        raise Refused(f"{record.purpose} key {record.kid} is already retired")
    if len(ring.usable(record.purpose)) <= 1:
        raise Refused(f"{record.purpose} key {record.kid} is the last key of its purpose: "
                      "the proxy cannot work without one; add its successor first")
    if record.activated and not record.deactivated:
        raise Refused(f"{record.purpose} key {record.kid} is the active key: activate its "
                      "successor first ('ncconnect keys add', then 'keys activate')")
    if record.deactivated:
        until = record.deactivated + dt.timedelta(seconds=overlaps.of(record.purpose))
        if now < until and not force:
            raise Refused(
                f"{record.purpose} key {record.kid} may still have made something valid "
                f"(tokens, assertions, forms, sealed records) until {until:%Y-%m-%d %H:%M:%S}Z;"
                " retire it then, or use --force (what it made stops being accepted)")


def retire(folder: Path, purpose_name: str, kid: str, overlaps: Overlaps,
           force: bool = False) -> KeyRecord:
    """Stop publishing and accepting ``kid``, and delete its files."""
    _purpose(purpose_name)
    ensure_keyring(folder)
    with locked(folder):
        ring = read_keyring(folder)
        record = _record(ring, purpose_name, kid)
        check_retire(ring, record, now_utc(), overlaps, force)
        record = ring.replace(record, retired=now_utc())
        write_keyring(folder, ring)  # first: no worker loads a record whose files are gone
        delete_files(folder, record)
        return record
