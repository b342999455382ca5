"""DemoSP, the SAML partner service, against a real pysaml2 IdP built here."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.attribute_converter import AttributeConverter
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import (
    AUTHN_PASSWORD_PROTECTED,
    NAME_FORMAT_URI,
    NAMEID_FORMAT_PERSISTENT,
    NameID,
)
from saml2.samlp import STATUS_REQUEST_DENIED
from saml2.server import Server
from saml2.sigver import get_xmlsec_binary
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp.demo.saml_sp import DemoSP, make_demo_sp

from .helpers import error_code, loopback, result_rows

#: The test IdP's own converter: friendly names in, the federation's urn:oid names out.
NAMES = {"givenName": "urn:oid:2.5.4.42", "sn": "urn:oid:2.5.4.4",
         "dateOfBirth": "urn:oid:1.3.6.1.5.5.7.9.1"}
OTHER_SP = "http://127.0.0.1:9/metadata"
IDENTITY = {"givenName": ["Jean-Louis Marcel"], "sn": ["Vautrin"], "dateOfBirth": ["1962-09-03"]}


class TestIdP:
    """A pysaml2 IdP: metadata served on loopback, Responses built by the test."""

    __test__ = False

    def __init__(self, base: str, key, cert, *sp_metadata: str) -> None:
        self.entity_id = f"{base}/metadata"
        config = IdPConfig().load({
            "entityid": self.entity_id, "key_file": str(key), "cert_file": str(cert),
            "xmlsec_binary": get_xmlsec_binary(), "delete_tmpfiles": True,
            "metadata": {"inline": list(sp_metadata)},
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [(f"{base}/sso",
                                                          BINDING_HTTP_REDIRECT)]},
                "want_authn_requests_signed": True, "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "policy": {"default": {"lifetime": {"minutes": 5}, "name_form": NAME_FORMAT_URI}},
            }},
        })
        converter = AttributeConverter(NAME_FORMAT_URI)
        converter.from_dict({"identifier": NAME_FORMAT_URI, "to": NAMES,
                             "fro": {v: k for k, v in NAMES.items()}})
        config.attribute_converters[:] = [converter]
        self.server = Server(config=config)
        self.metadata_xml = create_metadata_string(None, config=config)

    def __call__(self, environ, start_response):
        start_response("200 OK", [("Content-Type", "application/samlmetadata+xml")])
        return [self.metadata_xml]

    def read_request(self, location: str) -> tuple[Any, dict[str, str]]:
        """Parse (and verify the signature of) the Redirect-binding request at ``location``."""
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        request = self.server.parse_authn_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"), signature=query.get("Signature"))
        return request, query

    def answer(self, request: Any, status: str | None = None, **overrides: Any) -> str:
        args = self.server.response_args(request.message, [BINDING_HTTP_POST])
        args.update(overrides.pop("args", {}))
        if status:
            xml = self.server.create_error_response(
                args["in_response_to"], args["destination"], (status, None), sign=True,
                sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256)
        else:
            options = {"sign_response": True, "sign_assertion": True, **overrides}
            xml = self.server.create_authn_response(
                identity=IDENTITY, userid="jean.vautrin",
                name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="opaque-42"),
                authn={"class_ref": AUTHN_PASSWORD_PROTECTED},
                sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256, **options, **args)
        return base64.b64encode(str(xml).encode()).decode()


@pytest.fixture
def pair(saml_keys, serve, port) -> tuple[DemoSP, TestIdP]:
    sp_port, idp_port = port(), port()
    sp = make_demo_sp(loopback(sp_port), *saml_keys("sp"), f"{loopback(idp_port)}/metadata",
                      "Province de test — aides et bourses")
    serve(sp, sp_port)
    # A second SP, same endpoints under another entity id: to issue assertions meant for it.
    other = sp._metadata_xml.replace(f'entityID="{sp.entity_id}"', f'entityID="{OTHER_SP}"')
    idp = TestIdP(loopback(idp_port), *saml_keys("idp"), sp._metadata_xml, other)
    serve(idp, idp_port)
    return sp, idp


def _start(sp: DemoSP, idp: TestIdP) -> tuple[requests.Session, Any, dict[str, str]]:
    session = requests.Session()
    location = session.get(f"{sp.base_url}/login", allow_redirects=False,
                           timeout=10).headers["Location"]
    request, query = idp.read_request(location)
    return session, request, query


def _post(session: requests.Session, sp: DemoSP, saml_response: str,
          relay_state: str) -> requests.Response:
    return session.post(sp.acs_url, timeout=10,
                        data={"SAMLResponse": saml_response, "RelayState": relay_state})


def _login(sp: DemoSP, idp: TestIdP, **answer: Any) -> requests.Response:
    session, request, query = _start(sp, idp)
    return _post(session, sp, idp.answer(request, **answer), query["RelayState"])


def test_metadata_declares_signed_requests_signed_assertions_and_a_post_acs(pair):
    sp, _ = pair
    xml = requests.get(f"{sp.base_url}/metadata", timeout=10).text
    assert f'entityID="{sp.entity_id}"' in xml
    assert 'AuthnRequestsSigned="true"' in xml and 'WantAssertionsSigned="true"' in xml
    assert f'Binding="{BINDING_HTTP_POST}" Location="{sp.acs_url}"' in xml


def test_login_sends_a_signed_rsa_sha256_redirect_request_for_a_persistent_nameid(pair):
    sp, idp = pair
    request, query = _start(sp, idp)[1:]  # parse_authn_request verified the signature
    assert query["SigAlg"] == SIG_RSA_SHA256 and len(query["RelayState"].encode()) <= 80
    assert request.message.destination == f"{idp.entity_id[:-len('/metadata')]}/sso"
    assert request.message.issuer.text == sp.entity_id
    assert request.message.name_id_policy.format == NAMEID_FORMAT_PERSISTENT


def test_valid_response_shows_rows_keyed_by_urn_name_with_nameid(pair):
    sp, idp = pair
    page = _login(sp, idp)
    rows = result_rows(page.text)
    assert page.status_code == 200
    assert rows == {"nameid": ("Identifiant de l'usager (NameID)", "opaque-42"),
                    "urn:oid:2.5.4.42": ("Prénoms", "Jean-Louis Marcel"),
                    "urn:oid:2.5.4.4": ("Nom de naissance", "Vautrin"),
                    "urn:oid:1.3.6.1.5.5.7.9.1": ("Date de naissance", "1962-09-03")}
    assert sp.last_result == {name: value for name, (_, value) in rows.items()}


def test_unsigned_assertion_in_a_signed_response_is_refused(pair):
    sp, idp = pair
    page = _login(sp, idp, sign_assertion=False)
    assert error_code(page.text) == "reponse_invalide" and sp.last_result is None


def test_assertion_for_another_audience_is_refused(pair):
    sp, idp = pair
    page = _login(sp, idp, args={"sp_entity_id": OTHER_SP})
    assert error_code(page.text) == "reponse_invalide"


def test_response_signed_by_a_key_outside_the_metadata_is_refused(pair, saml_keys):
    sp, idp = pair
    impostor = TestIdP(idp.entity_id[:-len("/metadata")], *saml_keys("impostor"),
                       sp._metadata_xml)
    session, request, query = _start(sp, idp)
    page = _post(session, sp, impostor.answer(request), query["RelayState"])
    assert error_code(page.text) == "reponse_invalide"


def test_response_to_an_unknown_request_is_refused(pair):
    sp, idp = pair
    session, request, query = _start(sp, idp)
    forged = idp.answer(request, args={"in_response_to": "id-inconnu"})
    assert error_code(_post(session, sp, forged, query["RelayState"]).text) == (
        "reponse_inattendue")


def test_response_is_accepted_once(pair):
    sp, idp = pair
    session, request, query = _start(sp, idp)
    answer = idp.answer(request)
    assert _post(session, sp, answer, query["RelayState"]).status_code == 200
    replay = _post(session, sp, answer, query["RelayState"])
    assert error_code(replay.text) == "reponse_inattendue"


def test_response_posted_by_another_browser_is_refused(pair):
    sp, idp = pair
    _, request, query = _start(sp, idp)
    page = _post(requests.Session(), sp, idp.answer(request), query["RelayState"])
    assert error_code(page.text) == "session_invalide"


def test_response_addressed_to_another_acs_is_refused(pair):
    sp, idp = pair
    page = _login(sp, idp, args={"destination": "http://127.0.0.1:9/acs"})
    assert error_code(page.text) == "destination_invalide"


def test_request_denied_status_is_shown_as_error(pair):
    sp, idp = pair
    page = _login(sp, idp, status=STATUS_REQUEST_DENIED)
    assert error_code(page.text) == "RequestDenied" and sp.last_result is None


def test_garbage_saml_response_is_a_400_page(pair):
    sp, _ = pair
    page = requests.post(sp.acs_url, data={"SAMLResponse": "<pas du base64>"}, timeout=10)
    assert page.status_code == 400 and error_code(page.text) == "reponse_illisible"


def test_unreachable_idp_metadata_is_a_503_page(saml_keys, serve, port):
    sp_port = port()
    sp = make_demo_sp(loopback(sp_port), *saml_keys("sp"), f"{loopback(port())}/metadata",
                      "Province")
    serve(sp, sp_port)
    page = requests.get(f"{sp.base_url}/login", timeout=10)
    assert page.status_code == 503 and error_code(page.text) == "fournisseur_indisponible"
