"""What the in-process backend raises: pysaml2's own error types, so that its security
context treats a refusal of ours exactly as it treats a failure of ``xmlsec1`` (it tries the
next metadata key after an :class:`~saml2.sigver.XmlsecError`, then refuses the message)."""

from __future__ import annotations

from saml2.sigver import XmlsecError


class CryptoRefused(XmlsecError):
    """A document, algorithm or key the in-process backend will not sign, verify, encrypt or
    decrypt (the message says which check)."""
