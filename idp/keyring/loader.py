"""What every worker reads: the keyring of the data folder, reloaded when it changes.

Each worker checks ``keyring.json`` at most once a second (one ``stat``) and reloads it when
its inode, size or modification time changed, so a ``keys add``, ``activate`` or ``retire``
reaches every worker of every host sharing (or receiving a copy of) the folder within a
second, without restart. A state file that cannot be read, or that names a file not there
(a copy in progress), is ignored: the worker keeps the keyring it had, and tries again.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

from .model import KeyRecord, Keyring
from .storage import has_keyring, read_keyring, state_path

logger = logging.getLogger("ncconnect.keys")

#: Seconds between two checks of the state file by one worker.
CHECK_INTERVAL = 1.0


class KeyringView:
    """A worker's view of one keys folder; :attr:`generation` changes at each reload, so
    that users rebuild what they derived from the keys (signers, pysaml2 contexts)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.generation = 0
        self._ring = Keyring()
        self._signature: tuple[int, int, int] | None = None
        self._checked = float("-inf")
        self._lock = threading.Lock()
        self._material: dict[str, bytes] = {}
        self.refresh(force=True)
        if not self._ring.records:
            raise ValueError(f"{state_path(folder)}: keyring missing or unreadable")

    def refresh(self, force: bool = False) -> Keyring:
        now = time.monotonic()
        if not force and now - self._checked < CHECK_INTERVAL:
            return self._ring
        with self._lock:
            self._checked = now
            try:
                st = os.stat(state_path(self.folder))
            except OSError:
                return self._ring
            signature = (st.st_ino, st.st_size, st.st_mtime_ns)
            if signature == self._signature:
                return self._ring
            try:
                ring = read_keyring(self.folder)
                material = {name: (self.folder / name).read_bytes()
                            for r in ring.records if not r.retired
                            for name in (r.file, r.cert) if name}
            except (OSError, ValueError) as exc:
                logger.warning("keyring not reloaded, keeping the previous one",
                               extra={"reason": str(exc)})
                return self._ring
            self._ring, self._material, self._signature = ring, material, signature
            self.generation += 1
            return ring

    def active(self, purpose: str) -> KeyRecord:
        record = self.refresh().active(purpose)
        if record is None:
            raise ValueError(f"{self.folder}: no active {purpose} key")
        return record

    def usable(self, purpose: str) -> list[KeyRecord]:
        return self.refresh().usable(purpose)

    def material(self, name: str) -> bytes:
        """Content of a key file as loaded with the current state."""
        return self._material[name]

    def path(self, name: str) -> Path:
        return self.folder / name


_views: dict[Path, KeyringView] = {}
_views_lock = threading.Lock()


def view_for(folder: Path) -> KeyringView:
    """The worker's one view of ``folder`` (every plugin of a worker shares it)."""
    folder = folder.resolve()
    with _views_lock:
        view = _views.get(folder)
        if view is None:
            view = _views[folder] = KeyringView(folder)
        return view


def view_of_file(path: Path) -> KeyringView | None:
    """The keyring of the folder holding a key file a plugin's configuration names, or
    ``None`` when that folder has no keyring (a component built by hand with one key)."""
    return view_for(path.parent) if has_keyring(path.parent) else None
