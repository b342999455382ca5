"""Sealing record fields so that the store alone reveals no attribute value.

A record keyed by the hash of a bearer secret (SSO session cookie, flow cookie,
parked consent response, OIDC code, access token, account cookie) holds the
citizen's values *sealed under that secret*: AES-256-GCM with a key derived by
HKDF-SHA256 from the secret, which is never stored. Only the request carrying the
secret can open it; a dump, a replica or a backup of the store cannot.

What another channel needs without the citizen's cookie (the NameID a service
received, what the identity source needs for its own logout) is sealed under the
proxy's *at-rest key* instead: 32 random bytes in the data folder
(``keys/at-rest.secret``, mode 0600, never in the store), the same on every worker
and host sharing the store. It rotates with overlap (:mod:`idp.keyring`): sealed with the
active key, opened with any key not retired — so records sealed before ``ncconnect keys
activate at-rest`` open until the previous key is retired (``keys retire`` waits for the
longest SSO session).

Every blob is bound to where it lives: HKDF's ``info`` names the key source and the
namespace, and the AAD names the namespace and the record key, so a blob copied to
another record (or another namespace) does not open. A fresh random 96-bit nonce is
drawn per seal. Failure to open — wrong secret, moved or tampered blob, a record of an
older version — raises :class:`Unsealable`, which callers treat as an absent record.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from idp.keyring.secret_set import SecretSet, secret_set

logger = logging.getLogger("ncconnect.store")

#: The keyring purpose of the at-rest key.
PURPOSE = "at-rest"

#: Prefix of every sealed blob: the format version, so a later format can be told apart.
PREFIX = "s1."
_NONCE = 12
#: Key sources, named in HKDF's ``info``: a blob sealed under a cookie and one sealed under
#: the at-rest key never share a key, even for equal input bytes.
BEARER = "bearer"
AT_REST = "at-rest"


class Unsealable(ValueError):
    """The blob does not open with this secret here: wrong secret, moved, tampered, or not a
    sealed blob at all. Never carries the blob or the secret."""


def _aead(source: str, secret: bytes, namespace: str) -> AESGCM:
    if not secret:
        raise Unsealable("no secret to open or seal with")
    info = b"ncconnect/seal/v1\x00" + source.encode() + b"\x00" + namespace.encode()
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(secret)
    return AESGCM(key)


def _aad(namespace: str, key: str) -> bytes:
    return namespace.encode("utf-8") + b"\x00" + key.encode("utf-8", errors="surrogatepass")


def _bytes(secret: bytes | str) -> bytes:
    return secret if isinstance(secret, bytes) else secret.encode("utf-8", "surrogatepass")


def _seal(source: str, secret: bytes, namespace: str, key: str, value: Any) -> str:
    nonce = secrets.token_bytes(_NONCE)
    plain = json.dumps(value, separators=(",", ":"), sort_keys=True).encode("utf-8")
    sealed = _aead(source, secret, namespace).encrypt(nonce, plain, _aad(namespace, key))
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode("ascii").rstrip("=")


def _open(source: str, secret: bytes, namespace: str, key: str, blob: object) -> Any:
    if not isinstance(blob, str) or not blob.startswith(PREFIX):
        raise Unsealable("not a sealed blob (a record of an older version?)")
    body = blob[len(PREFIX):]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError) as exc:
        raise Unsealable("sealed blob is not base64") from exc
    if len(raw) < _NONCE + 16:
        raise Unsealable("sealed blob too short")
    try:
        plain = _aead(source, secret, namespace).decrypt(raw[:_NONCE], raw[_NONCE:],
                                                         _aad(namespace, key))
    except InvalidTag as exc:
        raise Unsealable("sealed blob does not open here (wrong secret, moved or tampered)") \
            from exc
    return json.loads(plain)


def seal(secret: bytes | str, namespace: str, key: str, value: Any) -> str:
    """``value`` (JSON-serialisable) sealed under a bearer secret, for record ``key`` of
    ``namespace``."""
    return _seal(BEARER, _bytes(secret), namespace, key, value)


def unseal(secret: bytes | str, namespace: str, key: str, blob: object) -> Any:
    """What :func:`seal` sealed; raises :class:`Unsealable`."""
    return _open(BEARER, _bytes(secret), namespace, key, blob)


class AtRestKey:
    """The proxy's at-rest keys: seal what is needed without the citizen's cookie."""

    def __init__(self, secret: bytes | SecretSet) -> None:
        if isinstance(secret, bytes):
            if len(secret) < 32:
                raise ValueError("at-rest key: 32 bytes at least")
            secret = SecretSet(PURPOSE, fixed=secret)
        self._secrets = secret

    def __repr__(self) -> str:  # never print the key
        return "AtRestKey(…)"

    def seal(self, namespace: str, key: str, value: Any) -> str:
        """Sealed with the active key."""
        return _seal(AT_REST, self._secrets.active, namespace, key, value)

    def unseal(self, namespace: str, key: str, blob: object) -> Any:
        """Opened with the active key, else with any other not retired."""
        failure: Unsealable | None = None
        for secret in self._secrets.accepted:
            try:
                return _open(AT_REST, secret, namespace, key, blob)
            except Unsealable as exc:
                failure = exc
        raise failure or Unsealable("no at-rest key")

    @classmethod
    def from_file(cls, path: str | Path) -> AtRestKey:
        """The keys of the keyring holding ``path``, or the one key in ``path`` (hex, like the
        other secrets) when its folder has no keyring; one object per process."""
        resolved = str(Path(path).resolve())
        key = _loaded.get(resolved)
        if key is None:
            key = cls(secret_set(Path(resolved), PURPOSE))
            _loaded[resolved] = key
        return key

    @classmethod
    def ephemeral(cls) -> AtRestKey:
        """A key held by this process only (unit tests building a component by hand); what it
        seals is lost with the process, which is the safe failure."""
        global _ephemeral
        if _ephemeral is None:
            logger.warning("no at-rest key configured: using one held by this process only")
            _ephemeral = cls(secrets.token_bytes(32))
        return _ephemeral


_loaded: dict[str, AtRestKey] = {}
_ephemeral: AtRestKey | None = None


def at_rest_key(config: Any) -> AtRestKey:
    """The at-rest key a plugin's assembled configuration names (``at_rest_key_path``)."""
    path = config.get("at_rest_key_path") if hasattr(config, "get") else None
    return AtRestKey.from_file(path) if path else AtRestKey.ephemeral()


def ensure_at_rest_key(path: Path) -> bool:
    """Create the at-rest key file (0600) when missing; ``True`` when it was created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32))
    logger.warning("at-rest key created: copy it to every host sharing the store",
                   extra={"path": str(path)})
    return True
