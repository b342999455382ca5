"""Successful SAML logins, verified by the pysaml2 SP itself and by reading the Response."""

from __future__ import annotations

import datetime as dt
import logging

from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT

from idp.dictionary.pivot import subject_basis
from idp.pairwise import pairwise_id

from .conftest import (
    ASSERTION_LIFETIME,
    IDP_ENTITY,
    NS,
    PEER_ACR,
    PEER_ATTRIBUTES,
    PEER_SUBJECT,
    SPS,
    autopost_form,
    response_tree,
)

SIG_RSA_SHA256 = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
DIGEST_SHA256 = "http://www.w3.org/2001/04/xmlenc#sha256"


def _login(federation, sp, **kwargs):
    reqid, resp = federation.login(sp, **kwargs)
    assert resp.status_code == 200
    form = autopost_form(resp)
    assert form is not None
    return reqid, form, federation.parse_response(sp, form, reqid)


def _attributes(form):
    statement = response_tree(form).findall(".//saml:Assertion/saml:AttributeStatement/"
                                            "saml:Attribute", NS)
    return {a.get("Name"): (a.get("NameFormat"), [v.text for v in a.findall(
        "saml:AttributeValue", NS)]) for a in statement}


def test_release_is_allowed_and_requested_attributes_only_with_urn_oid_names(federation):
    # SP a requests givenName, sn, mail; it is allowed given_name, family_name, birthdate.
    _reqid, form, parsed = _login(federation, "a")
    assert _attributes(form) == {
        "urn:oid:2.5.4.42": (NAME_FORMAT_URI, PEER_ATTRIBUTES["given_name"]),
        "urn:oid:2.5.4.4": (NAME_FORMAT_URI, PEER_ATTRIBUTES["family_name"]),
    }
    assert parsed.ava == {"givenName": PEER_ATTRIBUTES["given_name"],
                          "sn": PEER_ATTRIBUTES["family_name"]}


def test_sp_without_requested_attributes_gets_everything_it_is_allowed(federation):
    _reqid, form, _parsed = _login(federation, "b")
    assert _attributes(form) == {
        "urn:oid:0.9.2342.19200300.100.1.3": (NAME_FORMAT_URI, PEER_ATTRIBUTES["email"]),
        "urn:oid:1.3.6.1.5.5.7.9.1": (NAME_FORMAT_URI, PEER_ATTRIBUTES["birthdate"]),
    }


def test_name_id_is_the_persistent_pairwise_identifier_qualified_by_both_entities(federation):
    sp = SPS["a"].entity_id
    _reqid, _form, parsed = _login(federation, "a")
    name_id = parsed.assertion.subject.name_id
    assert name_id.format == NAMEID_FORMAT_PERSISTENT
    basis = subject_basis(PEER_ATTRIBUTES, PEER_SUBJECT)
    assert name_id.text == pairwise_id(federation.pairwise_secret, sp, basis)
    assert name_id.name_qualifier == IDP_ENTITY
    assert name_id.sp_name_qualifier == sp


def test_name_id_is_stable_across_two_logins(federation):
    first = _login(federation, "a")[2].assertion.subject.name_id.text
    second = _login(federation, "a")[2].assertion.subject.name_id.text
    assert first == second


def test_name_id_differs_between_two_sps(federation):
    at_a = _login(federation, "a")[2].assertion.subject.name_id.text
    at_b = _login(federation, "b")[2].assertion.subject.name_id.text
    assert at_a != at_b
    assert PEER_SUBJECT not in (at_a, at_b)


def test_response_is_bound_to_the_request_the_acs_and_the_sp(federation):
    reqid, form, parsed = _login(federation, "a")
    acs, sp = SPS["a"].acs[0], SPS["a"].entity_id
    root = response_tree(form)
    assert form.action == acs
    assert root.get("Destination") == acs
    assert root.get("InResponseTo") == reqid
    assert root.findtext("saml:Issuer", namespaces=NS) == IDP_ENTITY
    assertions = root.findall("saml:Assertion", NS)
    assert len(assertions) == 1
    assert assertions[0].findtext("saml:Issuer", namespaces=NS) == IDP_ENTITY
    assert [a.text for a in assertions[0].findall(
        "saml:Conditions/saml:AudienceRestriction/saml:Audience", NS)] == [sp]
    assert parsed.in_response_to == reqid


def test_subject_confirmation_is_bearer_for_the_acs_with_the_configured_lifetime(federation):
    reqid, form, _parsed = _login(federation, "a")
    confirmation = response_tree(form).find(".//saml:Subject/saml:SubjectConfirmation", NS)
    assert confirmation.get("Method") == "urn:oasis:names:tc:SAML:2.0:cm:bearer"
    data = confirmation.find("saml:SubjectConfirmationData", NS)
    assert data.get("Recipient") == SPS["a"].acs[0]
    assert data.get("InResponseTo") == reqid
    expires = dt.datetime.fromisoformat(data.get("NotOnOrAfter"))
    remaining = (expires - dt.datetime.now(dt.UTC)).total_seconds()
    assert ASSERTION_LIFETIME - 30 <= remaining <= ASSERTION_LIFETIME + 1


def test_authn_statement_carries_the_source_authn_context(federation):
    _reqid, form, _parsed = _login(federation, "a")
    statement = response_tree(form).find(".//saml:Assertion/saml:AuthnStatement", NS)
    assert statement.get("AuthnInstant")
    assert statement.findtext("saml:AuthnContext/saml:AuthnContextClassRef",
                              namespaces=NS) == PEER_ACR


def test_response_and_assertion_are_signed_with_rsa_sha256_and_sha256_digests(federation):
    _reqid, form, _parsed = _login(federation, "a")
    root = response_tree(form)
    for signed in (root, root.find("saml:Assertion", NS)):
        signature = signed.find("ds:Signature", NS)
        assert signature is not None
        assert signature.find("ds:SignedInfo/ds:SignatureMethod", NS).get(
            "Algorithm") == SIG_RSA_SHA256
        reference = signature.find("ds:SignedInfo/ds:Reference", NS)
        assert reference.get("URI") == f"#{signed.get('ID')}"
        assert reference.find("ds:DigestMethod", NS).get("Algorithm") == DIGEST_SHA256


def test_relay_state_of_80_bytes_comes_back_unchanged(federation):
    relay_state = "é" * 40  # 80 bytes in UTF-8
    _reqid, form, _parsed = _login(federation, "a", relay_state=relay_state)
    assert form.fields["RelayState"] == relay_state


def test_acs_index_declared_in_metadata_is_honoured(federation):
    _reqid, form, _parsed = _login(federation, "a", assertion_consumer_service_index="2")
    assert form.action == SPS["a"].acs[1]


def test_acs_url_declared_in_metadata_is_honoured(federation):
    acs = SPS["a"].acs[1]
    _reqid, form, _parsed = _login(federation, "a", assertion_consumer_service_url=acs)
    assert form.action == acs


def test_logs_of_a_login_hold_no_personal_data(federation, caplog):
    caplog.set_level(logging.DEBUG, logger="ncconnect")
    _reqid, _form, parsed = _login(federation, "a")
    ours = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records
                     if r.name.startswith("ncconnect"))
    assert "SAML response sent" in ours
    for secret in [PEER_SUBJECT, parsed.assertion.subject.name_id.text,
                   *PEER_ATTRIBUTES["given_name"], *PEER_ATTRIBUTES["family_name"]]:
        assert secret not in ours
