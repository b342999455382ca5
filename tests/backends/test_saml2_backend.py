"""SAML identity source backend, driven through SATOSA against a real pysaml2 IdP."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree

import pytest
import requests
from saml2.saml import NAMEID_FORMAT_TRANSIENT, NameID
from saml2.samlp import STATUS_AUTHN_FAILED, STATUS_REQUEST_DENIED, STATUS_UNKNOWN_PRINCIPAL
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from idp.keys import write_key_pair
from idp.stores import open_store
from tests.backends.federation_harness import (
    SAML_SOURCE,
    Browser,
    error_code,
    form_fields,
    on_other_worker,
)
from tests.backends.saml_source_peer import INTERNAL, NAME_ID, SamlSourcePeer

PAST = "2020-01-01T00:00:00Z"


def start(proxy, browser: Browser) -> tuple[str, dict[str, str]]:
    """Start a login; return the ACS URL and the form fields the IdP asks the browser to post."""
    resp = browser.get(f"{proxy.url}/test/login?source={SAML_SOURCE}")
    assert resp.status_code == 303, resp.text
    page, _ = browser.follow(resp)
    assert page.status_code == 200, page.text
    return form_fields(page.text)


def post(browser: Browser, acs: str, fields: dict[str, str], xml: str | None = None,
         **changes: str) -> requests.Response:
    data = dict(fields, **changes)
    if xml is not None:
        data["SAMLResponse"] = base64.b64encode(xml.encode()).decode()
    return browser.post(acs, data)


def assert_refused(resp: requests.Response, code: str = "reponse_source_invalide") -> None:
    assert resp.status_code == 400, resp.text
    assert error_code(resp) == code
    assert "Marie" not in resp.text and NAME_ID not in resp.text


def first_assertion(response):
    return response.assertion[0]


# -- happy path -----------------------------------------------------------------


def test_login_passes_exactly_the_attributes_the_source_sent(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    resp = post(browser, acs, fields)
    assert resp.status_code == 200, resp.text
    assert resp.json()["attributes"] == INTERNAL


def test_subject_id_is_source_id_and_name_id(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert post(browser, acs, fields).json()["subject_id"] == f"{SAML_SOURCE}:{NAME_ID}"


def test_auth_info_carries_authn_context_instant_and_idp(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    info = post(browser, acs, fields).json()["auth_info"]
    assert info["auth_class_ref"] == (
        "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport")
    assert info["issuer"] == saml_source.entity_id
    assert info["timestamp"]


def test_attributes_unknown_to_the_dictionary_are_dropped(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    identity = {"givenName": ["Marie Louise"], "eduPersonAffiliation": ["member"]}
    resp = post(browser, acs, fields, saml_source.response(identity=identity))
    assert resp.json()["attributes"] == {"given_name": ["Marie Louise"]}


def test_authn_request_is_signed_with_rsa_sha256_over_redirect(proxy, saml_source, browser):
    resp = browser.get(f"{proxy.url}/test/login?source={SAML_SOURCE}")
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["SigAlg"] == [SIG_RSA_SHA256] and query["Signature"]
    browser.follow(resp)  # the IdP verified the signature with our metadata key
    seen = saml_source.last_request
    assert seen.acs_url == f"{proxy.url}/{SAML_SOURCE}/saml2/acs"
    assert seen.sp_entity_id == f"{proxy.url}/{SAML_SOURCE}/saml2/metadata"
    assert seen.relay_state == query["RelayState"][0]


def test_outstanding_request_is_recorded_in_the_shared_store(proxy, saml_source, browser):
    start(proxy, browser)
    record = open_store(proxy.store_url).get("saml-outstanding",
                                             saml_source.last_request.request_id)
    assert record is not None and record["source"] == SAML_SOURCE


def test_sp_metadata_declares_signed_requests_and_assertions(proxy, saml_source):
    xml = requests.get(f"{proxy.url}/{SAML_SOURCE}/saml2/metadata", timeout=10).text
    assert f'entityID="{proxy.url}/{SAML_SOURCE}/saml2/metadata"' in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml
    assert f'Location="{proxy.url}/{SAML_SOURCE}/saml2/acs"' in xml
    assert "X509Certificate" in xml
    assert "sha1" not in xml and "md5" not in xml


def test_resigned_response_without_changes_is_accepted(proxy, saml_source, browser):
    """Control for the hostile tests below: re-signing alone does not break a response."""
    acs, fields = start(proxy, browser)
    xml = saml_source.resign(saml_source.response(), lambda response: None)
    assert post(browser, acs, fields, xml).status_code == 200


# -- hostile responses -------------------------------------------------------------


def test_unsigned_response_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert_refused(post(browser, acs, fields, saml_source.response(sign_assertion=False)))


def test_response_with_its_saml_response_repeated_is_refused(proxy, saml_source, browser):
    """A valid signed response followed by a second copy: refused whole, never served from
    either copy."""
    acs, fields = start(proxy, browser)
    repeated = list(fields.items()) + [("SAMLResponse", fields["SAMLResponse"])]
    assert_refused(browser.post(acs, repeated))  # type: ignore[arg-type]


def test_assertion_changed_after_signing_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    xml = saml_source.response()
    assert xml.count("Marie Louise") == 1
    assert_refused(post(browser, acs, fields, xml.replace("Marie Louise", "Mallory")))


def test_assertion_signed_by_a_key_not_in_metadata_is_refused(proxy, saml_source, browser,
                                                             tmp_path):
    write_key_pair(tmp_path / "rogue.pem", tmp_path / "rogue.crt", "Rogue IdP")
    rogue = SamlSourcePeer(saml_source.base_url, tmp_path / "rogue.pem", tmp_path / "rogue.crt")
    rogue.trust_sp(requests.get(f"{proxy.url}/{SAML_SOURCE}/saml2/metadata", timeout=10).text)
    acs, fields = start(proxy, browser)
    assert_refused(post(browser, acs, fields, rogue.response(saml_source.last_request)))


def test_assertion_without_audience_restriction_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)

    def drop_audience(response):
        first_assertion(response).conditions.audience_restriction = []

    xml = saml_source.resign(saml_source.response(), drop_audience)
    assert "AudienceRestriction" not in xml
    assert_refused(post(browser, acs, fields, xml))


def test_assertion_for_another_audience_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)

    def other_audience(response):
        restriction = first_assertion(response).conditions.audience_restriction[0]
        restriction.audience[0].text = "https://another-sp.example.org/metadata"

    xml = saml_source.resign(saml_source.response(), other_audience)
    assert_refused(post(browser, acs, fields, xml))


def test_response_with_another_destination_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    xml = saml_source.response()
    assert xml.count(f'Destination="{acs}"') == 1
    forged = xml.replace(f'Destination="{acs}"', 'Destination="https://sp.example.org/acs"')
    assert_refused(post(browser, acs, fields, forged))


def test_response_without_destination_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    xml = saml_source.response().replace(f'Destination="{acs}"', "")
    assert_refused(post(browser, acs, fields, xml))


def test_assertion_for_another_recipient_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)

    def other_recipient(response):
        confirmation = first_assertion(response).subject.subject_confirmation[0]
        confirmation.subject_confirmation_data.recipient = "https://sp.example.org/acs"

    xml = saml_source.resign(saml_source.response(), other_recipient)
    assert_refused(post(browser, acs, fields, xml))


def test_response_to_another_request_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    xml = saml_source.response(in_response_to="id-another-request")
    assert_refused(post(browser, acs, fields, xml))


def test_expired_assertion_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)

    def expire(response):
        assertion = first_assertion(response)
        assertion.conditions.not_before = "2019-12-31T23:00:00Z"
        assertion.conditions.not_on_or_after = PAST
        data = assertion.subject.subject_confirmation[0].subject_confirmation_data
        data.not_on_or_after = PAST

    assert_refused(post(browser, acs, fields, saml_source.resign(saml_source.response(), expire)))


def test_assertion_from_another_issuer_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)

    def other_issuer(response):
        first_assertion(response).issuer.text = "https://idp.example.org/metadata"

    xml = saml_source.resign(saml_source.response(), other_issuer)
    assert_refused(post(browser, acs, fields, xml))


def test_sha1_signature_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    xml = saml_source.response(sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1)
    assert SIG_RSA_SHA1 in xml
    assert_refused(post(browser, acs, fields, xml))


def test_sha1_digest_under_a_sha256_signature_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    xml = saml_source.response(sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA1)
    assert DIGEST_SHA1 in xml and DIGEST_SHA256 not in xml
    assert_refused(post(browser, acs, fields, xml))


def test_transient_name_id_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    xml = saml_source.response(name_id=NameID(format=NAMEID_FORMAT_TRANSIENT, text="tmp-1"))
    assert_refused(post(browser, acs, fields, xml))


def test_response_that_is_not_base64_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert_refused(post(browser, acs, fields, SAMLResponse="%%%not-base64%%%"))


def test_response_that_is_not_xml_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert_refused(post(browser, acs, fields, "<samlp:Response"))


def test_response_with_a_dtd_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    xml = '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]>' + \
        saml_source.response().split("?>", 1)[1]
    assert_refused(post(browser, acs, fields, xml))


# -- one-time use ------------------------------------------------------------------


def test_response_posted_twice_is_refused_the_second_time(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert post(browser, acs, fields).status_code == 200
    assert_refused(post(browser, acs, fields), code="session_expiree")


def test_response_posted_again_to_another_worker_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert post(browser, acs, fields).status_code == 200
    assert_refused(post(browser, on_other_worker(acs, proxy.other_url), fields),
                   code="session_expiree")


def test_outstanding_request_is_consumed_once_across_workers(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    genuine = saml_source.response()
    assert_refused(post(browser, acs, fields, genuine.replace("Marie Louise", "Mallory")))
    assert_refused(post(browser, on_other_worker(acs, proxy.other_url), fields, genuine),
                   code="reponse_rejouee")


def test_assertion_id_already_accepted_is_refused_on_another_worker(proxy, saml_source):
    first, second = Browser(), Browser()
    acs, fields = start(proxy, first)
    accepted = saml_source.response()
    assert post(first, acs, fields, accepted).status_code == 200
    # By namespace, not by prefix: the prefix pysaml2 writes depends on what ran before.
    assertion = ElementTree.fromstring(accepted).find(
        "{urn:oasis:names:tc:SAML:2.0:assertion}Assertion")
    used_id = assertion.get("ID")

    acs, fields = start(proxy, second)

    def reuse_id(response):
        first_assertion(response).id = used_id

    replayed = saml_source.resign(saml_source.response(), reuse_id)
    assert_refused(post(second, on_other_worker(acs, proxy.other_url), fields, replayed),
                   code="reponse_rejouee")


# -- flow and status ---------------------------------------------------------------


@pytest.mark.parametrize("status", [STATUS_REQUEST_DENIED, STATUS_AUTHN_FAILED])
def test_refusal_status_reaches_the_service_as_access_denied(proxy, saml_source, browser,
                                                             status):
    acs, fields = start(proxy, browser)
    resp = post(browser, acs, fields, saml_source.error_response(status))
    assert resp.status_code == 200
    assert resp.json() == {"error": "access_denied"}


def test_other_error_status_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert_refused(post(browser, acs, fields,
                        saml_source.error_response(STATUS_UNKNOWN_PRINCIPAL)))


def test_relay_state_of_another_login_is_refused(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert_refused(post(browser, acs, fields, RelayState="another-relay-state"))


def test_response_without_a_login_in_progress_is_session_expired(proxy, saml_source, browser):
    acs, fields = start(proxy, browser)
    assert_refused(post(Browser(), acs, fields), code="session_expiree")


def test_acs_refuses_get(proxy, saml_source, browser):
    acs, _ = start(proxy, browser)
    assert_refused(browser.get(acs), code="requete_invalide")
