"""Secrets with overlap (CSRF, at-rest): made with the active one, accepted with any other
that is not retired — so a rotation never breaks a form being filled in, or a record
sealed before it."""

from __future__ import annotations

from pathlib import Path

from .loader import KeyringView, view_of_file


class SecretSet:
    """The secrets of one purpose; :attr:`active` makes, :attr:`accepted` checks."""

    def __init__(self, purpose: str, view: KeyringView | None = None,
                 fixed: bytes | None = None) -> None:
        self.purpose = purpose
        self._view = view
        self._fixed = fixed
        self._generation = -1
        self._active = b""
        self._accepted: list[bytes] = []

    def __repr__(self) -> str:  # never print a secret
        return f"SecretSet({self.purpose})"

    def _load(self) -> None:
        view = self._view
        if view is None:
            return
        view.refresh()
        if view.generation != self._generation:
            records = view.usable(self.purpose)
            self._accepted = [bytes.fromhex(view.material(r.file).decode().strip())
                              for r in records]
            self._active = bytes.fromhex(
                view.material(view.active(self.purpose).file).decode().strip())
            self._generation = view.generation

    @property
    def active(self) -> bytes:
        if self._fixed is not None:
            return self._fixed
        self._load()
        return self._active

    @property
    def accepted(self) -> list[bytes]:
        """The active secret first, then the others not retired."""
        if self._fixed is not None:
            return [self._fixed]
        self._load()
        return list(self._accepted)


def secret_set(path: Path, purpose: str) -> SecretSet:
    """The secrets of ``purpose`` in the keyring of the folder holding ``path`` (the file the
    configuration names), or just that file's secret when the folder has no keyring."""
    view = view_of_file(path)
    if view is None:
        return SecretSet(purpose, fixed=bytes.fromhex(path.read_text().strip()))
    return SecretSet(purpose, view=view)
