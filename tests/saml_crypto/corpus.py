"""The documents every backend must judge alike: valid ones signed by our IdP or by the SP,
and the attacks on them, each built from a valid document at test time.

Signature-wrapping variants follow Somorovsky et al., *On Breaking SAML: Be Whoever You Want
to Be* (USENIX Security 2012), §5 (XSW1–XSW8): in each, the element the application would
use (what pysaml2 parses: the root Response, or its first Assertion) is the attacker's, while
a genuinely signed copy of the original sits elsewhere in the document.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import xmlsec
from lxml import etree
from saml2 import BINDING_HTTP_POST
from saml2.metadata import entity_descriptor, sign_entity_descriptor
from saml2.saml import AUTHN_PASSWORD_PROTECTED, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.xmldsig import (
    DIGEST_SHA1,
    DIGEST_SHA256,
    SIG_RSA_SHA1,
    SIG_RSA_SHA256,
)

from .parties import IDP_ENTITY, SP_ACS, SP_ENTITY, Parties

DS = "http://www.w3.org/2000/09/xmldsig#"
SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
ENVELOPED = "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
EXC_C14N = "http://www.w3.org/2001/10/xml-exc-c14n#"
INCL_C14N = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"

REQUEST_ID = "id-request-0001"
EVIL_SUBJECT = "administrateur"

RESPONSE = f"{SAMLP}:Response"
ASSERTION = f"{SAML}:Assertion"


# -- lxml helpers --------------------------------------------------------------------------

def tree(xml: str | bytes) -> etree._Element:
    return etree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)


def text(root: etree._Element) -> str:
    return etree.tostring(root, encoding="unicode")


def q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def assertion_of(root: etree._Element) -> etree._Element:
    return root.find(q(SAML, "Assertion"))


def signature_of(element: etree._Element) -> etree._Element | None:
    return element.find(q(DS, "Signature"))


def without_signature(element: etree._Element) -> etree._Element:
    clone = copy.deepcopy(element)
    for sig in clone.findall(q(DS, "Signature")):
        clone.remove(sig)
    return clone


def set_subject(element: etree._Element, value: str) -> None:
    for name_id in element.iter(q(SAML, "NameID")):
        name_id.text = value


def after(parent: etree._Element, tag: str) -> int:
    """Index just after the last child ``tag`` of ``parent`` (schema order)."""
    index = 0
    for i, child in enumerate(parent):
        if child.tag == tag:
            index = i + 1
    return index


# -- valid documents -----------------------------------------------------------------------

def response(parties: Parties, signer: str, *, sign_response: bool = True,
             sign_assertion: bool = True, sign_alg: str = SIG_RSA_SHA256,
             digest_alg: str = DIGEST_SHA256, keys=None) -> str:
    """A Response of our IdP (``keys``: an impostor with its own keys and our name)."""
    server = parties.idp(signer, keys)
    out = server.create_authn_response(
        identity={}, in_response_to=REQUEST_ID, destination=SP_ACS, sp_entity_id=SP_ENTITY,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="pair-0042"),
        authn={"class_ref": AUTHN_PASSWORD_PROTECTED},
        sign_response=sign_response, sign_assertion=sign_assertion,
        sign_alg=sign_alg, digest_alg=digest_alg)
    return str(out)


def logout_request_by_sp(parties: Parties, signer: str, *, sign: bool = True,
                         sign_alg: str = SIG_RSA_SHA256, digest_alg: str = DIGEST_SHA256,
                         keys=None) -> str:
    client = parties.sp(signer, keys)
    _id, req = client.create_logout_request(
        f"{IDP_ENTITY}/slo", IDP_ENTITY,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="pair-0042"),
        sign=sign, sign_alg=sign_alg, digest_alg=digest_alg)
    return str(req)


def authn_request_by_sp(parties: Parties, signer: str, *, sign_alg: str = SIG_RSA_SHA256,
                        digest_alg: str = DIGEST_SHA256) -> str:
    client = parties.sp(signer)
    _id, req = client.create_authn_request(f"{IDP_ENTITY}/sso", binding=BINDING_HTTP_POST,
                                           sign=True, sign_alg=sign_alg, digest_alg=digest_alg)
    return str(req)


def logout_request_by_idp(parties: Parties, signer: str) -> str:
    server = parties.idp(signer)
    _id, req = server.create_logout_request(
        "https://sp.test/slo", IDP_ENTITY,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="pair-0042"),
        sign=True, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
    return str(req)


def metadata(parties: Parties, signer: str, *, keys=None) -> str:
    """Our SP partner's metadata document, signed as pysaml2 signs metadata."""
    server = parties.idp(signer, keys)
    descriptor = entity_descriptor(server.config)
    _eid, xml = sign_entity_descriptor(descriptor, "md-0001", server.sec, SIG_RSA_SHA256,
                                       DIGEST_SHA256)
    return xml if isinstance(xml, str) else xml.decode("utf-8")


