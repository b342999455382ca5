"""Checks every SAML message an SP sends us shares: pinned XML-signature algorithms and a
fresh IssueInstant. Each returns the reason to refuse, or ``None``; the caller raises its own
error (an AuthnRequest and a LogoutRequest end on different pages)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from saml2.xmldsig import DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512

from .redirect_signature import ALLOWED_SIG_ALGS

#: Digest algorithms accepted in XML signatures (no SHA-1).
ALLOWED_DIGEST_ALGS = frozenset({DIGEST_SHA256, DIGEST_SHA384, DIGEST_SHA512})
#: The parameters of the HTTP-Redirect and HTTP-POST bindings (SAML Bindings §3.4.4, §3.5.4).
BINDING_PARAMS = frozenset({"SAMLRequest", "SAMLResponse", "RelayState", "SigAlg", "Signature"})
#: How old a request may be, and how far apart clocks may be.
MAX_AGE = dt.timedelta(minutes=5)
CLOCK_SKEW = dt.timedelta(minutes=3)


def signature_algorithms_problem(message: Any) -> str | None:
    """``message`` carries an XML signature pysaml2 verified; were its algorithms ours?"""
    signed_info = message.signature.signed_info
    sig_alg = signed_info.signature_method.algorithm if signed_info.signature_method else None
    digests = {ref.digest_method.algorithm if ref.digest_method else None
               for ref in signed_info.reference}
    if sig_alg not in ALLOWED_SIG_ALGS or not digests <= ALLOWED_DIGEST_ALGS:
        return "signed with an algorithm we do not accept"
    return None


DS = "http://www.w3.org/2000/09/xmldsig#"


def xml_signature_algorithms_problem(xml: str | bytes) -> str | None:
    """The same check on the message itself, before the crypto backend sees it: so that a
    SHA-1 signature is refused for what it is, whichever backend would have refused it."""
    try:
        root = fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml,
                          forbid_dtd=True)
    except (DefusedXmlException, SyntaxError, ValueError):
        return None  # not ours to explain: the parser that follows refuses it
    return tree_signature_algorithms_problem(root)


def tree_signature_algorithms_problem(root: Any) -> str | None:
    """:func:`xml_signature_algorithms_problem` on a message the caller parsed already
    (with defusedxml), so that one incoming document is parsed once."""
    for signature in root.iter(f"{{{DS}}}Signature"):
        methods = {m.get("Algorithm") for m in
                   signature.findall(f"{{{DS}}}SignedInfo/{{{DS}}}SignatureMethod")}
        digests = {d.get("Algorithm") for d in signature.findall(
            f"{{{DS}}}SignedInfo/{{{DS}}}Reference/{{{DS}}}DigestMethod")}
        if not methods <= set(ALLOWED_SIG_ALGS) or not digests <= ALLOWED_DIGEST_ALGS:
            return "signed with an algorithm we do not accept"
    return None


def issue_instant_problem(value: str | None, now: dt.datetime) -> str | None:
    try:
        issued = dt.datetime.fromisoformat(value or "")
    except ValueError:
        return "IssueInstant unreadable"
    if issued.tzinfo is None:
        issued = issued.replace(tzinfo=dt.UTC)
    if not now - MAX_AGE - CLOCK_SKEW <= issued <= now + CLOCK_SKEW:
        return "IssueInstant out of the accepted window"
    return None


def repeated_params_problem(repeated: frozenset[str]) -> str | None:
    """A binding parameter sent twice: which copy the signature covers and which one is read
    could differ, so the message is refused whole rather than served from either copy."""
    names = sorted(repeated & BINDING_PARAMS)
    return f"{', '.join(names)} repeated" if names else None
