"""Query-string signatures of Redirect-binding logout messages (``SAMLRequest`` *or*
``SAMLResponse``), checked like :mod:`.redirect_signature` checks AuthnRequests.

The same rules, for the same reasons: the signed octets are the parameters exactly as
received (SAML Bindings §3.4.4.1), the keys are the SP's metadata signing keys only,
the algorithms are pinned (no RSA-SHA1). Only the name of the message parameter
differs, which :func:`.redirect_signature.verify_redirect_signature` fixes to
``SAMLRequest``.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote_plus, unquote_plus

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from .redirect_signature import ALLOWED_SIG_ALGS, MAX_SIGNATURE_CHARS

MESSAGES = ("SAMLRequest", "SAMLResponse")


def _signed_names(message: str) -> tuple[str, str, str]:
    return (message, "RelayState", "SigAlg")


def signed_octets(request_uri: str | None, params: dict[str, str],
                  message: str) -> bytes | None:
    """The octets the sender signed; ``None`` when the raw query does not carry exactly the
    decoded ``params`` the frontend acts on."""
    names = _signed_names(message)
    wanted = [k for k in names if k in params]
    if request_uri and "?" in request_uri:
        raw: dict[str, str] = {}
        for part in request_uri.split("?", 1)[1].split("&"):
            key, _, value = part.partition("=")
            if key in names and key not in raw:
                raw[key] = value
        if set(raw) != set(wanted) or any(unquote_plus(raw[k]) != params[k] for k in wanted):
            return None
        parts = [f"{k}={raw[k]}" for k in wanted]
    else:
        parts = [f"{k}={quote_plus(params[k])}" for k in wanted]
    try:
        return "&".join(parts).encode("ascii")
    except UnicodeEncodeError:
        return None


def _rsa_keys(certs_b64: list[str]) -> list[rsa.RSAPublicKey]:
    keys = []
    for cert_b64 in certs_b64:
        try:
            key = x509.load_der_x509_certificate(base64.b64decode(cert_b64)).public_key()
        except (ValueError, binascii.Error):
            continue
        if isinstance(key, rsa.RSAPublicKey):
            keys.append(key)
    return keys


def verify_query_signature(request_uri: str | None, params: dict[str, str],
                           certs_b64: list[str], message: str) -> bool:
    """True only when ``Signature`` over the received parameters verifies with a metadata key."""
    if message not in MESSAGES or message not in params:
        return False
    hash_cls = ALLOWED_SIG_ALGS.get(params.get("SigAlg", ""))
    signature = params.get("Signature", "")
    if hash_cls is None or not signature or len(signature) > MAX_SIGNATURE_CHARS:
        return False
    try:
        sig = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    names = _signed_names(message)
    octets = signed_octets(request_uri, {k: v for k, v in params.items() if k in names},
                           message)
    if octets is None:
        return False
    for key in _rsa_keys(certs_b64):
        try:
            key.verify(sig, octets, padding.PKCS1v15(), hash_cls())
            return True
        except InvalidSignature:
            continue
    return False
