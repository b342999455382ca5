"""The ``xmlsec1`` fallback (``saml.crypto: xmlsec1``): pysaml2's own backend, which runs the
binary for every signature, verification and decryption, except for its ``xmlsec1
--version`` before each of them.

pysaml2 asks the binary's version each time it runs it (to pick ``--lax-key-search`` and
how to read the verification output). Here the version is read once per worker, when the
backend is built at start-up, and kept: no login runs ``xmlsec1 --version``.
"""

from __future__ import annotations

import subprocess

from saml2.sigver import CryptoBackendXmlSec1, SigverError


def binary_version(binary: str) -> str:
    """``1.2.37`` for ``xmlsec1 1.2.37 (openssl)``."""
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, timeout=10,
                             check=False).stdout.decode("ascii", "replace")
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SigverError(f"{binary} cannot be run: {exc}") from exc
    parts = out.split()
    if len(parts) < 2 or not all(p.isdigit() for p in parts[1].split(".")):
        raise SigverError(f"{binary} --version: unexpected answer {out.strip()!r}")
    return parts[1]


class CryptoBackendXmlSec1Once(CryptoBackendXmlSec1):
    """pysaml2's ``xmlsec1`` backend with the version asked once."""

    name = "xmlsec1"

    def __init__(self, xmlsec_binary: str, delete_tmpfiles: bool = True) -> None:
        super().__init__(xmlsec_binary, delete_tmpfiles=delete_tmpfiles)
        self._version = binary_version(xmlsec_binary)

    @property
    def version(self) -> str:
        return self._version
