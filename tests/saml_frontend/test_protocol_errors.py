"""When the login cannot succeed after a valid request, the SP gets a signed SAML error Response.

The pysaml2 SP verifies the signature before it looks at the status, so the
``Status*`` exception it raises proves the error Response was signed by us.
"""

from __future__ import annotations

import pytest
from saml2.response import (
    StatusAuthnFailed,
    StatusNoPassive,
    StatusRequestDenied,
)

from .conftest import IDP_ENTITY, NS, SPS, autopost_form, response_tree

RESPONDER = "urn:oasis:names:tc:SAML:2.0:status:Responder"


def _error_form(federation, sp, **kwargs):
    reqid, resp = federation.login(sp, relay_state="retour", **kwargs)
    assert resp.status_code == 200
    form = autopost_form(resp)
    assert form is not None
    return reqid, form


def _status(form):
    top = response_tree(form).find("samlp:Status/samlp:StatusCode", NS)
    return top.get("Value"), top.find("samlp:StatusCode", NS).get("Value")


def test_source_access_denied_gives_request_denied_on_the_sp_acs(federation):
    reqid, form = _error_form(federation, "refused")
    root = response_tree(form)
    assert form.action == SPS["refused"].acs[0]
    assert form.fields["RelayState"] == "retour"
    assert (root.get("Destination"), root.get("InResponseTo")) == (SPS["refused"].acs[0], reqid)
    assert root.findtext("saml:Issuer", namespaces=NS) == IDP_ENTITY
    assert root.find("saml:Assertion", NS) is None
    assert _status(form) == (RESPONDER, "urn:oasis:names:tc:SAML:2.0:status:RequestDenied")
    with pytest.raises(StatusRequestDenied):
        federation.parse_response("refused", form, reqid)


def test_source_failure_gives_authn_failed(federation):
    reqid, form = _error_form(federation, "failing")
    assert _status(form) == (RESPONDER, "urn:oasis:names:tc:SAML:2.0:status:AuthnFailed")
    with pytest.raises(StatusAuthnFailed):
        federation.parse_response("failing", form, reqid)


def test_passive_request_gets_no_passive(federation):
    reqid, form = _error_form(federation, "a", is_passive="true")
    with pytest.raises(StatusNoPassive):
        federation.parse_response("a", form, reqid)


def test_error_response_is_signed_with_rsa_sha256(federation):
    _reqid, form = _error_form(federation, "refused")
    method = response_tree(form).find("ds:Signature/ds:SignedInfo/ds:SignatureMethod", NS)
    assert method.get("Algorithm") == "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
