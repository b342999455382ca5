"""Checking the query-string signature of a Redirect-binding message: an AuthnRequest, or a
LogoutRequest / LogoutResponse (``message`` names the parameter: SAMLRequest or SAMLResponse).

Why not pysaml2's ``verify_redirect_signature``: it re-encodes the parameters
before verifying (so it rejects SPs whose URL encoding differs from Python's) and
accepts RSA-SHA1. SAML Bindings §3.4.4.1 says the signed octets are the
parameters *as received*; we verify exactly those, with the SP's metadata keys
only, and only with pinned algorithms.
"""

from __future__ import annotations

import base64
import binascii
from urllib.parse import quote_plus, unquote_plus

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from saml2.xmldsig import SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512

#: Signature algorithms accepted on requests (no SHA-1, no DSA).
ALLOWED_SIG_ALGS: dict[str, type[hashes.HashAlgorithm]] = {
    SIG_RSA_SHA256: hashes.SHA256,
    SIG_RSA_SHA384: hashes.SHA384,
    SIG_RSA_SHA512: hashes.SHA512,
}

#: The message parameters a Redirect binding may carry.
MESSAGES = ("SAMLRequest", "SAMLResponse")


def signed_params(message: str = "SAMLRequest") -> tuple[str, str, str]:
    """The signed parameters, in the order the binding fixes."""
    return (message, "RelayState", "SigAlg")

#: A 4096-bit RSA signature is 684 base64 characters; leave room, but not much.
MAX_SIGNATURE_CHARS = 2048


def _raw_params(raw_query: str, names: tuple[str, ...]) -> dict[str, str]:
    """First occurrence of each signed parameter, still URL-encoded."""
    found: dict[str, str] = {}
    for part in raw_query.split("&"):
        key, _, value = part.partition("=")
        if key in names and key not in found:
            found[key] = value
    return found


def signed_octets(request_uri: str | None, params: dict[str, str],
                  message: str = "SAMLRequest") -> bytes | None:
    """The octets the SP signed, or None when the received query does not match ``params``.

    ``params`` are the decoded parameters the frontend acts on; the raw query must
    carry exactly those values, otherwise we would verify one thing and use another.
    """
    names = signed_params(message)
    wanted = [k for k in names if k in params]
    if request_uri and "?" in request_uri:
        raw = _raw_params(request_uri.split("?", 1)[1], names)
        if set(raw) != set(wanted) or any(unquote_plus(raw[k]) != params[k] for k in wanted):
            return None
        parts = [f"{k}={raw[k]}" for k in wanted]
    else:  # server without the raw URI: Python's encoding, as pysaml2 signs
        parts = [f"{k}={quote_plus(params[k])}" for k in wanted]
    try:
        return "&".join(parts).encode("ascii")
    except UnicodeEncodeError:
        return None


def _rsa_keys(certs_b64: list[str]) -> list[rsa.RSAPublicKey]:
    keys = []
    for cert_b64 in certs_b64:
        try:
            cert = x509.load_der_x509_certificate(base64.b64decode(cert_b64))
        except (ValueError, binascii.Error):
            continue
        key = cert.public_key()
        if isinstance(key, rsa.RSAPublicKey):
            keys.append(key)
    return keys


def verify_redirect_signature(request_uri: str | None, params: dict[str, str],
                              certs_b64: list[str], message: str = "SAMLRequest") -> bool:
    """True only when ``Signature`` over the received parameters verifies with a metadata key."""
    if message not in MESSAGES or message not in params:
        return False
    sig_alg = params.get("SigAlg", "")
    signature = params.get("Signature", "")
    hash_cls = ALLOWED_SIG_ALGS.get(sig_alg)
    if hash_cls is None or not signature or len(signature) > MAX_SIGNATURE_CHARS:
        return False
    try:
        sig = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError):
        return False
    names = signed_params(message)
    octets = signed_octets(request_uri, {k: v for k, v in params.items() if k in names}, message)
    if octets is None:
        return False
    for key in _rsa_keys(certs_b64):
        try:
            key.verify(sig, octets, padding.PKCS1v15(), hash_cls())
            return True
        except InvalidSignature:
            continue
    return False
