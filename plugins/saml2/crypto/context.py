"""The security context every pysaml2 object of the proxy uses: the crypto backend the
settings choose (``saml.crypto``), installed on each ``Server`` and ``Saml2Client`` we build.

pysaml2 builds an ``xmlsec1`` context by itself in every ``Entity``; :func:`install` replaces
it right after construction, before any message is handled, with:

* ``in_process`` (default): :class:`.backend.CryptoBackendInProcess`, and the metadata
  certificates handed to it as PEM text rather than written to temporary files
  (:class:`PemMetadata`);
* ``xmlsec1``: pysaml2's binary backend, its version asked once (:mod:`.binary`).

Everything else in the context is pysaml2's, built from the same configuration as before:
our key and certificate, the metadata, ``only_use_keys_in_metadata``, the decryption keys
(``encryption_keypairs``), and the in-process RSA signer of the Redirect binding.

Whichever backend, the schema validation pysaml2 makes before each signature check is
libxml2's (:mod:`plugins.saml2.schema_validation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal, cast, get_args

from saml2.sigver import (
    RSACrypto,
    SecurityContext,
    get_xmlsec_binary,
    import_rsa_key_from_file,
    pem_format,
)

from .. import schema_validation
from .backend import CryptoBackendInProcess
from .binary import CryptoBackendXmlSec1Once

Crypto = Literal["in_process", "xmlsec1"]
DEFAULT: Crypto = "in_process"

_in_process = CryptoBackendInProcess()
_binaries: dict[str, CryptoBackendXmlSec1Once] = {}


def crypto_of(config: Mapping[str, Any]) -> Crypto:
    """The plugin config's ``crypto`` (copied from the settings' ``saml.crypto``, checked
    there already: :func:`.setting.check_crypto`)."""
    value = config.get("crypto") or DEFAULT
    if value not in get_args(Crypto):
        raise ValueError(f"saml.crypto: {value!r} is not a crypto backend: write "
                         f"{' or '.join(get_args(Crypto))}")
    return cast(Crypto, value)


def backend_for(crypto: Crypto, conf: Any = None) -> Any:
    """One backend per worker for each choice (the binary one per binary path)."""
    if crypto == "in_process":
        return _in_process
    binary = getattr(conf, "xmlsec_binary", None) or get_xmlsec_binary(
        getattr(conf, "xmlsec_path", None) or [])
    if binary not in _binaries:
        _binaries[binary] = CryptoBackendXmlSec1Once(binary)
    return _binaries[binary]


class _PemCert:
    """A metadata certificate as pysaml2's ``_check_signature`` passes it on: it hands
    ``.name`` to the backend, which reads PEM text as well as a file name."""

    def __init__(self, pem: str) -> None:
        self.name = pem


class PemMetadata:
    """The metadata store, whose signing certificates come out as PEM text, not temp files.

    pysaml2 writes every ``str`` certificate to a temporary file before each verification,
    and passes other objects through; everything else is the wrapped store's.
    """

    def __init__(self, store: Any) -> None:
        self._store = store

    def certs(self, entity_id: Any, descriptor: str, use: str = "signing") -> list:
        return [(name, _PemCert(pem_format(cert).decode("ascii")) if isinstance(cert, str)
                 else cert)
                for name, cert in self._store.certs(entity_id, descriptor, use)]

    def __len__(self) -> int:
        return len(self._store)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)


def security_context(conf: Any, crypto: Crypto) -> SecurityContext:
    """pysaml2's security context for ``conf``, with the chosen backend."""
    metadata = getattr(conf, "metadata", None)
    key_file = conf.getattr("key_file", "")
    keypairs = conf.encryption_keypairs or []
    sec = SecurityContext(
        backend_for(crypto, conf),
        conf.key_file,
        cert_file=conf.cert_file,
        metadata=PemMetadata(metadata) if crypto == "in_process" and metadata else metadata,
        only_use_keys_in_metadata=conf.only_use_keys_in_metadata,
        cert_handler_extra_class=conf.cert_handler_extra_class,
        generate_cert_info=conf.generate_cert_info,
        tmp_cert_file=conf.tmp_cert_file,
        tmp_key_file=conf.tmp_key_file,
        validate_certificate=conf.validate_certificate,
        enc_key_files=[kp["key_file"] for kp in keypairs if "key_file" in kp],
        encryption_keypairs=conf.encryption_keypairs,
        sec_backend=RSACrypto(import_rsa_key_from_file(key_file)) if key_file else None,
        delete_tmpfiles=conf.delete_tmpfiles,
    )
    return sec


def install(entity: Any, crypto: Crypto) -> Any:
    """Give ``entity`` (a pysaml2 ``Server`` or ``Saml2Client``) the chosen backend, and
    pysaml2 the libxml2 schema validator (:mod:`plugins.saml2.schema_validation`)."""
    schema_validation.install()
    entity.sec = security_context(entity.config, crypto)
    return entity
