"""DemoRP, the OIDC partner service, against a real pyop provider built here.

The provider logs the usager in at once (no form) and has knobs to bend its
answers, so each of the relying party's checks is seen refusing one defect.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from cryptojwt.jwk.hmac import SYMKey
from cryptojwt.jwk.rsa import RSAKey as SigningKey
from cryptojwt.jws.jws import JWS
from jwkest.jwk import RSAKey, import_rsa_key
from oic.oic.message import AuthorizationErrorResponse
from pyop.authz_state import AuthorizationState
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo
from werkzeug.wrappers import Request, Response

from idp.demo.citizens import CITIZENS
from idp.demo.rp import DemoRP, make_demo_rp
from idp.keys import rsa_key_pem

from .helpers import error_code, loopback, result_rows

CLIENT_ID = "mairie-test"
SECRET = "secret-de-la-mairie-de-test"
USER = "jean.vautrin"


class TestProvider:
    """pyop behind a few routes; ``id_token_edit``/``sign_key`` etc. tamper with answers."""

    __test__ = False

    def __init__(self, issuer: str, redirect_uri: str, key_pem: bytes) -> None:
        self.issuer = issuer
        key = RSAKey(key=import_rsa_key(key_pem.decode()), use="sig", alg="RS256", kid="k1")
        self.signing_key = SigningKey(priv_key=load_pem_private_key(key_pem, None), kid="k1")
        https_twin = issuer.replace("http://", "https://")  # oic's check wants https
        self.provider = Provider(
            key, {"issuer": https_twin, "authorization_endpoint": f"{issuer}/authorize",
                  "token_endpoint": f"{issuer}/token", "userinfo_endpoint": f"{issuer}/userinfo",
                  "jwks_uri": f"{issuer}/jwks", "response_types_supported": ["code"],
                  "subject_types_supported": ["public"],
                  "scopes_supported": ["openid", "profile", "email"]},
            AuthorizationState(HashBasedSubjectIdentifierFactory("sel")),
            {CLIENT_ID: {"client_secret": SECRET, "redirect_uris": [redirect_uri],
                         "response_types": ["code"]}},
            Userinfo({c.username: dict(c.claims) for c in CITIZENS}),
            extra_scopes={"birth": ["birthplace", "birthcountry"]})
        self.provider.configuration_information["issuer"] = issuer
        self.provider.configuration_information[
            "authorization_response_iss_parameter_supported"] = True
        self.authorize_error: str | None = None
        self.iss_param: str | None = issuer
        self.id_token_edit: Callable[[dict], dict] | None = None
        self.sign_with: Any = None
        self.alg = "RS256"
        self.userinfo_edit: Callable[[dict], dict] | None = None
        self.last_authorize_query: dict[str, str] = {}
        self.token_authorization = ""

    def __call__(self, environ, start_response):
        request = Request(environ)
        handler = {"/.well-known/openid-configuration": self.discovery, "/jwks": self.jwks,
                   "/authorize": self.authorize, "/token": self.token,
                   "/userinfo": self.userinfo}[request.path]
        return handler(request)(environ, start_response)

    def discovery(self, request: Request) -> Response:
        return Response(self.provider.provider_configuration.to_json(),
                        content_type="application/json")

    def jwks(self, request: Request) -> Response:
        return Response(json.dumps(self.provider.jwks), content_type="application/json")

    def authorize(self, request: Request) -> Response:
        self.last_authorize_query = dict(request.args)
        auth_req = self.provider.parse_authentication_request(request.query_string.decode())
        if self.authorize_error:
            answer = AuthorizationErrorResponse(error=self.authorize_error,
                                                state=auth_req["state"])
        else:
            answer = self.provider.authorize(auth_req, USER)
        if self.iss_param:
            answer["iss"] = self.iss_param
        return Response(status=302, headers={"Location": answer.request(auth_req["redirect_uri"])})

    def token(self, request: Request) -> Response:
        self.token_authorization = request.headers.get("Authorization", "")
        tokens = self.provider.handle_token_request(
            request.get_data(as_text=True), {"Authorization": self.token_authorization})
        if self.id_token_edit or self.sign_with or self.alg != "RS256":
            payload = tokens["id_token"].split(".")[1]
            claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            claims = (self.id_token_edit or (lambda c: c))(claims)
            key = self.sign_with or self.signing_key
            tokens["id_token"] = JWS(json.dumps(claims), alg=self.alg).sign_compact([key])
        return Response(tokens.to_json(), content_type="application/json")

    def userinfo(self, request: Request) -> Response:
        claims = self.provider.handle_userinfo_request(
            "", {"Authorization": request.headers.get("Authorization", "")}).to_dict()
        if self.userinfo_edit:
            claims = self.userinfo_edit(claims)
        return Response(json.dumps(claims), content_type="application/json")


@pytest.fixture
def pair(rsa_pem, serve, port) -> tuple[DemoRP, TestProvider]:
    op_port, rp_port = port(), port()
    provider = TestProvider(loopback(op_port), f"{loopback(rp_port)}/callback", rsa_pem)
    serve(provider, op_port)
    rp = make_demo_rp(loopback(rp_port), loopback(op_port), CLIENT_ID, SECRET,
                      "Mairie de test — démarches en ligne")
    serve(rp, rp_port)
    return rp, provider


def _login(rp: DemoRP) -> requests.Response:
    return requests.Session().get(f"{rp.base_url}/login", timeout=10)


def test_home_page_offers_ncconnect_login(pair):
    rp, _ = pair
    page = requests.get(f"{rp.base_url}/", timeout=10)
    assert page.status_code == 200 and 'href="/login"' in page.text
    assert "Se connecter avec NC Connect" in page.text


def test_login_request_carries_state_nonce_s256_challenge_and_scopes(pair):
    rp, provider = pair
    _login(rp)
    query = provider.last_authorize_query
    assert query["code_challenge_method"] == "S256" and len(query["code_challenge"]) == 43
    assert query["state"] and query["nonce"] and query["state"] != query["nonce"]
    assert query["scope"] == "openid profile email birth"
    assert query["redirect_uri"] == f"{rp.base_url}/callback"


def test_successful_login_shows_one_labelled_row_per_claim_with_sub(pair):
    rp, _ = pair
    page = _login(rp)
    rows = result_rows(page.text)
    claims = next(c for c in CITIZENS if c.username == USER).claims
    assert page.status_code == 200
    assert set(rows) == {"sub", *claims} - {"phone_number"}  # "phone" scope not asked
    assert rows["birthplace"] == ("Lieu de naissance (code COG)", claims["birthplace"])
    assert rows["given_name"][0] == "Prénoms"
    assert rp.last_result == {"sub": rows["sub"][1],
                              **{k: v for k, v in claims.items() if k != "phone_number"}}


def test_token_request_uses_client_secret_basic(pair):
    rp, provider = pair
    _login(rp)
    sent = base64.b64decode(provider.token_authorization.removeprefix("Basic "))
    assert sent == f"{CLIENT_ID}:{SECRET}".encode()


def test_access_denied_is_shown_as_error(pair):
    rp, provider = pair
    provider.authorize_error = "access_denied"
    page = _login(rp)
    assert error_code(page.text) == "access_denied" and rp.last_result is None


def test_callback_with_unknown_state_is_refused(pair):
    rp, _ = pair
    page = requests.get(f"{rp.base_url}/callback",
                        params={"state": "inventé", "code": "x"}, timeout=10)
    assert page.status_code == 400 and error_code(page.text) == "state_invalide"


def test_callback_is_accepted_once(pair):
    rp, provider = pair
    session = requests.Session()
    to_provider = session.get(f"{rp.base_url}/login", allow_redirects=False, timeout=10)
    callback = session.get(to_provider.headers["Location"], allow_redirects=False,
                           timeout=10).headers["Location"]
    assert session.get(callback, timeout=10).status_code == 200
    replay = session.get(callback, timeout=10)
    assert error_code(replay.text) == "state_invalide"


def test_callback_in_another_browser_is_refused(pair):
    rp, _ = pair
    to_provider = requests.Session().get(f"{rp.base_url}/login", allow_redirects=False,
                                         timeout=10)
    callback = requests.get(to_provider.headers["Location"], allow_redirects=False,
                            timeout=10).headers["Location"]
    page = requests.get(callback, timeout=10)  # no cookie: not the browser that started
    assert error_code(page.text) == "state_invalide"


def test_iss_parameter_of_another_issuer_is_refused(pair):
    rp, provider = pair
    provider.iss_param = "http://127.0.0.1:9"
    assert error_code(_login(rp).text) == "emetteur_invalide"


def test_missing_iss_parameter_is_refused_when_promised(pair):
    rp, provider = pair
    provider.iss_param = None
    assert error_code(_login(rp).text) == "emetteur_invalide"


def test_id_token_signed_by_an_unknown_key_is_refused(pair):
    rp, provider = pair
    rogue = rsa_key_pem()[1]
    provider.sign_with = SigningKey(priv_key=load_pem_private_key(rogue, None), kid="k1")
    assert error_code(_login(rp).text) == "signature_invalide"


def test_id_token_mac_signed_with_the_client_secret_is_refused(pair):
    rp, provider = pair
    provider.alg, provider.sign_with = "HS256", SYMKey(key=SECRET)
    assert error_code(_login(rp).text) == "signature_invalide"


def test_id_token_of_another_issuer_is_refused(pair):
    rp, provider = pair
    provider.id_token_edit = lambda c: {**c, "iss": "http://127.0.0.1:9"}
    assert error_code(_login(rp).text) == "emetteur_invalide"


def test_id_token_for_another_audience_is_refused(pair):
    rp, provider = pair
    provider.id_token_edit = lambda c: {**c, "aud": ["autre-service"]}
    assert error_code(_login(rp).text) == "audience_invalide"


def test_id_token_for_several_audiences_without_our_azp_is_refused(pair):
    rp, provider = pair
    provider.id_token_edit = lambda c: {**c, "aud": [CLIENT_ID, "autre"], "azp": "autre"}
    assert error_code(_login(rp).text) == "audience_invalide"


def test_expired_id_token_is_refused(pair):
    rp, provider = pair
    provider.id_token_edit = lambda c: {**c, "exp": int(time.time()) - 600}
    assert error_code(_login(rp).text) == "jeton_expire"


def test_id_token_with_another_nonce_is_refused(pair):
    rp, provider = pair
    provider.id_token_edit = lambda c: {**c, "nonce": "rejoué"}
    assert error_code(_login(rp).text) == "nonce_invalide"


def test_id_token_without_at_hash_is_refused(pair):
    rp, provider = pair
    provider.id_token_edit = lambda c: {k: v for k, v in c.items() if k != "at_hash"}
    assert error_code(_login(rp).text) == "at_hash_invalide"


def test_userinfo_about_another_subject_is_refused(pair):
    rp, provider = pair
    provider.userinfo_edit = lambda c: {**c, "sub": "quelqu-un-d-autre"}
    assert error_code(_login(rp).text) == "userinfo_invalide"


def test_unreachable_provider_is_a_503_page(rsa_pem, serve, port):
    rp_port = port()
    rp = make_demo_rp(loopback(rp_port), loopback(port()), CLIENT_ID, SECRET, "Mairie")
    serve(rp, rp_port)
    page = requests.get(f"{rp.base_url}/login", timeout=10)
    assert page.status_code == 503 and error_code(page.text) == "fournisseur_indisponible"


def test_unsafe_error_value_is_not_echoed(pair):
    rp, provider = pair
    session = requests.Session()
    state = parse_qs(urlsplit(session.get(f"{rp.base_url}/login", allow_redirects=False,
                                          timeout=10).headers["Location"]).query)["state"][0]
    page = session.get(f"{rp.base_url}/callback?" + urlencode(
        {"state": state, "error": "<script>x</script>", "iss": provider.issuer}), timeout=10)
    assert error_code(page.text) == "erreur_inconnue" and "<script>x" not in page.text
