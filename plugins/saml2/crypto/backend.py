"""pysaml2's crypto backend, in process, on python-xmlsec (libxmlsec1 bindings).

pysaml2's :class:`~saml2.sigver.SecurityContext` calls a backend for four things; this one
does them without a child process, a temporary file or ``xmlsec1 --version``:

* :meth:`sign_statement`: fill the signature template of the element ``node_name`` with ID
  ``node_id`` (pysaml2 has placed it, with its algorithms);
* :meth:`validate_signature`: verify the enveloped signature of exactly that element, with
  exactly the certificate given (from the peer's metadata: ``KeyInfo`` in the message is
  never used), after :mod:`.profile` and :mod:`.xmltree` have refused any other shape;
* :meth:`encrypt_assertion`: AES-GCM + RSA-OAEP for the service's certificate;
* :meth:`decrypt`: the first ``EncryptedData``, AES-GCM + RSA-OAEP only.

pysaml2 keeps its own checks around these calls (``_check_signature``: signature profile on
its parse, keys from metadata only, then its parsed object is what the application uses);
ours repeat them on the tree libxmlsec1 actually verifies, which is what makes "the element
verified is the element used" hold across two parsers: one element only carries the ID,
it has the expected name, and its own direct ``Signature`` references it.

Errors are pysaml2's (:mod:`.errors`), so a refusal here follows the same path as a failure
of ``xmlsec1`` did.
"""

from __future__ import annotations

from typing import Any

import xmlsec
from saml2.saml import SamlBase
from saml2.sigver import (
    ASSERT_XPATH,
    CryptoBackend,
    DecryptError,
    EncryptError,
    SignatureError,
    pre_encrypt_assertion,
)

from . import encryption, keys, profile, xmltree
from .errors import CryptoRefused


def _text(value: Any) -> str | bytes:
    if isinstance(value, bytes | str):
        return value
    return str(value)


class CryptoBackendInProcess(CryptoBackend):
    """Signing, verification and XML encryption with python-xmlsec, in the worker."""

    name = "in_process"

    @property
    def version(self) -> str:
        return str(xmlsec.__version__)

    # -- signatures --------------------------------------------------------------------

    def sign_statement(self, statement: Any, node_name: str, key_file: str,
                       node_id: str | None) -> str:
        try:
            root = xmltree.parse(_text(statement))
            node = xmltree.node_by_id(root, node_name, node_id)
            signature = xmltree.own_signature(node)
            profile.check_signature(signature, node.get("ID"))
            ctx = xmlsec.SignatureContext()
            profile.restrict(ctx)
            ctx.key = keys.private_key(key_file)
            ctx.register_id(node, "ID")
            ctx.sign(signature)
        except (CryptoRefused, xmlsec.Error) as exc:
            raise SignatureError(f"in-process signing refused: {exc}") from exc
        return xmltree.serialize(root)

    def validate_signature(self, signedtext: Any, cert_file: str, cert_type: str,
                           node_name: str, node_id: str | None) -> bool:
        """True when the signature of the element verifies; a refusal raises
        :class:`~.errors.CryptoRefused` (an ``XmlsecError``, as ``xmlsec1``'s FAIL did)."""
        if cert_type != "pem":
            raise CryptoRefused(f"certificate type {cert_type!r}: PEM only")
        root = xmltree.parse(_text(signedtext))
        node = xmltree.node_by_id(root, node_name, node_id)
        signature = xmltree.own_signature(node)
        # No node_id (signed metadata): the root, by its own ID.
        profile.check_signature(signature, node_id or node.get("ID"))
        ctx = xmlsec.SignatureContext()
        profile.restrict(ctx)
        ctx.key = keys.certificate_key(cert_file)
        ctx.register_id(node, "ID")
        try:
            ctx.verify(signature)
        except xmlsec.Error as exc:
            raise CryptoRefused(f"signature does not verify ({exc})") from exc
        return True

    # -- encryption --------------------------------------------------------------------

    def encrypt_assertion(self, statement: Any, enc_key: str, template: Any,
                          key_type: str = "aes-256", node_xpath: str | None = None,
                          node_id: str | None = None) -> str:
        if isinstance(statement, SamlBase):
            statement = pre_encrypt_assertion(statement)
        try:
            root = xmltree.parse(_text(statement))
            targets = root.xpath(node_xpath or ASSERT_XPATH)
            if len(targets) != 1:
                raise CryptoRefused(f"{len(targets)} elements to encrypt, not one")
            encryption.encrypt_node(targets[0], xmltree.parse(_text(template)), enc_key,
                                    key_type)
        except (CryptoRefused, xmlsec.Error) as exc:
            raise EncryptError(f"in-process encryption refused: {exc}") from exc
        return xmltree.serialize(root)

    def encrypt(self, text: Any, recv_key: str, template: Any, key_type: str,
                xpath: str = "") -> str:
        """pysaml2's generic encryption (of the document's root, or ``xpath``)."""
        try:
            root = xmltree.parse(_text(text))
            targets = root.xpath(xpath) if xpath else [root]
            if len(targets) != 1 or targets[0] is root:
                raise CryptoRefused("only an element inside the document is encrypted")
            encryption.encrypt_node(targets[0], xmltree.parse(_text(template)), recv_key,
                                    key_type)
        except (CryptoRefused, xmlsec.Error) as exc:
            raise EncryptError(f"in-process encryption refused: {exc}") from exc
        return xmltree.serialize(root)

    def decrypt(self, enctext: Any, key_file: str) -> str:
        try:
            root = xmltree.parse(_text(enctext))
            encryption.decrypt_first(root, key_file)
        except (CryptoRefused, xmlsec.Error) as exc:
            raise DecryptError(f"in-process decryption refused: {exc}") from exc
        return xmltree.serialize(root)
