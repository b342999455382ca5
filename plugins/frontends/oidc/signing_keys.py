"""The OIDC signing keys of the proxy: the active one signs ID and logout tokens, every
published one is in the JWKS (:mod:`idp.keyring`).

With a keyring in the keys folder (``ncconnect keys init``), the keys follow it: a key added
with ``ncconnect keys add`` appears in the JWKS within a second on every worker, signs once
activated, and leaves the JWKS when retired. A component built by hand with one PEM file
(no keyring beside it) has that one key.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptojwt.jwk.rsa import RSAKey

from idp.keyring import KeyringView, view_of_file

ALG = "RS256"
PURPOSE = "oidc-signing"


def signing_key_from_pem(pem: bytes, where: str) -> RSAKey:
    """The RSA key as a JWK with use=sig, alg=RS256 and its RFC 7638 thumbprint as kid."""
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError(f"{where}: the OIDC signing key must be an RSA key")
    key = RSAKey(priv_key=private, use="sig", alg=ALG)
    key.add_kid()
    return key


class SigningKeys:
    """The active key and the published ones, reloaded when the keyring changes."""

    def __init__(self, fixed: RSAKey | None = None, view: KeyringView | None = None) -> None:
        if (fixed is None) == (view is None):
            raise ValueError("one fixed key or one keyring")
        self._fixed = fixed
        self._view = view
        self._generation = -1
        self._active: RSAKey | None = fixed
        self._published: list[RSAKey] = [fixed] if fixed is not None else []

    @classmethod
    def from_path(cls, path: Path) -> SigningKeys:
        view = view_of_file(path)
        if view is None:
            return cls(fixed=signing_key_from_pem(path.read_bytes(), str(path)))
        return cls(view=view)

    def _load(self) -> None:
        view = self._view
        if view is None:
            return
        view.refresh()
        if view.generation == self._generation:
            return
        loaded = {r.kid: signing_key_from_pem(view.material(r.file), r.file)
                  for r in view.usable(PURPOSE)}
        self._published = list(loaded.values())
        self._active = loaded[view.active(PURPOSE).kid]
        self._generation = view.generation

    def active(self) -> RSAKey:
        self._load()
        assert self._active is not None
        return self._active

    def published(self) -> list[RSAKey]:
        """The active key first, then the next and the previous ones (not retired)."""
        self._load()
        return list(self._published)
