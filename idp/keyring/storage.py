"""The keyring on disk: ``keyring.json`` beside the key files, written atomically under a lock.

Every change is made under an exclusive ``flock`` of ``.keyring.lock`` (two administrators,
or two hosts sharing the folder, never interleave), key files are written first and the state
file last, through a temporary file and ``os.replace``: a reader — a worker, or ``rsync`` to
another host — sees the old state or the new one, never half of one, and never a record
whose file is not there yet.

A data folder from before the keyring (single files ``oidc-signing.pem``, ``csrf.secret``…)
is migrated on first use (:func:`ensure_keyring`): each file becomes the active key of its
purpose, unchanged, under its existing name.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from .material import kid_of, new_material
from .model import PURPOSES, KeyRecord, Keyring, Purpose, now_utc

STATE_FILE = "keyring.json"
LOCK_FILE = ".keyring.lock"


def state_path(folder: Path) -> Path:
    return folder / STATE_FILE


def has_keyring(folder: Path) -> bool:
    return state_path(folder).is_file()


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[None]:
    """Exclusive lock of the keys folder for one change (blocks until it is free)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def read_keyring(folder: Path) -> Keyring:
    try:
        data = json.loads(state_path(folder).read_text(encoding="utf-8"))
        return Keyring.from_json(data)
    except (OSError, ValueError) as exc:
        raise ValueError(f"{state_path(folder)}: cannot be read ({exc})") from exc


def write_keyring(folder: Path, ring: Keyring) -> None:
    text = json.dumps(ring.to_json(), indent=2, ensure_ascii=False) + "\n"
    write_atomic(state_path(folder), text.encode("utf-8"))


def _legacy_record(folder: Path, purpose: Purpose) -> KeyRecord | None:
    key = folder / purpose.legacy_key
    cert = folder / purpose.legacy_cert if purpose.legacy_cert else None
    if not key.is_file() or (cert is not None and not cert.is_file()):
        return None
    stamp = now_utc()
    return KeyRecord(purpose=purpose.name, kid=kid_of(purpose, key, cert), file=key.name,
                     cert=cert.name if cert else None, created=stamp, activate_after=stamp,
                     activated=stamp)


def _adopt_missing(folder: Path, ring: Keyring) -> bool:
    """Record the single files of purposes the keyring has no active key for."""
    changed = False
    for purpose in PURPOSES.values():
        if ring.active(purpose.name) is None:
            record = _legacy_record(folder, purpose)
            if record is not None and all(r.file != record.file for r in ring.records):
                ring.records.append(record)
                changed = True
    return changed


def ensure_keyring(folder: Path) -> Keyring:
    """The keyring of ``folder``, made from its single key files when it has none yet."""
    if has_keyring(folder):
        ring = read_keyring(folder)
        if all(ring.active(p) for p in PURPOSES):
            return ring
    with locked(folder):
        ring = read_keyring(folder) if has_keyring(folder) else Keyring()
        if _adopt_missing(folder, ring) or not has_keyring(folder):
            write_keyring(folder, ring)
        return ring


def create_key(folder: Path, ring: Keyring, purpose: Purpose, common_name: str, *,
               activate_after_seconds: int, active: bool = False,
               legacy_names: bool = False) -> KeyRecord:
    """Write a new key's files (0600) and append its record (the caller writes the state)."""
    key_data, cert_data = new_material(purpose, common_name)
    stamp = now_utc()
    # Named after a provisional random tag, then recorded under its real kid.
    tag = os.urandom(6).hex()
    legacy_free = not any((folder / n).exists()
                          for n in (purpose.legacy_key, purpose.legacy_cert) if n)
    if legacy_names and legacy_free:  # never over another key's file
        key_name, cert_name = purpose.legacy_key, purpose.legacy_cert
    else:
        ext = ".pem" if purpose.kind != "secret" else ".secret"
        key_name = f"{purpose.name}-{tag}{ext}"
        cert_name = f"{purpose.name}-{tag}.crt" if purpose.kind == "rsa-cert" else None
    write_atomic(folder / key_name, key_data)
    if cert_data is not None and cert_name is not None:
        write_atomic(folder / cert_name, cert_data, 0o644)
    cert_path = folder / cert_name if cert_name else None
    record = KeyRecord(purpose=purpose.name,
                       kid=kid_of(purpose, folder / key_name, cert_path),
                       file=key_name, cert=cert_name, created=stamp,
                       activate_after=stamp + dt.timedelta(seconds=activate_after_seconds),
                       activated=stamp if active else None)
    ring.records.append(record)
    return record


def delete_files(folder: Path, record: KeyRecord) -> None:
    for name in (record.file, record.cert):
        if name:
            with contextlib.suppress(FileNotFoundError):
                (folder / name).unlink()