# -- hand-made signatures (what a careful signer would never produce) ----------------------

def signature_template(references: list[str], *, transforms=(ENVELOPED, EXC_C14N),
                       sign_alg: str = SIG_RSA_SHA256,
                       digest_alg: str = DIGEST_SHA256) -> etree._Element:
    sig = etree.Element(q(DS, "Signature"), nsmap={"ds": DS})
    info = etree.SubElement(sig, q(DS, "SignedInfo"))
    etree.SubElement(info, q(DS, "CanonicalizationMethod"), Algorithm=EXC_C14N)
    etree.SubElement(info, q(DS, "SignatureMethod"), Algorithm=sign_alg)
    for uri in references:
        ref = etree.SubElement(info, q(DS, "Reference"), URI=uri)
        tr = etree.SubElement(ref, q(DS, "Transforms"))
        for algorithm in transforms:
            etree.SubElement(tr, q(DS, "Transform"), Algorithm=algorithm)
        etree.SubElement(ref, q(DS, "DigestMethod"), Algorithm=digest_alg)
        etree.SubElement(ref, q(DS, "DigestValue"))
    etree.SubElement(sig, q(DS, "SignatureValue"))
    return sig


def assertion_signed_oddly(parties: Parties, references: Callable, **template) -> str:
    """An unsigned Response whose assertion gets a template with ``references(root)``, then
    signed with our IdP's real key by libxmlsec1 used directly (it signs whatever the
    template says — as a careless or compromised signer would; the IDs of both the Response
    and the assertion resolve)."""
    root = tree(response(parties, "xmlsec1", sign_response=False, sign_assertion=False))
    assertion = assertion_of(root)
    signature = signature_template(references(root), **template)
    assertion.insert(after(assertion, q(SAML, "Issuer")), signature)
    ctx = xmlsec.SignatureContext()
    ctx.key = xmlsec.Key.from_file(str(parties.idp_keys.key), xmlsec.KeyFormat.PEM, None)
    ctx.register_id(root, "ID")
    ctx.register_id(assertion, "ID")
    ctx.sign(signature)
    return text(root)


# -- attacks ---------------------------------------------------------------------------------

def tampered_assertion(parties: Parties, signer: str) -> str:
    root = tree(response(parties, signer, sign_response=False))
    set_subject(assertion_of(root), EVIL_SUBJECT)
    return text(root)


def tampered_response(parties: Parties, signer: str) -> str:
    root = tree(response(parties, signer, sign_assertion=False))
    root.set("Destination", "https://evil.test/acs")
    return text(root)


def tampered_both(parties: Parties, signer: str) -> str:
    root = tree(response(parties, signer))
    set_subject(assertion_of(root), EVIL_SUBJECT)
    return text(root)


def xsw1(parties: Parties, signer: str) -> str:
    """XSW1: a new root Response (evil assertion inside, new ID) carries a copy of the
    original Signature; the original Response, its own signature removed, sits inside that
    copied Signature. The Reference still finds the untouched original."""
    original = tree(response(parties, signer, sign_assertion=False))
    evil = without_signature(original)
    evil.set("ID", "_evil_response")
    set_subject(assertion_of(evil), EVIL_SUBJECT)
    sig = copy.deepcopy(signature_of(original))
    sig.append(without_signature(original))
    evil.insert(after(evil, q(SAML, "Issuer")), sig)
    return text(evil)


def xsw2(parties: Parties, signer: str) -> str:
    """XSW2: as XSW1, but the original Response (signature removed) is placed right before
    the copied Signature, as its sibling (a "detached" signature)."""
    original = tree(response(parties, signer, sign_assertion=False))
    evil = without_signature(original)
    evil.set("ID", "_evil_response")
    set_subject(assertion_of(evil), EVIL_SUBJECT)
    index = after(evil, q(SAML, "Issuer"))
    evil.insert(index, without_signature(original))
    evil.insert(index + 1, copy.deepcopy(signature_of(original)))
    return text(evil)


def _signed_assertion_response(parties: Parties, signer: str):
    root = tree(response(parties, signer, sign_response=False))
    return root, assertion_of(root)


def _evil_copy(assertion: etree._Element, new_id: str | None, keep_signature: bool):
    evil = copy.deepcopy(assertion) if keep_signature else without_signature(assertion)
    if new_id:
        evil.set("ID", new_id)
    set_subject(evil, EVIL_SUBJECT)
    return evil


