"""Hostile or broken AuthnRequests end on a page of ours (400), never on a post to the SP."""

from __future__ import annotations

import base64
import re
import zlib
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from saml2 import BINDING_HTTP_ARTIFACT

from .conftest import (
    SPS,
    SSO_POST,
    SSO_REDIRECT,
    autopost_form,
    deflate_b64,
    error_code,
    refusal_detail,
)


def _assert_refused(resp, caplog, why, code="requete_invalide", status=400):
    assert why in refusal_detail(caplog)
    assert resp.status_code == status
    assert error_code(resp) == code
    assert autopost_form(resp) is None
    for sp in SPS.values():
        assert sp.acs[0] not in resp.get_data(as_text=True)


def _get(federation, **params):
    return federation.browser().get(f"{SSO_REDIRECT}?{urlencode(params)}")


def _xml_for_redirect(federation, sp="a"):
    _reqid, xml = federation.authn_request_xml(sp, destination=SSO_REDIRECT)
    return xml


def test_unknown_sp_gets_our_page_not_a_post(federation, caplog):
    _reqid, resp = federation.login("unknown")
    _assert_refused(resp, caplog, "unregistered issuer", "sp_inconnu")


def test_acs_url_not_in_sp_metadata_is_refused(federation, caplog):
    _reqid, resp = federation.login("a", assertion_consumer_service_url="https://evil.test/acs")
    _assert_refused(resp, caplog, "AssertionConsumerService not in")
    assert "evil.test" not in resp.get_data(as_text=True)


def test_acs_url_of_another_sp_is_refused(federation, caplog):
    _reqid, resp = federation.login("a", assertion_consumer_service_url=SPS["b"].acs[0])
    _assert_refused(resp, caplog, "AssertionConsumerService not in")


def test_acs_index_not_in_sp_metadata_is_refused(federation, caplog):
    _reqid, resp = federation.login("a", assertion_consumer_service_index="7")
    _assert_refused(resp, caplog, "AssertionConsumerService not in")


def test_response_binding_other_than_http_post_is_refused(federation, caplog):
    _reqid, url = federation.request_url("a", response_binding=BINDING_HTTP_ARTIFACT)
    _assert_refused(federation.browser().get(url), caplog, "other than HTTP-POST")


def test_deflate_bomb_is_refused_without_inflating_it(federation, caplog):
    bomb = b"<samlp:AuthnRequest " + b"A" * (3 * 1024 * 1024)  # 12 times the 256 KiB bound
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    encoded = base64.b64encode(comp.compress(bomb) + comp.flush()).decode()
    assert len(encoded) < 6000  # fits in the proxy's query-string limit: reaches the frontend
    _assert_refused(_get(federation, SAMLRequest=encoded), caplog, "inflates beyond the limit")


@pytest.mark.parametrize(("saml_request", "why"), [
    ("not base64 at all !", "not base64"),
    (base64.b64encode(b"\x00\xff random bytes, not deflate").decode(), "not deflate"),
    (deflate_b64("this is not XML"), "not well-formed XML"),
    (deflate_b64("<foo xmlns='urn:x'/>"), "not an AuthnRequest"),
    (deflate_b64('<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
                 'ID="x" Version="2.0" IssueInstant="2024-01-01T00:00:00Z"/>'), "without Issuer"),
    (deflate_b64('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">'
                 '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><r>&b;</r>'),
     "not well-formed XML"),
], ids=["not-base64", "not-deflate", "not-xml", "not-authnrequest", "no-issuer", "entities"])
def test_garbage_saml_request_is_refused(federation, caplog, saml_request, why):
    _assert_refused(_get(federation, SAMLRequest=saml_request), caplog, why)


def test_missing_saml_request_is_refused(federation, caplog):
    _assert_refused(_get(federation, RelayState="x"), caplog, "no SAMLRequest")


def test_relay_state_longer_than_80_bytes_is_refused(federation, caplog):
    _reqid, resp = federation.login("a", relay_state="é" * 40 + "x")  # 81 bytes
    _assert_refused(resp, caplog, "RelayState longer than 80 bytes")


def test_stale_request_is_refused(federation, caplog):
    xml = re.sub(r'IssueInstant="[^"]+"', 'IssueInstant="2020-01-01T00:00:00Z"',
                 _xml_for_redirect(federation))
    _assert_refused(_get(federation, SAMLRequest=deflate_b64(xml)), caplog, "IssueInstant out of")


def test_request_destined_to_another_idp_is_refused(federation, caplog):
    _reqid, xml = federation.authn_request_xml("a", destination="https://other-idp.test/sso")
    _assert_refused(_get(federation, SAMLRequest=deflate_b64(xml)), caplog, "OtherError")


def test_get_on_the_post_endpoint_is_refused(federation, caplog):
    resp = federation.browser().get(
        f"{SSO_POST}?{urlencode({'SAMLRequest': deflate_b64(_xml_for_redirect(federation))})}")
    _assert_refused(resp, caplog, "needs POST", "methode_non_autorisee", 405)


def test_post_binding_request_is_accepted(federation):
    reqid, xml = federation.authn_request_xml("a")
    resp = federation.browser().post(SSO_POST, data={
        "SAMLRequest": base64.b64encode(xml.encode()).decode(), "RelayState": "r"})
    form = autopost_form(resp)
    assert form is not None and form.action == SPS["a"].acs[0]
    assert federation.parse_response("a", form, reqid).in_response_to == reqid


def test_post_binding_garbage_is_refused(federation, caplog):
    resp = federation.browser().post(SSO_POST, data={"SAMLRequest": "%%%"})
    _assert_refused(resp, caplog, "not base64")


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(saml_request=st.text(max_size=300), relay_state=st.text(max_size=100))
def test_arbitrary_parameters_never_cause_a_server_error(federation, saml_request, relay_state):
    params = {"SAMLRequest": saml_request, "RelayState": relay_state}
    for resp in (federation.browser().get(f"{SSO_REDIRECT}?{urlencode(params)}"),
                 federation.browser().post(SSO_POST, data=params)):
        assert resp.status_code == 400
        assert autopost_form(resp) is None
