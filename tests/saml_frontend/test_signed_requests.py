"""SPs whose metadata says AuthnRequestsSigned="true": only correctly signed requests pass."""

from __future__ import annotations

import base64
from urllib.parse import parse_qsl, urlencode, urlsplit

from saml2 import BINDING_HTTP_REDIRECT
from saml2.xmldsig import DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from .conftest import IDP_ENTITY, SPS, SSO_POST, autopost_form, error_code, refusal_detail


def _assert_refused(resp, caplog, why):
    assert resp.status_code == 400
    assert error_code(resp) == "requete_invalide"
    assert autopost_form(resp) is None
    assert why in refusal_detail(caplog)


def _post(federation, client, sign, sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256):
    reqid, request = client.create_authn_request(
        destination=SSO_POST, sign=sign, sign_alg=sign_alg, digest_alg=digest_alg)
    resp = federation.browser().post(SSO_POST, data={
        "SAMLRequest": base64.b64encode(str(request).encode()).decode()})
    return reqid, resp


def test_signed_redirect_request_is_accepted(federation):
    reqid, resp = federation.login("signed", relay_state="state-1", sign=True)
    form = autopost_form(resp)
    assert form is not None and form.action == SPS["signed"].acs[0]
    assert federation.parse_response("signed", form, reqid).in_response_to == reqid


def test_unsigned_redirect_request_is_refused(federation, caplog):
    _reqid, resp = federation.login("signed", sign=False)
    _assert_refused(resp, caplog, "signature missing or invalid")


def test_redirect_request_signed_with_another_key_is_refused(federation, caplog):
    impostor = federation.sp_client_with_keys_of("signed", "unknown")
    _reqid, _binding, info = impostor.prepare_for_negotiated_authenticate(
        entityid=IDP_ENTITY, binding=BINDING_HTTP_REDIRECT, sign=True, sigalg=SIG_RSA_SHA256)
    resp = federation.browser().get(dict(info["headers"])["Location"])
    _assert_refused(resp, caplog, "signature missing or invalid")


def test_redirect_request_signed_with_rsa_sha1_is_refused(federation, caplog):
    _reqid, resp = federation.login("signed", sign=True, sigalg=SIG_RSA_SHA1)
    _assert_refused(resp, caplog, "signature missing or invalid")


def test_relay_state_changed_after_signing_is_refused(federation, caplog):
    _reqid, url = federation.request_url("signed", relay_state="genuine", sign=True)
    parts = urlsplit(url)
    params = dict(parse_qsl(parts.query))
    params["RelayState"] = "forged"
    resp = federation.browser().get(f"{parts.scheme}://{parts.netloc}{parts.path}?"
                                    f"{urlencode(params)}")
    _assert_refused(resp, caplog, "signature missing or invalid")


def test_signed_post_request_is_accepted(federation):
    reqid, resp = _post(federation, federation.clients["signed"], sign=True)
    form = autopost_form(resp)
    assert form is not None
    assert federation.parse_response("signed", form, reqid).in_response_to == reqid


def test_unsigned_post_request_is_refused(federation, caplog):
    _reqid, resp = _post(federation, federation.clients["signed"], sign=False)
    _assert_refused(resp, caplog, "this one is not signed")


def test_post_request_signed_with_another_key_is_refused(federation, caplog):
    impostor = federation.sp_client_with_keys_of("signed", "unknown")
    _reqid, resp = _post(federation, impostor, sign=True)
    _assert_refused(resp, caplog, "rejected by pysaml2")


def test_post_request_signed_with_sha1_is_refused(federation, caplog):
    _reqid, resp = _post(federation, federation.clients["signed"], sign=True,
                         sign_alg=SIG_RSA_SHA1, digest_alg=DIGEST_SHA1)
    _assert_refused(resp, caplog, "algorithm we do not accept")


def test_bad_signature_is_refused_even_when_the_sp_does_not_require_one(federation, caplog):
    impostor = federation.sp_client_with_keys_of("a", "unknown")
    _reqid, _binding, info = impostor.prepare_for_negotiated_authenticate(
        entityid=IDP_ENTITY, binding=BINDING_HTTP_REDIRECT, sign=True, sigalg=SIG_RSA_SHA256)
    resp = federation.browser().get(dict(info["headers"])["Location"])
    _assert_refused(resp, caplog, "signature missing or invalid")


def test_redirect_request_with_its_saml_request_repeated_is_refused(federation, caplog):
    """The first copy is signed and valid; a second copy after it must not be ignored, or a
    library that reads the other copy than the one the signature covers could be fooled."""
    _reqid, url = federation.request_url("signed", relay_state="genuine", sign=True)
    _other, other_url = federation.request_url("signed", relay_state="genuine", sign=False)
    second = dict(parse_qsl(urlsplit(other_url).query))["SAMLRequest"]
    resp = federation.browser().get(f"{url}&{urlencode({'SAMLRequest': second})}")
    _assert_refused(resp, caplog, "SAMLRequest repeated")


def test_redirect_request_with_its_signature_repeated_is_refused(federation, caplog):
    _reqid, url = federation.request_url("signed", relay_state="genuine", sign=True)
    resp = federation.browser().get(f"{url}&Signature=AAAA")
    _assert_refused(resp, caplog, "Signature repeated")


def test_post_request_with_its_saml_request_repeated_is_refused(federation, caplog):
    client = federation.clients["signed"]
    _reqid, request = client.create_authn_request(destination=SSO_POST, sign=True,
                                                  sign_alg=SIG_RSA_SHA256,
                                                  digest_alg=DIGEST_SHA256)
    encoded = base64.b64encode(str(request).encode()).decode()
    body = urlencode([("SAMLRequest", encoded), ("SAMLRequest", encoded)])
    resp = federation.browser().post(SSO_POST, data=body, headers={
        "Content-Type": "application/x-www-form-urlencoded"})
    _assert_refused(resp, caplog, "SAMLRequest repeated")
