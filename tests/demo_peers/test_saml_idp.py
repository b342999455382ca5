"""DemoIdP, the SAML identity source, against a real pysaml2 SP built here."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.samlp import response_from_string
from saml2.sigver import get_xmlsec_binary
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from idp.demo.attributes import ATTRIBUTES
from idp.demo.citizens import CITIZENS
from idp.demo.saml_idp import DemoIdP, make_demo_idp

from .helpers import error_code, form_of, loopback, submit_login


class TestSP:
    """A pysaml2 SP: its metadata served on loopback, its messages built in the test."""

    __test__ = False

    def __init__(self, base: str, key, cert, idp_metadata: str | None = None) -> None:
        self.base = base
        self.entity_id = f"{base}/metadata"
        self.acs = f"{base}/acs"
        conf = {
            "entityid": self.entity_id, "key_file": str(key), "cert_file": str(cert),
            "xmlsec_binary": get_xmlsec_binary(), "delete_tmpfiles": True,
            "metadata": {"inline": [idp_metadata] if idp_metadata else []},
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(self.acs, BINDING_HTTP_POST)]},
                "authn_requests_signed": True, "want_assertions_signed": True,
                "want_response_signed": True, "allow_unsolicited": False}},
        }
        self.config = SPConfig().load(conf)
        self.metadata_xml = create_metadata_string(None, config=self.config)
        self.client = Saml2Client(config=self.config) if idp_metadata else None

    def __call__(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
        return [self.metadata_xml]

    def login_url(self, idp_entity_id: str, sign: bool = True, sigalg: str = SIG_RSA_SHA256,
                  **kwargs) -> tuple[str, str]:
        request_id, info = self.client.prepare_for_authenticate(
            entityid=idp_entity_id, relay_state="retour-42", binding=BINDING_HTTP_REDIRECT,
            sign=sign, sigalg=sigalg, digest_alg=DIGEST_SHA256, **kwargs)
        return request_id, dict(info["headers"])["Location"]


@pytest.fixture
def federation(saml_keys, serve, port):
    """The IdP and a pysaml2 SP that knows the IdP's metadata."""
    idp_port, sp_port = port(), port()
    idp = make_demo_idp(loopback(idp_port), *saml_keys("idp"),
                        [f"{loopback(sp_port)}/metadata"], CITIZENS)
    serve(idp, idp_port)
    sp = TestSP(loopback(sp_port), *saml_keys("sp"), idp_metadata=idp._metadata_xml)
    serve(sp, sp_port)
    return idp, sp


def _login(idp: DemoIdP, sp: TestSP, username: str = "marie.wamytan",
           action: str = "connexion", **kwargs) -> tuple[str, dict[str, str]]:
    request_id, url = sp.login_url(idp.entity_id, **kwargs)
    session = requests.Session()
    page = session.get(url, timeout=10)
    posted = submit_login(session, page, username, "demo", action=action)
    action_url, fields = form_of(posted.text, posted.url)
    return request_id, {"action": action_url, **fields}


def _parse(sp: TestSP, request_id: str, fields: dict[str, str]):
    return sp.client.parse_authn_request_response(
        fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={request_id: "/"})


def test_metadata_names_the_entity_its_redirect_sso_and_demands_signed_requests(federation):
    idp, _ = federation
    xml = requests.get(f"{idp.base_url}/metadata", timeout=10).text
    assert f'entityID="{idp.entity_id}"' in xml
    assert f'Location="{idp.base_url}/sso/redirect"' in xml and BINDING_HTTP_REDIRECT in xml
    assert 'WantAuthnRequestsSigned="true"' in xml
    assert "rsa-sha1" not in xml and "md5" not in xml


def test_signed_request_and_login_post_a_response_pysaml2_accepts(federation):
    idp, sp = federation
    request_id, fields = _login(idp, sp)
    assert fields["action"] == sp.acs and fields["RelayState"] == "retour-42"
    response = _parse(sp, request_id, fields)  # signatures, audience, destination, time
    assert response is not None and response.in_response_to == request_id
    assert response.assertion.conditions.audience_restriction[0].audience[0].text == sp.entity_id


def test_response_and_assertion_are_both_signed_rsa_sha256(federation):
    idp, sp = federation
    _, fields = _login(idp, sp)
    response = response_from_string(base64.b64decode(fields["SAMLResponse"]))
    for signed in (response, response.assertion[0]):
        assert signed.signature.signed_info.signature_method.algorithm == SIG_RSA_SHA256


def test_attributes_carry_urn_oid_names_in_uri_format(federation):
    idp, sp = federation
    request_id, fields = _login(idp, sp, username="teva.teriitehau")
    attributes = _parse(sp, request_id, fields).assertion.attribute_statement[0].attribute
    received = {a.name: (a.name_format, a.attribute_value[0].text) for a in attributes}
    claims = next(c for c in CITIZENS if c.username == "teva.teriitehau").claims
    assert received == {urn: (NAME_FORMAT_URI, claims[claim])
                        for claim, (urn, _, _) in ATTRIBUTES.items()}


