"""The NameID an SP receives: the format its request asks for, among those its partner file
allows (``saml2.name_id_formats``); anything else is answered ``InvalidNameIDPolicy``, and the
log says what was asked and what the partner file allows."""

from __future__ import annotations

import logging
from urllib.parse import parse_qs, urlsplit

import pytest
from saml2.response import StatusInvalidNameidPolicy
from saml2.saml import (
    NAMEID_FORMAT_EMAILADDRESS,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
)
from saml2.samlp import NameIDPolicy

from idp.dictionary.pivot import subject_basis
from idp.pairwise import pairwise_id
from plugins.saml2.inflate import redirect_message_xml

from .conftest import IDP_ENTITY, PEER_ATTRIBUTES, PEER_SUBJECT, SPS, autopost_form

X509_SUBJECT = "urn:oasis:names:tc:SAML:1.1:nameid-format:X509SubjectName"


def _answer(federation, sp, policy: NameIDPolicy | None):
    """(request id, the posted form) for a request with exactly this NameIDPolicy."""
    reqid, resp = federation.login(sp, name_id_policy=policy)
    assert resp.status_code == 200
    form = autopost_form(resp)
    assert form is not None
    return reqid, form


def _name_id(federation, sp, policy: NameIDPolicy | None):
    reqid, form = _answer(federation, sp, policy)
    return federation.parse_response(sp, form, reqid).assertion.subject.name_id


def _refused(federation, sp, policy: NameIDPolicy | None) -> None:
    reqid, form = _answer(federation, sp, policy)
    with pytest.raises(StatusInvalidNameidPolicy):
        federation.parse_response(sp, form, reqid)


def _pairwise(federation, sp: str) -> str:
    return pairwise_id(federation.pairwise_secret, sp,
                       subject_basis(PEER_ATTRIBUTES, PEER_SUBJECT))


def test_a_request_without_name_id_policy_gets_the_first_listed_format(federation):
    _reqid, url = federation.request_url("transient-first", name_id_policy=None)
    assert b"NameIDPolicy" not in redirect_message_xml(parse_qs(urlsplit(url).query)[
        "SAMLRequest"][0])

    name_id = _name_id(federation, "transient-first", None)

    assert name_id.format == NAMEID_FORMAT_TRANSIENT


def test_unspecified_format_gets_the_first_listed_format(federation):
    sp = SPS["a"].entity_id  # default formats: persistent, transient

    name_id = _name_id(federation, "a", NameIDPolicy(format=NAMEID_FORMAT_UNSPECIFIED))

    assert (name_id.format, name_id.text) == (NAMEID_FORMAT_PERSISTENT, _pairwise(federation, sp))


def test_persistent_asked_gets_the_pairwise_id_even_with_allow_create_false(federation):
    sp = SPS["a"].entity_id

    name_id = _name_id(federation, "a", NameIDPolicy(format=NAMEID_FORMAT_PERSISTENT,
                                                     allow_create="false"))

    assert (name_id.format, name_id.text) == (NAMEID_FORMAT_PERSISTENT, _pairwise(federation, sp))


def test_transient_asked_gets_a_random_name_id_new_at_every_login(federation):
    sp = SPS["a"].entity_id
    policy = NameIDPolicy(format=NAMEID_FORMAT_TRANSIENT)

    first, second = _name_id(federation, "a", policy), _name_id(federation, "a", policy)

    assert first.format == second.format == NAMEID_FORMAT_TRANSIENT
    assert first.text != second.text
    assert _pairwise(federation, sp) not in (first.text, second.text)
    assert min(len(first.text), len(second.text)) >= 43  # 256 bits, base64url
    assert (first.name_qualifier, first.sp_name_qualifier) == (IDP_ENTITY, sp)


def test_transient_asked_of_an_sp_pinned_to_persistent_is_refused_and_logged(federation,
                                                                            caplog):
    caplog.set_level(logging.INFO, logger="ncconnect.frontends.saml2")

    _refused(federation, "pinned", NameIDPolicy(format=NAMEID_FORMAT_TRANSIENT))

    [record] = [r for r in caplog.records if r.getMessage() == "NameIDPolicy refused"]
    assert (record.sp, record.asked, record.allowed) == (
        SPS["pinned"].entity_id, NAMEID_FORMAT_TRANSIENT, ["persistent"])


def test_email_listed_and_released_gets_the_citizens_email(federation):
    name_id = _name_id(federation, "email", NameIDPolicy(format=NAMEID_FORMAT_EMAILADDRESS))

    assert (name_id.format, name_id.text) == (NAMEID_FORMAT_EMAILADDRESS,
                                              PEER_ATTRIBUTES["email"][0])


def test_email_asked_but_not_listed_is_refused(federation):
    _refused(federation, "a", NameIDPolicy(format=NAMEID_FORMAT_EMAILADDRESS))


def test_email_listed_but_not_released_to_the_sp_is_refused(federation, caplog):
    caplog.set_level(logging.INFO, logger="ncconnect.frontends.saml2")

    _refused(federation, "email-unreleased", None)  # email is its first format

    [record] = [r for r in caplog.records if r.getMessage() == "NameIDPolicy refused"]
    assert record.asked == "(none)" and record.allowed == ["email", "persistent"]
    assert PEER_ATTRIBUTES["email"][0] not in caplog.text


def test_a_format_we_never_issue_is_refused(federation):
    _refused(federation, "a", NameIDPolicy(format=X509_SUBJECT))


def test_an_sp_name_qualifier_other_than_the_sp_is_refused(federation):
    _refused(federation, "a", NameIDPolicy(format=NAMEID_FORMAT_PERSISTENT,
                                           sp_name_qualifier="https://affiliation.test/"))


def test_an_sp_name_qualifier_naming_the_sp_itself_is_accepted(federation):
    sp = SPS["a"].entity_id

    name_id = _name_id(federation, "a", NameIDPolicy(format=NAMEID_FORMAT_PERSISTENT,
                                                     sp_name_qualifier=sp))

    assert name_id.sp_name_qualifier == sp