def xsw3(parties: Parties, signer: str) -> str:
    """XSW3: an evil, unsigned copy of the assertion (new ID) inserted before the original
    signed one: the first assertion, the one used, is the evil one."""
    root, original = _signed_assertion_response(parties, signer)
    root.insert(root.index(original), _evil_copy(original, "_evil_assertion", False))
    return text(root)


def xsw4(parties: Parties, signer: str) -> str:
    """XSW4: the evil assertion (new ID, unsigned) replaces the original and wraps it: the
    signed original becomes the evil assertion's last child."""
    root, original = _signed_assertion_response(parties, signer)
    evil = _evil_copy(original, "_evil_assertion", False)
    root.replace(original, evil)
    evil.append(original)
    return text(root)


def xsw5(parties: Parties, signer: str) -> str:
    """XSW5: the evil assertion (new ID) keeps a copy of the original Signature; the original
    assertion, its signature removed, is appended at the end of the Response."""
    root, original = _signed_assertion_response(parties, signer)
    evil = _evil_copy(original, "_evil_assertion", True)
    root.replace(original, evil)
    root.append(without_signature(original))
    return text(root)


def xsw6(parties: Parties, signer: str) -> str:
    """XSW6: as XSW5, but the original assertion (signature removed) is placed inside the
    evil assertion's copied Signature."""
    root, original = _signed_assertion_response(parties, signer)
    evil = _evil_copy(original, "_evil_assertion", True)
    signature_of(evil).append(without_signature(original))
    root.replace(original, evil)
    return text(root)


def xsw7(parties: Parties, signer: str) -> str:
    """XSW7: the signed original goes into an ``Extensions`` element of the Response (no
    schema check looks inside); the evil assertion, unsigned, *same ID*, is the one used."""
    root, original = _signed_assertion_response(parties, signer)
    evil = _evil_copy(original, None, False)
    extensions = etree.Element(q(SAMLP, "Extensions"))
    root.insert(after(root, q(SAML, "Issuer")), extensions)
    root.replace(original, evil)
    extensions.append(original)
    return text(root)


def xsw8(parties: Parties, signer: str) -> str:
    """XSW8: the evil assertion, *same ID*, keeps the copied Signature, into which a
    ``ds:Object`` carries the original assertion with its signature removed."""
    root, original = _signed_assertion_response(parties, signer)
    evil = _evil_copy(original, None, True)
    obj = etree.SubElement(signature_of(evil), q(DS, "Object"))
    obj.append(without_signature(original))
    root.replace(original, evil)
    return text(root)


def resigned_by_attacker(parties: Parties, signer: str) -> str:
    """Content of the attacker's choice, correctly signed — with the attacker's key (its
    certificate in KeyInfo, under our IdP's name)."""
    return response(parties, signer, keys=parties.attacker)


def sha1_signature(parties: Parties, signer: str) -> str:
    return response(parties, "xmlsec1", sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1)


def sha1_digest_only(parties: Parties, signer: str) -> str:
    return response(parties, "xmlsec1", digest_alg=DIGEST_SHA1)


def unsigned_response(parties: Parties, signer: str) -> str:
    return response(parties, signer, sign_response=False, sign_assertion=False)


def signature_over_response(parties: Parties, signer: str) -> str:
    """The assertion carries a valid signature — over the Response's ID, not its own."""
    return assertion_signed_oddly(parties, lambda root: [f"#{root.get('ID')}"])


def two_references(parties: Parties, signer: str) -> str:
    """The assertion's signature has two References (its own ID and the Response's)."""
    return assertion_signed_oddly(
        parties, lambda root: [f"#{assertion_of(root).get('ID')}", f"#{root.get('ID')}"])


def inclusive_c14n_transform(parties: Parties, signer: str) -> str:
    """A transform outside the profile (inclusive canonicalisation) in the Reference."""
    return assertion_signed_oddly(parties, lambda root: [f"#{assertion_of(root).get('ID')}"],
                                  transforms=(ENVELOPED, INCL_C14N))


def with_object(parties: Parties, signer: str) -> str:
    """A correct assertion signature, plus an unsigned ``ds:Object`` in it."""
    root, original = _signed_assertion_response(parties, signer)
    obj = etree.SubElement(signature_of(original), q(DS, "Object"))
    obj.text = "not covered"
    return text(root)


def duplicate_id(parties: Parties, signer: str) -> str:
    """A signed assertion, and an unsigned evil one with the same ID first (the one used)."""
    root, original = _signed_assertion_response(parties, signer)
    root.insert(root.index(original), _evil_copy(original, None, False))
    return text(root)


