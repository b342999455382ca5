"""Keys of the proxy, created by ``ncconnect keys init`` into the data folder, never committed.

One RSA key signs ID tokens, one key/certificate pair signs SAML, another pair
receives encrypted SAML assertions from identity sources (a key used for one purpose
only: rolling one never touches the other, and a decryption key is never a signing
key); two random secrets derive pairwise identifiers and CSRF tokens, a third (the
at-rest key, also created at start when missing) seals in the store what is needed
without the citizen's cookie (:mod:`idp.stores.sealing`). They must be
identical on every worker and host, which is why they are files and not generated at
start. ``init_keys`` only adds what is missing, so a data folder made before a key
existed gets it from ``ncconnect keys init`` without losing the others.

Rotation (``ncconnect keys add | activate | retire``) is the keyring's (:mod:`idp.keyring`):
the files named here are the *first* key of each purpose; later keys have names of their
own, and the configuration passes these paths only to name the keys folder.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from .keyring.model import PURPOSES, now_utc
from .keyring.storage import (
    create_key,
    ensure_keyring,
    locked,
    read_keyring,
    state_path,
    write_keyring,
)


@dataclass(frozen=True)
class KeyPaths:
    folder: Path

    @property
    def oidc_signing_key(self) -> Path:
        return self.folder / "oidc-signing.pem"

    @property
    def saml_key(self) -> Path:
        return self.folder / "saml-signing.pem"

    @property
    def saml_cert(self) -> Path:
        return self.folder / "saml-signing.crt"

    @property
    def saml_encryption_key(self) -> Path:
        return self.folder / "saml-encryption.pem"

    @property
    def saml_encryption_cert(self) -> Path:
        return self.folder / "saml-encryption.crt"

    @property
    def pairwise_secret(self) -> Path:
        return self.folder / "pairwise.secret"

    @property
    def csrf_secret(self) -> Path:
        return self.folder / "csrf.secret"

    @property
    def at_rest_key(self) -> Path:
        """Seals in the store what other channels need without the citizen's cookie
        (:mod:`idp.stores.sealing`); never in the store itself."""
        return self.folder / "at-rest.secret"

    def all(self) -> list[Path]:
        return [self.oidc_signing_key, self.saml_key, self.saml_cert, self.saml_encryption_key,
                self.saml_encryption_cert, self.pairwise_secret, self.csrf_secret,
                self.at_rest_key]

    def missing(self) -> list[Path]:
        return [p for p in self.all() if not p.is_file()]


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def rsa_key_pem(bits: int = 2048) -> tuple[rsa.RSAPrivateKey, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return key, pem


def self_signed_cert(key: rsa.RSAPrivateKey, common_name: str, days: int = 3650) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM)


def write_key_pair(key_path: Path, cert_path: Path, common_name: str) -> None:
    """A SAML key and its self-signed certificate (SAML trusts the metadata, not a CA)."""
    key_path.parent.mkdir(parents=True, exist_ok=True)
    key, pem = rsa_key_pem()
    _write_private(key_path, pem)
    cert_path.write_bytes(self_signed_cert(key, common_name))


def init_keys(folder: Path, common_name: str = "NC Connect", force: bool = False) -> list[Path]:
    """Create the missing keys (all of them with ``force``) and the keyring listing them;
    returns what was written.

    Keys already in the folder are kept unchanged: a folder of single files becomes a
    keyring whose active keys are those files (:func:`idp.keyring.ensure_keyring`), and a
    purpose without an active key gets one, under the file name it always had.
    """
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    if force:
        with locked(folder):
            names = {p.legacy_key for p in PURPOSES.values()} \
                | {p.legacy_cert for p in PURPOSES.values() if p.legacy_cert}
            if state_path(folder).is_file():
                for r in read_keyring(folder).records:
                    names |= {n for n in (r.file, r.cert) if n}
                state_path(folder).unlink()
            for name in names:
                (folder / name).unlink(missing_ok=True)
    ensure_keyring(folder)
    written: list[Path] = []
    with locked(folder):
        ring = read_keyring(folder)
        repaired = False
        for record in list(ring.records):  # files deleted by hand: the key is gone
            if not record.retired and not all((folder / n).is_file()
                                              for n in (record.file, record.cert) if n):
                ring.replace(record, retired=now_utc(), deactivated=record.deactivated
                             or (now_utc() if record.activated else None))
                repaired = True
        for purpose in PURPOSES.values():
            if ring.active(purpose.name) is None:
                record = create_key(folder, ring, purpose, common_name,
                                    activate_after_seconds=0, active=True, legacy_names=True)
                written += [folder / n for n in (record.file, record.cert) if n]
        if written or repaired:
            write_keyring(folder, ring)
    return written


def read_secret(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())
