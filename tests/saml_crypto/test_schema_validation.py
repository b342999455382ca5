"""libxml2's schema validation (:mod:`plugins.saml2.schema_validation`) judges every document
as pysaml2's own ``xmlschema`` validator does, and is the one pysaml2 calls before checking a
signature.

The documents: the whole signature corpus (valid messages and metadata, every attack), each
signed element of them on its own (what pysaml2 validates: the Response, then its Assertion),
and valid documents broken against the schema one way each.
"""

from __future__ import annotations

import base64
import copy
import inspect as pyinspect

import pytest
import saml2.sigver
from lxml import etree
from saml2 import BINDING_HTTP_POST
from saml2.sigver import SecurityContext
from saml2.xml.schema import XMLSchemaError
from saml2.xml.schema import validate as xmlschema_validate

from plugins.saml2 import schema_validation
from plugins.saml2.schema_validation import validate as libxml2_validate

from .corpus import (
    ASSERTION,
    CASES,
    REQUEST_ID,
    SAML,
    SAMLP,
    Case,
    assertion_of,
    response,
    text,
    tree,
)
from .parties import Parties


def verdict(validator, doc: str) -> bool:
    try:
        validator(doc)
    except XMLSchemaError:
        return False
    return True


def signed_parts(doc: str) -> list[str]:
    """The document and each Assertion in it on its own, as pysaml2 hands them over."""
    root = tree(doc)
    return [doc] + [text(a) for a in root.iter(ASSERTION) if a is not root]


def same_verdict(doc: str) -> bool:
    ours, theirs = verdict(libxml2_validate, doc), verdict(xmlschema_validate, doc)
    assert ours == theirs, f"libxml2 says {ours}, xmlschema says {theirs}"
    return ours


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_every_corpus_document_gets_the_verdict_xmlschema_gives(parties: Parties,
                                                                  case: Case) -> None:
    for part in signed_parts(case.build(parties, "in_process")):
        same_verdict(part)


def _valid(parties: Parties) -> etree._Element:
    return tree(response(parties, "in_process"))


def _first(root: etree._Element, ns: str, tag: str) -> etree._Element:
    found = root.find(f".//{{{ns}}}{tag}")
    assert found is not None
    return found


def unknown_element(root):
    etree.SubElement(_first(root, SAMLP, "Status"), f"{{{SAMLP}}}Surprise")


def missing_version(root):
    del root.attrib["Version"]


def bad_issue_instant(root):
    root.set("IssueInstant", "hier")


def id_not_ncname(root):
    root.set("ID", "1-starts-with-a-digit")


def issuer_after_status(root):
    issuer = _first(root, SAML, "Issuer")
    root.remove(issuer)
    root.append(issuer)


def attribute_not_in_schema(root):
    root.set("Surprise", "1")


def text_in_element_only_content(root):
    _first(root, SAMLP, "Status").text = "texte"


def status_without_code(root):
    status = _first(root, SAMLP, "Status")
    status.remove(_first(status, SAMLP, "StatusCode"))


def assertion_without_issuer(root):
    assertion = assertion_of(root)
    assertion.remove(assertion.find(f"{{{SAML}}}Issuer"))


def subject_confirmation_without_method(root):
    del _first(root, SAML, "SubjectConfirmation").attrib["Method"]


def bad_not_on_or_after(root):
    _first(root, SAML, "SubjectConfirmationData").set("NotOnOrAfter", "2026-13-45T99:00:00Z")


def duplicate_ids(root):
    assertion_of(root).set("ID", root.get("ID"))


def root_in_unknown_namespace(root):
    root.tag = "{urn:example:autre}Response"


BREAKS = [unknown_element, missing_version, bad_issue_instant, id_not_ncname,
          issuer_after_status, attribute_not_in_schema, text_in_element_only_content,
          status_without_code, assertion_without_issuer, subject_confirmation_without_method,
          bad_not_on_or_after, duplicate_ids, root_in_unknown_namespace]


def test_a_valid_response_and_its_assertion_are_valid_for_both(parties: Parties) -> None:
    for part in signed_parts(text(_valid(parties))):
        assert same_verdict(part)


@pytest.mark.parametrize("breaks", BREAKS, ids=lambda f: f.__name__)
def test_a_document_broken_against_the_schema_is_refused_by_both(parties: Parties,
                                                                   breaks) -> None:
    root = copy.deepcopy(_valid(parties))
    breaks(root)
    assert not same_verdict(text(root))


def test_not_well_formed_text_is_refused_as_a_schema_error() -> None:
    with pytest.raises(XMLSchemaError):
        libxml2_validate("<samlp:Response")


def test_a_document_type_declaration_is_refused() -> None:
    doc = ('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
           f'<samlp:Response xmlns:samlp="{SAMLP}">&e;</samlp:Response>')
    with pytest.raises(XMLSchemaError):
        libxml2_validate(doc)


def test_pysaml2_checks_signatures_after_the_libxml2_validation(parties: Parties) -> None:
    """``install`` (run by every entity the proxy builds) replaced pysaml2's validator, and
    pysaml2 still calls it by that name: an upgrade that moves it fails here."""
    parties.idp("in_process")
    assert saml2.sigver.validate_doc_with_schema is schema_validation.validate
    assert "validate_doc_with_schema(" in pyinspect.getsource(SecurityContext._check_signature)


def test_a_response_checked_by_pysaml2_is_validated_by_libxml2(parties: Parties,
                                                              monkeypatch) -> None:
    """The Response and then its Assertion, each before its signature is checked."""
    seen: list[str] = []

    def recording(doc):
        seen.append(etree.QName(tree(doc)).localname)
        return libxml2_validate(doc)

    sp = parties.sp("in_process")
    doc = response(parties, "in_process")
    monkeypatch.setattr(saml2.sigver, "validate_doc_with_schema", recording)
    assert sp.parse_authn_request_response(
        base64.b64encode(doc.encode("utf-8")).decode("ascii"), BINDING_HTTP_POST,
        outstanding={REQUEST_ID: "/"})
    assert seen == ["Response", "Assertion"]
