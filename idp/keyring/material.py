"""Key material: creating a key of a purpose, and the ``kid`` that names it.

The ``kid`` is derived from the key, never chosen: the RFC 7638 thumbprint for the OIDC
signing key (what ID tokens always carried), a SHA-256 prefix of the certificate for SAML,
of a labelled hash for a secret (which names the secret without revealing it). Migrating a
data folder therefore gives its keys the ``kid`` they already had.
"""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptojwt.jwk.rsa import RSAKey

from .model import Purpose


def oidc_kid(pem: bytes) -> str:
    private = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private, rsa.RSAPrivateKey):
        raise ValueError("the OIDC signing key must be an RSA key")
    key = RSAKey(priv_key=private)
    key.add_kid()
    return str(key.kid)


def cert_kid(cert_pem: bytes) -> str:
    der = x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
    return hashlib.sha256(der).hexdigest()[:16]


def secret_kid(secret_hex: bytes) -> str:
    return hashlib.sha256(b"ncconnect/kid\x00" + secret_hex.strip()).hexdigest()[:16]


def kid_of(purpose: Purpose, key_file: Path, cert_file: Path | None) -> str:
    if purpose.kind == "rsa":
        return oidc_kid(key_file.read_bytes())
    if purpose.kind == "rsa-cert":
        assert cert_file is not None
        return cert_kid(cert_file.read_bytes())
    return secret_kid(key_file.read_bytes())


def new_material(purpose: Purpose, common_name: str) -> tuple[bytes, bytes | None]:
    """(private file content, certificate content or ``None``) of a fresh key."""
    from idp.keys import rsa_key_pem, self_signed_cert  # the one place keys are made

    if purpose.kind == "secret":
        return secrets.token_hex(32).encode(), None
    key, pem = rsa_key_pem()
    if purpose.kind == "rsa":
        return pem, None
    suffix = " (encryption)" if purpose.name == "saml-encryption" else ""
    return pem, self_signed_cert(key, common_name + suffix)
