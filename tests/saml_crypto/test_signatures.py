"""Both crypto backends judge the same corpus alike (:mod:`.corpus`).

For every document, signed by each backend in turn:

* **as the proxy verifies it**: our own first look (:func:`plugins.backends.saml2.response_xml
  .inspect` for a Response, the pinned algorithms for a request), then pysaml2 (the SP's
  ``parse_authn_request_response``, the IdP's ``correctly_signed_*``, metadata's
  ``verify_signature``) with the backend: both backends accept exactly the valid documents;
* **through pysaml2 alone**: the in-process backend accepts exactly the valid ones; with the
  binary, pysaml2 still accepts SHA-1 (``binary_with_pysaml2``: our own checks refuse it
  today); both reach the backend as many times — pysaml2 refuses some attacks before any
  backend is asked (its profile and schema checks), which proves nothing about the backend,
  hence:
* **the backend alone**, asked about the element the application would use (what pysaml2
  parses: the root message, the Response's first Assertion), with the metadata certificate:
  the in-process backend accepts exactly the valid documents; the ``xmlsec1`` binary, alone,
  still accepts some wrapped documents (``binary_alone``) and relies on pysaml2's checks for
  them. Each such call is counted by the recording backend.
"""

from __future__ import annotations

import base64

import pytest
from saml2 import BINDING_HTTP_POST, samlp
from saml2.sigver import XmlsecError

from plugins.backends.saml2.errors import InvalidSamlResponse
from plugins.backends.saml2.response_xml import inspect
from plugins.saml2.message_checks import xml_signature_algorithms_problem

from .corpus import CASES, REQUEST_ID, Case
from .parties import BACKENDS, Parties, recording

ENTITY_DESCRIPTOR = "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor"


def _name(message) -> str:
    return f"{message.c_namespace}:{message.c_tag}"


def used_elements(kind: str, xml: str) -> list[tuple[str, str | None]]:
    """(element name, ID) of what pysaml2 parses and the application then uses."""
    if kind == "metadata":
        return [(ENTITY_DESCRIPTOR, None)]
    if kind == "response":
        message = samlp.response_from_string(xml)
        used = [(_name(message), message.id)]
        if message.assertion:
            used.append((_name(message.assertion[0]), message.assertion[0].id))
        return used
    reader = samlp.authn_request_from_string if kind == "authn_request" \
        else samlp.logout_request_from_string
    message = reader(xml)
    return [(_name(message), message.id)]


def signer_cert(parties: Parties, kind: str) -> str:
    by_sp = kind in ("logout_request", "authn_request")
    return str((parties.sp_keys if by_sp else parties.idp_keys).cert)


def through_pysaml2(parties: Parties, backend: str, case: Case, xml: str) -> tuple[bool, int]:
    """(accepted, backend calls) the way the proxy's pysaml2 objects verify ``xml``."""
    if case.kind in ("logout_request", "authn_request"):
        entity = parties.idp(backend)
    else:
        entity = parties.sp(backend)
    try:
        if case.kind == "response":
            out = entity.parse_authn_request_response(
                base64.b64encode(xml.encode("utf-8")).decode("ascii"), BINDING_HTTP_POST,
                outstanding={REQUEST_ID: "/"})
        elif case.kind == "metadata":
            out = entity.sec.verify_signature(xml, cert_file=signer_cert(parties, case.kind),
                                              node_name=ENTITY_DESCRIPTOR)
        else:
            kind = "logout_request" if case.kind.startswith("logout") else case.kind
            out = getattr(entity.sec, f"correctly_signed_{kind}")(xml, must=True)
        accepted = bool(out)
    except Exception:  # noqa: BLE001 - pysaml2 raises many types (signature, schema, ...)
        accepted = False
    return accepted, len(entity.sec.crypto.verified)


def proxy_first_look(case: Case, xml: str) -> bool:
    """Whether the proxy's own checks before pysaml2 let the document through."""
    if case.kind == "response":
        try:
            inspect(xml.encode("utf-8"))
        except InvalidSamlResponse:
            return False
        return True
    if case.kind == "metadata":
        return True
    return xml_signature_algorithms_problem(xml) is None


def backend_alone(parties: Parties, backend: str, case: Case, xml: str) -> bool:
    """Whether the backend vouches for an element the application uses."""
    crypto = recording(backend)
    used = used_elements(case.kind, xml)
    verdicts = []
    for node_name, node_id in used:
        try:
            verdicts.append(bool(crypto.validate_signature(
                xml, signer_cert(parties, case.kind), "pem", node_name, node_id)))
        except XmlsecError:
            verdicts.append(False)
    assert [(n, i) for n, i, _ok in crypto.verified] == used, "the backend was not reached"
    return any(verdicts)


@pytest.mark.parametrize("signer", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_both_backends_judge_alike(parties: Parties, case: Case, signer: str) -> None:
    xml = case.build(parties, signer)

    pipeline = {b: through_pysaml2(parties, b, case, xml) for b in BACKENDS}
    first_look = proxy_first_look(case, xml)
    for backend in BACKENDS:
        assert (first_look and pipeline[backend][0]) is case.valid, (backend, pipeline)
    assert pipeline["in_process"][0] is case.valid, pipeline
    binary_expected = case.valid if case.binary_with_pysaml2 is None \
        else case.binary_with_pysaml2
    assert pipeline["xmlsec1"][0] is binary_expected, pipeline
    assert pipeline["in_process"][1] == pipeline["xmlsec1"][1], pipeline
    if case.valid:
        assert pipeline["in_process"][1] >= 1

    alone = {b: backend_alone(parties, b, case, xml) for b in BACKENDS}
    assert alone["in_process"] is case.valid, alone
    expected_binary = case.valid if case.binary_alone is None else case.binary_alone
    assert alone["xmlsec1"] is expected_binary, alone
