"""Logout at a SAML identity source with exactly what it issued: the NameID as it came (Format,
NameQualifier, SPNameQualifier, value) and the SessionIndex, kept in the SSO session.

The testbed's ``src-idp`` is the demo IdP, as strict as Lasso-based IdPs (LemonLDAP::NG): a
LogoutRequest naming anything it did not issue gets ``Responder`` / ``UnknownPrincipal``.
Whatever the source answers, NC Connect's session is over and the citizen reaches the service
or our result page.
"""

from __future__ import annotations

import pytest
from saml2.samlp import STATUS_PARTIAL_LOGOUT, STATUS_UNKNOWN_PRINCIPAL

from idp.sso.session import NAMESPACE
from idp.testbed.browser import Browser
from idp.testbed.records import put_session_record

from .steps import result_lists, session_of, sign_in_to

SOURCE_NAME = "Annuaire SAML de test"


def _signed_in(fed, store, citizen) -> tuple[Browser, dict]:
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-idp"])
    record = session_of(store, browser)
    assert record is not None and record["source_session"] is not None
    return browser, record


def _issued(record: dict) -> tuple[dict, str]:
    """(NameID fields as the demo IdP names them, SessionIndex) kept in the session."""
    kept = record["source_session"]
    name_id = kept["name_id"]
    return ({"text": name_id["value"], "format": name_id["format"],
             "name_qualifier": name_id["name_qualifier"],
             "sp_name_qualifier": name_id["sp_name_qualifier"],
             "sp_provided_id": name_id["sp_provided_id"]}, kept["session_index"])


def _back_at_the_service(fed, page) -> bool:
    return page.url.startswith(f"{fed.url('rp-idp')}/?state=") and 'id="deconnecte"' in page.text


def test_the_source_gets_its_own_name_id_and_session_index_and_ends_its_session(fed, store,
                                                                                citizen):
    browser, record = _signed_in(fed, store, citizen)
    idp = fed.apps["src-idp"]
    name_id, session_index = _issued(record)
    assert idp.issued_session(session_index)["name_id"] == name_id

    page = browser.get(f"{fed.url('rp-idp')}/logout")

    assert idp.last_logout_request == {"name_id": name_id, "session_indexes": [session_index]}
    assert idp.last_logout_status is None  # Success
    assert idp.issued_session(session_index) is None
    assert store.get(NAMESPACE, record["key"]) is None
    assert _back_at_the_service(fed, page)


@pytest.mark.parametrize("field", ["value", "format", "name_qualifier", "sp_name_qualifier",
                                   "session_index"])
def test_a_field_the_source_did_not_issue_gets_unknown_principal_and_our_page_says_so(
        fed, store, citizen, field):
    browser, record = _signed_in(fed, store, citizen)
    idp = fed.apps["src-idp"]
    _name_id, session_index = _issued(record)
    kept = record["source_session"]
    if field == "session_index":
        kept["session_index"] = "_une-autre-session"
    else:
        kept["name_id"][field] = "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified" \
            if field == "format" else "http://autre.example.nc/metadata"
    put_session_record(store, record, 600)

    page = browser.get(f"{fed.url('rp-idp')}/logout")

    assert idp.last_logout_status == STATUS_UNKNOWN_PRINCIPAL
    assert idp.issued_session(session_index) is not None  # the source's session goes on
    assert store.get(NAMESPACE, record["key"]) is None  # ours is over all the same
    assert result_lists(page)["failed"] == [f"{SOURCE_NAME} (votre compte)"]
    continuer = page.text.split('id="continuer"', 1)[1]
    assert f'href="{fed.url("rp-idp")}/?state=' in continuer


def test_a_session_recorded_before_the_source_fields_were_kept_still_ends_on_our_page(
        fed, store, citizen):
    browser, record = _signed_in(fed, store, citizen)
    record["source_session"] = None  # a session recorded without the source's fields
    put_session_record(store, record, 600)

    page = browser.get(f"{fed.url('rp-idp')}/logout")

    # Rebuilt as persistent with our qualifiers and no SessionIndex: not what a strict
    # source issued, so it is reported as not logged out.
    assert fed.apps["src-idp"].last_logout_status == STATUS_UNKNOWN_PRINCIPAL
    assert store.get(NAMESPACE, record["key"]) is None
    assert result_lists(page)["failed"] == [f"{SOURCE_NAME} (votre compte)"]


def test_a_partial_logout_answer_counts_as_logged_out_at_the_source(fed, store, citizen):
    browser, record = _signed_in(fed, store, citizen)
    idp = fed.apps["src-idp"]
    _name_id, session_index = _issued(record)
    idp.partial_logout = True
    try:
        page = browser.get(f"{fed.url('rp-idp')}/logout")
    finally:
        idp.partial_logout = False

    assert idp.last_logout_status == STATUS_PARTIAL_LOGOUT
    assert idp.issued_session(session_index) is None
    assert store.get(NAMESPACE, record["key"]) is None
    assert _back_at_the_service(fed, page)  # nothing to warn about: straight back
