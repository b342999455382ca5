"""First look at a posted SAMLResponse, before pysaml2 sees it: decoding, shape, algorithms.

* the base64 must decode strictly and the XML must parse without DTDs or entities;
* every ``ds:Signature`` must use a SHA-2 SignatureMethod and DigestMethod: xmlsec1
  still verifies SHA-1 signatures, which we do not accept from an identity source;
* a successful response carries exactly one ``saml:Assertion`` in the whole document,
  as a direct child of the Response — or exactly one ``saml:EncryptedAssertion`` there,
  whose algorithms are checked before anything is decrypted (:mod:`.encryption`), and
  nothing else encrypted anywhere; no assertion hidden elsewhere, no signature but the
  Response's and the assertion's, each enveloped, and no ID twice (signature-wrapping
  shapes, :mod:`.signature_policy`); which of the two must be signed is the source's
  ``saml2.signature`` (:func:`.signature_policy.check_policy`, in the backend);
* once an ``EncryptedAssertion`` is opened (one layer, by :func:`.encryption.decrypt_once`,
  then again by pysaml2), the decrypted document passes the same checks
  (:func:`check_decrypted`, which tells whether the assertion inside is signed):
  encryption hides the inner signature's algorithms and shape from the first look, and
  anyone can encrypt to our public key;
* the top-level status is read here, so a refusal (no assertion) is recognised
  without being mistaken for a malformed response.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from saml2.xmldsig import (
    DIGEST_SHA256,
    DIGEST_SHA384,
    DIGEST_SHA512,
    SIG_ECDSA_SHA256,
    SIG_ECDSA_SHA384,
    SIG_ECDSA_SHA512,
    SIG_RSA_SHA256,
    SIG_RSA_SHA384,
    SIG_RSA_SHA512,
)

from idp.quoting import quoted

from .encryption import XENC, check_encrypted_assertion
from .errors import InvalidSamlResponse
from .signature_policy import check_signature_places, check_unique_ids, enveloped_signature

SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
STATUS_SUCCESS = "urn:oasis:names:tc:SAML:2.0:status:Success"

ALLOWED_SIGNATURE_METHODS = frozenset({
    SIG_RSA_SHA256, SIG_RSA_SHA384, SIG_RSA_SHA512,
    SIG_ECDSA_SHA256, SIG_ECDSA_SHA384, SIG_ECDSA_SHA512,
})
ALLOWED_DIGEST_METHODS = frozenset({DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512})

#: Largest decoded response; the application already bounds the POST body.
MAX_XML_BYTES = 256 * 1024


@dataclass(frozen=True)
class ResponseShape:
    xml: bytes
    status: str
    sub_status: str | None
    in_response_to: str | None
    destination: str | None
    issuer: str | None
    #: The assertion came encrypted (:func:`check_decrypted` then applies).
    encrypted: bool = False
    #: The Response carries its own enveloped signature (not verified yet).
    response_signed: bool = False
    #: The plain assertion carries one; ``None`` while encrypted (:func:`check_decrypted`).
    assertion_signed: bool | None = None


def decode(saml_response: str) -> bytes:
    """Strict base64 (whitespace tolerated, nothing else)."""
    compact = "".join(saml_response.split())
    if not compact:
        raise InvalidSamlResponse("SAMLResponse missing")
    try:
        data = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSamlResponse("SAMLResponse is not base64") from exc
    if len(data) > MAX_XML_BYTES:
        raise InvalidSamlResponse("SAMLResponse too large")
    return data


def _parse(xml: bytes) -> Element:
    try:
        return fromstring(xml, forbid_dtd=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        raise InvalidSamlResponse(f"SAMLResponse is not acceptable XML ({type(exc).__name__})") \
            from exc


def check_algorithms(root: Element) -> None:
    for sig in root.iter(f"{{{DS}}}Signature"):
        methods = sig.findall(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")
        if len(methods) != 1:
            raise InvalidSamlResponse("signature without exactly one SignatureMethod")
        alg = methods[0].get("Algorithm")
        if alg not in ALLOWED_SIGNATURE_METHODS:
            raise InvalidSamlResponse(f"signature algorithm refused: {quoted(alg)}")
        digests = sig.findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestMethod")
        if not digests:
            raise InvalidSamlResponse("signature without DigestMethod")
        for digest in digests:
            if digest.get("Algorithm") not in ALLOWED_DIGEST_METHODS:
                raise InvalidSamlResponse(
                    f"digest algorithm refused: {quoted(digest.get('Algorithm'))}")


def _status(root: Element) -> tuple[str, str | None]:
    code = root.find(f"{{{SAMLP}}}Status/{{{SAMLP}}}StatusCode")
    if code is None or not code.get("Value"):
        raise InvalidSamlResponse("response without StatusCode")
    sub = code.find(f"{{{SAMLP}}}StatusCode")
    return code.get("Value", ""), (sub.get("Value") if sub is not None else None)


def _one_assertion(parent: Element, root: Element) -> bool:
    """The one Assertion of the document, directly in ``parent``; whether it is signed.
    Signatures: enveloped, and only the Response's and this assertion's."""
    everywhere = list(root.iter(f"{{{SAML}}}Assertion"))
    direct = parent.findall(f"{{{SAML}}}Assertion")
    if len(everywhere) != 1 or len(direct) != 1:
        raise InvalidSamlResponse(f"expected exactly one Assertion, found {len(everywhere)}")
    check_signature_places(root, (root, direct[0]))
    _one_class_ref(direct[0])
    return enveloped_signature(direct[0], "assertion")


def _one_class_ref(assertion: Element) -> None:
    """At most one AuthnContextClassRef in each AuthnContext (the schema's choice): pysaml2
    would keep the last of two, so a source's second value could replace the level checked."""
    for context in assertion.iter(f"{{{SAML}}}AuthnContext"):
        if len(context.findall(f"{{{SAML}}}AuthnContextClassRef")) > 1:
            raise InvalidSamlResponse("AuthnContext with more than one AuthnContextClassRef")


def check_assertion_shape(root: Element) -> tuple[bool, bool | None]:
    """The assertion's place in a successful response: (encrypted, signed — ``None`` while
    encrypted)."""
    encrypted = list(root.iter(f"{{{SAML}}}EncryptedAssertion"))
    if not encrypted:
        if next(root.iter(f"{{{XENC}}}EncryptedData"), None) is not None:
            # EncryptedID, EncryptedAttribute: nothing but a whole assertion is decrypted.
            raise InvalidSamlResponse("encrypted content outside an EncryptedAssertion")
        return False, _one_assertion(root, root)
    direct = root.findall(f"{{{SAML}}}EncryptedAssertion")
    if len(encrypted) != 1 or len(direct) != 1 \
            or next(root.iter(f"{{{SAML}}}Assertion"), None) is not None:
        raise InvalidSamlResponse("expected exactly one EncryptedAssertion and no Assertion")
    if len(list(root.iter(f"{{{XENC}}}EncryptedData"))) != 1:
        raise InvalidSamlResponse("encrypted content outside the EncryptedAssertion")
    check_signature_places(root, (root,))
    check_encrypted_assertion(direct[0])
    return True, None


def check_decrypted(xml: str | bytes) -> bool:
    """A response with its EncryptedAssertion opened: one Assertion, right inside the
    EncryptedAssertion, SHA-2 signatures, and nothing left encrypted; whether that
    assertion is signed."""
    root = _parse(xml.encode("utf-8") if isinstance(xml, str) else xml)
    if root.tag != f"{{{SAMLP}}}Response":
        raise InvalidSamlResponse("decrypted document is not a samlp:Response")
    check_algorithms(root)
    check_unique_ids(root)
    if next(root.iter(f"{{{XENC}}}EncryptedData"), None) is not None:
        raise InvalidSamlResponse("encrypted content left after decryption")
    holders = root.findall(f"{{{SAML}}}EncryptedAssertion")
    if len(holders) != 1:
        raise InvalidSamlResponse("decrypted assertion not where it was encrypted")
    return _one_assertion(holders[0], root)


def inspect(xml: bytes) -> ResponseShape:
    root = _parse(xml)
    if root.tag != f"{{{SAMLP}}}Response":
        raise InvalidSamlResponse("not a samlp:Response")
    check_algorithms(root)
    check_unique_ids(root)
    response_signed = enveloped_signature(root, "Response")
    status, sub_status = _status(root)
    encrypted, assertion_signed = check_assertion_shape(root) if status == STATUS_SUCCESS \
        else (False, None)
    issuer = root.find(f"{{{SAML}}}Issuer")
    return ResponseShape(
        xml=xml, status=status, sub_status=sub_status,
        in_response_to=root.get("InResponseTo"), destination=root.get("Destination"),
        issuer=(issuer.text or "").strip() if issuer is not None else None,
        encrypted=encrypted, response_signed=response_signed,
        assertion_signed=assertion_signed,
    )