def test_nameid_is_persistent_opaque_and_stable(federation):
    idp, sp = federation
    first = _parse(sp, *_login(idp, sp)).assertion.subject.name_id
    second = _parse(sp, *_login(idp, sp)).assertion.subject.name_id
    other = _parse(sp, *_login(idp, sp, username="jean.vautrin")).assertion.subject.name_id
    assert first.format == NAMEID_FORMAT_PERSISTENT
    assert first.text == second.text != other.text
    assert "marie" not in first.text and first.sp_name_qualifier == sp.entity_id


def test_cancel_posts_a_signed_request_denied_response(federation):
    idp, sp = federation
    request_id, fields = _login(idp, sp, action="annuler")
    response = response_from_string(base64.b64decode(fields["SAMLResponse"]))
    assert response.in_response_to == request_id and response.signature is not None
    assert response.status.status_code.status_code.value.endswith(":RequestDenied")


def test_unsigned_request_is_refused(federation):
    idp, sp = federation
    _, url = sp.login_url(idp.entity_id, sign=False)
    page = requests.get(url, timeout=10)
    assert page.status_code == 400 and "demande non signée" in page.text


def test_request_with_a_tampered_signature_is_refused(federation):
    idp, sp = federation
    _, url = sp.login_url(idp.entity_id)
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["RelayState"] = "changé"
    page = requests.get(f"{idp.sso_url}?{urlencode(query)}", timeout=10)
    assert page.status_code == 400 and "signature ou contenu invalide" in page.text


def test_request_signed_with_rsa_sha1_is_refused(federation):
    idp, sp = federation
    _, url = sp.login_url(idp.entity_id, sigalg=SIG_RSA_SHA1)
    page = requests.get(url, timeout=10)
    assert page.status_code == 400 and "algorithme de signature refusé" in page.text


def test_acs_url_absent_from_sp_metadata_is_refused(federation):
    idp, sp = federation
    _, url = sp.login_url(idp.entity_id,
                          assertion_consumer_service_url="http://127.0.0.1:9/ailleurs")
    page = requests.get(url, timeout=10)
    assert page.status_code == 400 and "adresse de retour" in page.text


def test_transient_nameid_policy_gets_invalid_nameid_policy_status(federation):
    idp, sp = federation
    _, url = sp.login_url(idp.entity_id, nameid_format=NAMEID_FORMAT_TRANSIENT)
    action, fields = form_of(requests.get(url, timeout=10).text, url)
    response = response_from_string(base64.b64decode(fields["SAMLResponse"]))
    assert action == sp.acs
    assert response.status.status_code.status_code.value.endswith(":InvalidNameIDPolicy")


def test_garbage_saml_request_is_a_400_page(federation):
    idp, _ = federation
    page = requests.get(idp.sso_url, params={"SAMLRequest": "pas du base64 !"}, timeout=10)
    assert page.status_code == 400 and error_code(page.text) == "requete_invalide"


def test_request_from_an_sp_without_metadata_is_refused(federation, saml_keys, serve, port):
    idp, _ = federation
    stranger_port = port()
    stranger = TestSP(loopback(stranger_port), *saml_keys("stranger"),
                      idp_metadata=idp._metadata_xml)
    serve(stranger, stranger_port)
    _, url = stranger.login_url(idp.entity_id)
    page = requests.get(url, timeout=10)
    assert page.status_code == 400 and error_code(page.text) == "sp_inconnu"


def test_sp_started_after_the_idp_is_fetched_when_it_first_asks(saml_keys, serve, port):
    idp_port, early_port, late_port = port(), port(), port()
    idp = make_demo_idp(loopback(idp_port), *saml_keys("idp"),
                        [f"{loopback(early_port)}/metadata", f"{loopback(late_port)}/metadata"],
                        CITIZENS)
    serve(idp, idp_port)
    early = TestSP(loopback(early_port), *saml_keys("sp"), idp_metadata=idp._metadata_xml)
    serve(early, early_port)
    assert requests.get(early.login_url(idp.entity_id)[1], timeout=10).status_code == 200

    late = TestSP(loopback(late_port), *saml_keys("late"), idp_metadata=idp._metadata_xml)
    serve(late, late_port)  # starts after the IdP already loaded the metadata it could
    page = requests.get(late.login_url(idp.entity_id)[1], timeout=10)
    assert page.status_code == 200 and page.url.startswith(idp.sso_url)


def test_authn_requests_are_counted(federation):
    idp, sp = federation
    before = idp.authn_requests
    requests.get(sp.login_url(idp.entity_id)[1], timeout=10)
    requests.get(idp.sso_url, params={"SAMLRequest": "x"}, timeout=10)
    assert idp.authn_requests == before + 2