def logout_tampered(parties: Parties, signer: str) -> str:
    root = tree(logout_request_by_sp(parties, signer))
    set_subject(root, EVIL_SUBJECT)
    return text(root)


def logout_resigned(parties: Parties, signer: str) -> str:
    return logout_request_by_sp(parties, signer, keys=parties.attacker)


def logout_sha1(parties: Parties, signer: str) -> str:
    return logout_request_by_sp(parties, "xmlsec1", sign_alg=SIG_RSA_SHA1,
                                digest_alg=DIGEST_SHA1)


def logout_unsigned(parties: Parties, signer: str) -> str:
    return logout_request_by_sp(parties, signer, sign=False)


def authn_request_tampered(parties: Parties, signer: str) -> str:
    root = tree(authn_request_by_sp(parties, signer))
    root.set("AssertionConsumerServiceURL", "https://evil.test/acs")
    return text(root)


def metadata_tampered(parties: Parties, signer: str) -> str:
    root = tree(metadata(parties, signer))
    for endpoint in root.iter(q(MD, "SingleSignOnService")):
        endpoint.set("Location", "https://evil.test/sso")
    return text(root)


def metadata_resigned(parties: Parties, signer: str) -> str:
    return metadata(parties, signer, keys=parties.attacker)


def metadata_unsigned(parties: Parties, signer: str) -> str:
    root = tree(metadata(parties, signer))
    root.remove(signature_of(root))
    return text(root)


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Parties, str], str]
    #: response (verified by the SP), logout_request / authn_request (by our IdP), metadata.
    kind: str
    valid: bool
    #: What the ``xmlsec1`` backend alone says when asked about the element the application
    #: uses (``None``: same as ``valid``): it relies on the checks around it for these.
    binary_alone: bool | None = None
    #: What pysaml2 with the ``xmlsec1`` backend says (``None``: same as ``valid``): SHA-1 is
    #: refused by the proxy's own checks before pysaml2, not by pysaml2 or xmlsec1.
    binary_with_pysaml2: bool | None = None


CASES = [
    Case("response-and-assertion-signed", response, "response", True),
    Case("response-signed", lambda p, s: response(p, s, sign_assertion=False), "response", True),
    Case("assertion-signed", lambda p, s: response(p, s, sign_response=False), "response", True),
    Case("logout-request-by-sp", logout_request_by_sp, "logout_request", True),
    Case("authn-request-by-sp", authn_request_by_sp, "authn_request", True),
    Case("logout-request-by-idp", logout_request_by_idp, "logout_request_to_sp", True),
    Case("metadata", metadata, "metadata", True),
    Case("tampered-assertion", tampered_assertion, "response", False),
    Case("tampered-response", tampered_response, "response", False),
    Case("tampered-both", tampered_both, "response", False),
    Case("xsw1", xsw1, "response", False),
    Case("xsw2", xsw2, "response", False, binary_alone=True),
    Case("xsw3", xsw3, "response", False, binary_alone=True),
    Case("xsw4", xsw4, "response", False, binary_alone=True),
    Case("xsw5", xsw5, "response", False, binary_alone=True),
    Case("xsw6", xsw6, "response", False),
    Case("xsw7", xsw7, "response", False),
    Case("xsw8", xsw8, "response", False),
    Case("resigned-by-attacker", resigned_by_attacker, "response", False),
    Case("sha1-signature", sha1_signature, "response", False, binary_alone=True,
         binary_with_pysaml2=True),
    Case("sha1-digest", sha1_digest_only, "response", False, binary_alone=True,
         binary_with_pysaml2=True),
    Case("unsigned", unsigned_response, "response", False),
    Case("signature-over-another-id", signature_over_response, "response", False,
         binary_alone=True),
    Case("two-references", two_references, "response", False),
    Case("inclusive-c14n-transform", inclusive_c14n_transform, "response", False,
         binary_alone=True),
    Case("ds-object", with_object, "response", False, binary_alone=True),
    Case("duplicate-id", duplicate_id, "response", False),
    Case("logout-tampered", logout_tampered, "logout_request", False),
    Case("logout-resigned-by-attacker", logout_resigned, "logout_request", False),
    Case("logout-sha1", logout_sha1, "logout_request", False, binary_alone=True,
         binary_with_pysaml2=True),
    Case("logout-unsigned", logout_unsigned, "logout_request", False),
    Case("authn-request-tampered", authn_request_tampered, "authn_request", False),
    Case("metadata-tampered", metadata_tampered, "metadata", False),
    Case("metadata-resigned-by-attacker", metadata_resigned, "metadata", False),
    Case("metadata-unsigned", metadata_unsigned, "metadata", False),
]
