"""Keys for the in-process backend, loaded once per worker.

A private key is named by its file (our signing key, our decryption key); a certificate
by its file or by its PEM text (the peer's certificates come from its metadata, handed over
as text so that nothing is written to a temporary file). Each is parsed once and kept for
the life of the worker; python-xmlsec copies a key into every context that uses it, so one
cached :class:`xmlsec.Key` is never shared by two operations.

A file is re-read when its modification time or size changes (``ncconnect keys`` rotation
followed by a reload starts new workers anyway).
"""

from __future__ import annotations

import os
import threading

import xmlsec

from .errors import CryptoRefused

#: PEM text starts with this; anything else given as a key or certificate is a file name.
PEM_PREFIX = "-----BEGIN "

_lock = threading.Lock()
_cache: dict[tuple, xmlsec.Key] = {}
#: Bound on distinct entries (metadata certificates, rotated files): far above any federation.
MAX_ENTRIES = 4096


def is_pem_text(spec: str | bytes) -> bool:
    text = spec.decode("ascii", "replace") if isinstance(spec, bytes) else spec
    return text.lstrip().startswith(PEM_PREFIX)


def _file_id(path: str) -> tuple[int, int]:
    try:
        st = os.stat(path)
    except OSError as exc:
        raise CryptoRefused(f"key file cannot be read: {path} ({exc.strerror})") from exc
    return st.st_mtime_ns, st.st_size


def _cached(cache_key: tuple, load) -> xmlsec.Key:
    with _lock:
        found = _cache.get(cache_key)
    if found is not None:
        return found
    try:
        key = load()
    except xmlsec.Error as exc:
        raise CryptoRefused(f"key or certificate cannot be loaded ({exc})") from exc
    with _lock:
        if len(_cache) >= MAX_ENTRIES:
            _cache.clear()
        _cache[cache_key] = key
    return key


def private_key(spec: str | bytes) -> xmlsec.Key:
    """Our private key (PEM, PKCS#1 or PKCS#8), from its file or its PEM text."""
    return _key(spec, xmlsec.KeyFormat.PEM, "private")


def certificate_key(spec: str | bytes) -> xmlsec.Key:
    """The public key of an X.509 certificate, from its PEM file or its PEM text."""
    return _key(spec, xmlsec.KeyFormat.CERT_PEM, "cert")


def _key(spec: str | bytes, fmt: int, kind: str) -> xmlsec.Key:
    """Loaded once: PEM text by its bytes, a file by its path and identity (a replaced file is
    read again)."""
    if is_pem_text(spec):
        data = spec.encode("ascii") if isinstance(spec, str) else spec
        return _cached((f"{kind}-pem", data), lambda: xmlsec.Key.from_memory(data, fmt, None))
    path = os.fsdecode(spec)
    return _cached((f"{kind}-file", path, *_file_id(path)),
                   lambda: xmlsec.Key.from_file(path, fmt, None))


def clear() -> None:
    """Forget every loaded key (tests)."""
    with _lock:
        _cache.clear()
