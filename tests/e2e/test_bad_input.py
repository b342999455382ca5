"""Hostile or broken input ends on a clear page of ours, with nothing released."""

from __future__ import annotations

import base64
import re
from urllib.parse import urlencode

import requests

from idp.testbed.browser import Browser, autopost_form, error_code_of
from idp.testbed.login import sign_in, start


def _authorize(fed, **params) -> requests.Response:
    query = {"response_type": "code", "scope": "openid profile", "state": "s", "nonce": "n",
             **params}
    return requests.get(f"{fed.proxy_url}/oidc/authorize?{urlencode(query)}",
                        allow_redirects=False, timeout=10)


def test_unknown_client_id_gets_a_french_page_not_a_redirect(fed):
    resp = _authorize(fed, client_id="inconnu", redirect_uri="https://evil.example/cb")
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert error_code_of(resp) == "client_inconnu"
    assert "Service inconnu" in resp.text


def test_unregistered_redirect_uri_gets_a_page_not_a_redirect(fed):
    resp = _authorize(fed, client_id="rp-op", redirect_uri="https://evil.example/cb")
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert error_code_of(resp) == "redirect_uri_invalide"


def test_redirect_uri_differing_only_by_a_suffix_is_refused(fed):
    resp = _authorize(fed, client_id="rp-op", redirect_uri=f"{fed.url('rp-op')}/callback/x")
    assert error_code_of(resp) == "redirect_uri_invalide"


def _saml_response_at_proxy(fed, citizen):
    """Stop a SAML->SAML login where the IdP's signed response is about to reach the proxy."""
    browser = Browser()
    page = start(browser, fed.url("sp-idp"))
    posting = sign_in(browser, page, citizen, stop_at=f"{fed.proxy_url}/src-idp/saml2/acs")
    action, fields = autopost_form(posting)
    return browser, action, fields


def test_tampered_saml_response_from_a_source_is_refused(fed, citizen):
    browser, acs, fields = _saml_response_at_proxy(fed, citizen)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    family = citizen.claims["family_name"]
    assert family in xml
    fields["SAMLResponse"] = base64.b64encode(xml.replace(family, "IMPOSTEUR").encode()).decode()
    resp = browser.post_form_data(acs, fields)
    assert resp.status_code == 400
    assert error_code_of(resp) == "reponse_source_invalide"
    assert "IMPOSTEUR" not in resp.text and "Location" not in resp.headers


def test_unsigned_saml_response_from_a_source_is_refused(fed, citizen):
    browser, acs, fields = _saml_response_at_proxy(fed, citizen)
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    unsigned = re.sub(r"<(\w+:)?Signature\b.*?</(\w+:)?Signature>", "", xml, flags=re.S)
    assert "SignatureValue" not in unsigned
    fields["SAMLResponse"] = base64.b64encode(unsigned.encode()).decode()
    resp = browser.post_form_data(acs, fields)
    assert resp.status_code == 400
    assert error_code_of(resp) == "reponse_source_invalide"


def test_garbage_saml_response_is_a_400_not_a_500(fed, citizen):
    browser, acs, fields = _saml_response_at_proxy(fed, citizen)
    fields["SAMLResponse"] = "%%%pas-du-base64%%%"
    resp = browser.post_form_data(acs, fields)
    assert resp.status_code == 400


def test_unknown_saml_sp_gets_a_french_page(fed):
    from saml2 import BINDING_HTTP_REDIRECT
    from saml2.client import Saml2Client
    from saml2.config import SPConfig

    metadata = requests.get(f"{fed.proxy_url}/saml2/metadata", timeout=10).text
    config = SPConfig()
    config.load({
        "entityid": "https://inconnu.example.nc/sp",
        "metadata": {"inline": [metadata]},
        "service": {"sp": {"endpoints": {"assertion_consumer_service": [
            ("https://inconnu.example.nc/acs", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST")]},
            "allow_unsolicited": False}},
    })
    client = Saml2Client(config)
    _, info = client.prepare_for_authenticate(
        entityid=f"{fed.proxy_url}/saml2/metadata", binding=BINDING_HTTP_REDIRECT)
    location = dict(info["headers"])["Location"]
    resp = requests.get(location, allow_redirects=False, timeout=10)
    assert resp.status_code == 400
    assert "Location" not in resp.headers
    assert error_code_of(resp) == "sp_inconnu"
