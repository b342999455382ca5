"""``saml.crypto`` in the settings: checked when the settings are read, so that a proxy whose
crypto backend cannot work refuses to start, naming the fix."""

from __future__ import annotations

import shutil

CHOICES = {
    "in_process": "python-xmlsec in the worker, the default",
    "xmlsec1": "the xmlsec1 binary, one process per operation, a fallback",
}


def check_crypto(value: str) -> str:
    """``value`` if it names a usable backend; ``ValueError`` with the fix otherwise."""
    if value not in CHOICES:
        raise ValueError(f"{value!r} is not a crypto backend: write in_process "
                         f"({CHOICES['in_process']}) or xmlsec1 ({CHOICES['xmlsec1']})")
    if value == "xmlsec1" and shutil.which("xmlsec1") is None:
        raise ValueError("xmlsec1: the xmlsec1 binary is not installed (Debian: apt-get "
                         "install xmlsec1), or write in_process")
    if value == "in_process":
        try:
            import xmlsec  # noqa: F401 - the check is the import (lxml's libxml2 must match)
        except Exception as exc:  # noqa: BLE001 - ImportError or xmlsec.InternalError
            raise ValueError(f"in_process: python-xmlsec cannot be loaded ({exc}): reinstall "
                             "the pinned xmlsec and lxml (pip install -e .), or write "
                             "xmlsec1") from exc
    return value
