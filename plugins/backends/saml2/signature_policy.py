"""Which signature makes a source's answer trustworthy: the assertion's, or the Response's.

A signed ``samlp:Response`` covers everything in it, its assertion included, so the Web
Browser SSO profile (SAML profiles §4.1.3.5) requires a signed assertion only when the
Response is not signed. Many IdPs sign only the Response by default (Shibboleth IdP,
Keycloak, some ADFS setups). NC Connect accepts that only where the source's partner
file says so (``saml2.signature``), never by itself:

* ``assertion`` (default): the assertion must be signed; the Response may be too;
* ``response``: a signed Response *or* a signed assertion; neither is refused.

Whatever is signed must verify (pysaml2 verifies every signature it finds), with the
algorithms :mod:`.response_xml` pins.

Accepting an unsigned assertion is safe only if it is the one the verified signature
covers (XML signature wrapping). So, before pysaml2 sees the document:

* each signature is *enveloped* (:func:`enveloped_signature`): a direct child of the element
  it signs, exactly one ``Reference``, whose URI is ``#`` + that element's own ``ID``;
* the only signatures are the Response's and its assertion's (:func:`check_signature_places`),
  and no two elements share an ``ID`` (:func:`check_unique_ids`): xmlsec1 resolves the
  reference by ID, and only the root Response can then be what it verified;
* :mod:`.response_xml` requires exactly one Assertion (or one EncryptedAssertion) in the
  whole document, a direct child of that root — so the assertion pysaml2 hands over, from
  the root it verified, is the one the Response signature covers.

After pysaml2, :func:`check_parsed` makes sure its parse saw the same signatures as ours.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast, get_args
from xml.etree.ElementTree import Element

from .errors import InvalidSamlResponse

DS = "http://www.w3.org/2000/09/xmldsig#"
SIGNATURE = f"{{{DS}}}Signature"

SignaturePolicy = Literal["assertion", "response"]
DEFAULT: SignaturePolicy = "assertion"


@dataclass(frozen=True)
class Signatures:
    """What the answer carries (structure checked; pysaml2 verifies the cryptography)."""

    response: bool
    assertion: bool


def policy_of(config: Mapping[str, Any]) -> SignaturePolicy:
    """The backend's ``signature`` setting (``idp.assemble`` copies ``saml2.signature``)."""
    value = config.get("signature") or DEFAULT
    if value not in get_args(SignaturePolicy):
        raise ValueError(f"SAML source {config.get('source_id')}: signature must be one of "
                         f"{', '.join(get_args(SignaturePolicy))}, not {value!r}")
    return cast(SignaturePolicy, value)


def pysaml2_flags(policy: SignaturePolicy) -> dict[str, bool]:
    """pysaml2's own requirements for this policy (ours are checked before and after it);
    ``want_assertions_signed`` is also our metadata's ``WantAssertionsSigned``."""
    return {"want_assertions_signed": policy == "assertion", "want_response_signed": False,
            "want_assertions_or_response_signed": True}


def enveloped_signature(element: Element, what: str) -> bool:
    """Whether ``element`` is signed; if it is, the signature must be enveloped and cover
    exactly ``element``: one Reference, to ``#`` + its ID."""
    signatures = element.findall(SIGNATURE)
    if not signatures:
        return False
    if len(signatures) != 1:
        raise InvalidSamlResponse(f"{what} with more than one Signature")
    own_id = element.get("ID")
    references = signatures[0].findall(f"{{{DS}}}SignedInfo/{{{DS}}}Reference")
    if not own_id or len(references) != 1 or references[0].get("URI") != f"#{own_id}":
        raise InvalidSamlResponse(f"{what} signature does not reference exactly the {what}")
    return True


def check_signature_places(root: Element, signed: Iterable[Element]) -> None:
    """No signature anywhere but directly in the Response or its assertion."""
    allowed = sum(len(element.findall(SIGNATURE)) for element in signed)
    if sum(1 for _ in root.iter(SIGNATURE)) != allowed:
        raise InvalidSamlResponse("Signature outside the Response and its assertion")


def check_unique_ids(root: Element) -> None:
    seen: set[str] = set()
    for element in root.iter():
        value = element.get("ID")
        if value is None:
            continue
        if value in seen:
            raise InvalidSamlResponse("two elements share one ID")
        seen.add(value)


def check_policy(policy: SignaturePolicy, signed: Signatures) -> None:
    """Refuse what the partner file does not allow, naming the setting to change."""
    if not signed.response and not signed.assertion:
        raise InvalidSamlResponse("neither the Response nor the assertion is signed")
    if policy == "assertion" and not signed.assertion:
        raise InvalidSamlResponse(
            "assertion unsigned and the source's partner file requires a signed assertion "
            "(saml2.signature: assertion); if the source signs only the Response, set "
            "saml2.signature: response")


def check_parsed(response: Any, assertion: Any, signed: Signatures) -> None:
    """pysaml2 verified what it parsed: it must have seen exactly the signatures we saw."""
    if (getattr(response, "signature", None) is not None) != signed.response \
            or (getattr(assertion, "signature", None) is not None) != signed.assertion:
        raise InvalidSamlResponse("signatures verified differ from the response's shape")
