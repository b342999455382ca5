"""The XML Signature profile the in-process backend verifies and signs, and nothing else.

SAML core §5.4 and our own choices (README, "Security choices"), checked on the very tree
libxmlsec1 then verifies — pysaml2 checks the same shape on its own parse, and both must
agree:

* one ``SignedInfo``, with exclusive canonicalisation;
* a SHA-2 ``SignatureMethod`` (RSA or ECDSA): no SHA-1, no MD5, no HMAC, no DSA;
* exactly one ``Reference``, whose ``URI`` is ``#`` + the ``ID`` of the element it envelops;
* its transforms: the enveloped-signature transform, and optionally exclusive
  canonicalisation — no XPath, XSLT or anything else;
* a SHA-2 ``DigestMethod``;
* no ``ds:Object`` (it can only carry data the signature does not make trustworthy).

Beyond the shape check, libxmlsec1 itself is only allowed these transforms
(:func:`restrict`), so an algorithm this module forgot could still not run.
"""

from __future__ import annotations

import xmlsec
from lxml import etree

from .errors import CryptoRefused
from .xmltree import DS

ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
EXC_C14N_COMMENTS = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"

CANONICALIZATIONS = frozenset({EXC_C14N, EXC_C14N_COMMENTS})
REFERENCE_TRANSFORMS = frozenset({ENVELOPED, EXC_C14N, EXC_C14N_COMMENTS})

SIGNATURE_METHODS = {
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256": xmlsec.Transform.RSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384": xmlsec.Transform.RSA_SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512": xmlsec.Transform.RSA_SHA512,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256": xmlsec.Transform.ECDSA_SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384": xmlsec.Transform.ECDSA_SHA384,
    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512": xmlsec.Transform.ECDSA_SHA512,
}
DIGEST_METHODS = {
    "http://www.w3.org/2001/04/xmlenc#sha256": xmlsec.Transform.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": xmlsec.Transform.SHA384,
    "http://www.w3.org/2001/04/xmlenc#sha512": xmlsec.Transform.SHA512,
}


def _one(parent: etree._Element, path: str, what: str) -> etree._Element:
    found = parent.findall(path)
    if len(found) != 1:
        raise CryptoRefused(f"signature with {len(found)} {what}")
    return found[0]


def _algorithm(parent: etree._Element, path: str, what: str) -> str:
    return _one(parent, path, what).get("Algorithm") or ""


def check_signature(signature: etree._Element, node_id: str | None) -> None:
    """Refuse ``signature`` unless it follows the profile and references ``#node_id``."""
    signed_info = _one(signature, f"{{{DS}}}SignedInfo", "SignedInfo elements")
    if _algorithm(signed_info, f"{{{DS}}}CanonicalizationMethod",
                  "CanonicalizationMethod elements") not in CANONICALIZATIONS:
        raise CryptoRefused("canonicalisation other than exclusive c14n")
    method = _algorithm(signed_info, f"{{{DS}}}SignatureMethod", "SignatureMethod elements")
    if method not in SIGNATURE_METHODS:
        raise CryptoRefused(f"signature algorithm refused: {method!r}")
    reference = _one(signed_info, f"{{{DS}}}Reference", "Reference elements")
    if not node_id or reference.get("URI") != f"#{node_id}":
        raise CryptoRefused("the Reference does not point to the signed element's own ID")
    transforms = [t.get("Algorithm") or "" for t in
                  reference.findall(f"{{{DS}}}Transforms/{{{DS}}}Transform")]
    if len(reference.findall(f"{{{DS}}}Transforms")) > 1 or not 1 <= len(transforms) <= 2 \
            or ENVELOPED not in transforms or not set(transforms) <= REFERENCE_TRANSFORMS \
            or len(set(transforms)) != len(transforms):
        raise CryptoRefused(f"Reference transforms refused: {transforms}")
    digest = _algorithm(reference, f"{{{DS}}}DigestMethod", "DigestMethod elements")
    if digest not in DIGEST_METHODS:
        raise CryptoRefused(f"digest algorithm refused: {digest!r}")
    if signature.find(f"{{{DS}}}Object") is not None:
        raise CryptoRefused("signature with a ds:Object")


def restrict(ctx: xmlsec.SignatureContext) -> None:
    """libxmlsec1 may run the profile's algorithms only."""
    for transform in (xmlsec.Transform.ENVELOPED, xmlsec.Transform.EXCL_C14N,
                      xmlsec.Transform.EXCL_C14N_COMMENTS, *DIGEST_METHODS.values()):
        ctx.enable_reference_transform(transform)
    for transform in (xmlsec.Transform.EXCL_C14N, xmlsec.Transform.EXCL_C14N_COMMENTS,
                      *SIGNATURE_METHODS.values()):
        ctx.enable_signature_transform(transform)
