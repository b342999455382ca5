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
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID


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
    """Create the missing keys (all of them with ``force``); returns what was written."""
    paths = KeyPaths(folder)
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    todo = paths.all() if force else paths.missing()
    written: list[Path] = []
    if paths.oidc_signing_key in todo:
        _write_private(paths.oidc_signing_key, rsa_key_pem()[1])
        written.append(paths.oidc_signing_key)
    if paths.saml_key in todo or paths.saml_cert in todo:
        write_key_pair(paths.saml_key, paths.saml_cert, common_name)
        written += [paths.saml_key, paths.saml_cert]
    if paths.saml_encryption_key in todo or paths.saml_encryption_cert in todo:
        write_key_pair(paths.saml_encryption_key, paths.saml_encryption_cert,
                       f"{common_name} (encryption)")
        written += [paths.saml_encryption_key, paths.saml_encryption_cert]
    for secret in (paths.pairwise_secret, paths.csrf_secret, paths.at_rest_key):
        if secret in todo:
            _write_private(secret, secrets.token_hex(32).encode())
            written.append(secret)
    return written


def read_secret(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())
