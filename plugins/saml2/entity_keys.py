"""A pysaml2 entity's own keys, kept in step with the keyring (:mod:`idp.keyring`).

pysaml2 takes ``key_file``/``cert_file`` (and ``encryption_keypairs``) when an entity is
built, and its security context keeps them. When ``ncconnect keys activate`` or ``retire``
changes the keyring, the next use of the entity in each worker points its configuration at
the active SAML signing key (and, for our SPs, every SAML encryption key not retired) and
rebuilds its security context with :func:`.crypto.context.install` — no restart.

The certificates our metadata publishes come from here too: every SAML signing certificate
not retired (the active one first, then the next one of a rollover), and for our SPs every
encryption certificate not retired, so that a partner refreshing the metadata during the
publication window knows the next key before it is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from saml2.sigver import read_cert_from_file

from idp.keyring import KeyringView, view_of_file

from .crypto.context import Crypto, install

SIGNING = "saml-signing"
ENCRYPTION = "saml-encryption"


def keyring_files(view: KeyringView, decrypts: bool) -> dict[str, Any]:
    """pysaml2 configuration values for the keyring's current keys."""
    active = view.active(SIGNING)
    files: dict[str, Any] = {"key_file": str(view.path(active.file)),
                             "cert_file": str(view.path(str(active.cert)))}
    if decrypts:  # our SPs: the next signing certificate in the metadata too (pysaml2's
        # additional_cert_files), and every encryption key not retired.
        files["additional_cert_files"] = [str(view.path(str(r.cert)))
                                          for r in view.usable(SIGNING) if r.kid != active.kid]
        files["encryption_keypairs"] = [
            {"key_file": str(view.path(r.file)), "cert_file": str(view.path(str(r.cert)))}
            for r in view.usable(ENCRYPTION)]
    return files


def configured_files(key_path: str | Path, decrypts: bool) -> dict[str, Any] | None:
    """:func:`keyring_files` for the keys folder holding ``key_path`` (``None``: no keyring)."""
    view = view_of_file(Path(key_path))
    return keyring_files(view, decrypts) if view is not None else None


def _body(pem: bytes) -> str:
    """A PEM certificate as metadata carries it: the base64 text without its armour."""
    return "".join(line.strip() for line in pem.decode("ascii").splitlines()
                   if line.strip() and not line.startswith("-----"))


class EntityKeys:
    """Holds one pysaml2 entity; :meth:`current` returns it with the keyring's keys."""

    def __init__(self, entity: Any, crypto: Crypto, key_path: str | Path,
                 decrypts: bool = False) -> None:
        self.entity = entity
        self.crypto = crypto
        self.decrypts = decrypts
        self.view = view_of_file(Path(key_path))
        self._generation = -1
        self.current()

    @property
    def generation(self) -> int:
        return self._generation

    def current(self) -> Any:
        view = self.view
        if view is None:
            return self.entity
        view.refresh()
        if view.generation != self._generation:
            files = keyring_files(view, self.decrypts)
            conf = self.entity.config
            now = {name: getattr(conf, name, None) for name in files}
            if now != files:
                for name, value in files.items():
                    setattr(conf, name, value)
                install(self.entity, self.crypto)
            self._generation = view.generation
        return self.entity

    def _certs(self, purpose: str, fallback: str | None) -> list[str]:
        if self.view is None:
            return [read_cert_from_file(fallback)] if fallback else []
        self.current()
        return [_body(self.view.material(str(r.cert))) for r in self.view.usable(purpose)]

    def signing_certs(self) -> list[str]:
        """Base64 DER of every signing certificate to publish, the active one first."""
        return self._certs(SIGNING, self.entity.config.cert_file)

    def encryption_certs(self) -> list[str]:
        pairs = self.entity.config.encryption_keypairs or []
        return self._certs(ENCRYPTION, pairs[0]["cert_file"] if pairs else None)
