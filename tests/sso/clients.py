"""The tests as a service: a real OIDC client and a real pysaml2 SP, with a registered
service's own credentials, sending what the demo services never send.

* :class:`OidcClient` builds authorization requests (state, nonce, PKCE S256, plus any
  ``prompt`` / ``max_age`` / ``acr_values``) for a registered client, follows the
  browser up to its redirect URI, redeems the code with client_secret_basic and
  verifies the ID token with the proxy's JWKS (cryptojwt, RS256 only).
* :class:`SamlClient` is a pysaml2 ``Saml2Client`` holding the key of a registered demo
  SP: it signs AuthnRequests (``ForceAuthn``, ``IsPassive``, ``RequestedAuthnContext``)
  the proxy verifies against that SP's metadata, and verifies the proxy's Response.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import requests
from cryptojwt.jwk.jwk import key_from_jwk_dict
from cryptojwt.jws.jws import JWS
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, AuthnContextClassRef
from saml2.samlp import RequestedAuthnContext
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from idp.demo.citizens import Citizen
from idp.demo.saml_common import uri_converter, xmlsec_binary
from idp.testbed.browser import Browser, autopost_form
from idp.testbed.login import decide, on_consent_screen

LOGIN_BUTTON = ("action", "connexion")


def answer_consent(browser: Browser, page: requests.Response, stop_at: str,
                   remember: bool = False) -> requests.Response:
    """Pass the proxy's consent / information screen when it is shown."""
    if on_consent_screen(page):
        return decide(browser, page, remember=remember, stop_at=stop_at)
    return page


def sign_in_at_source(browser: Browser, form_page: requests.Response, citizen: Citizen,
                      stop_at: str, remember: bool = False) -> requests.Response:
    """Fill a demo source's login form, pass the consent screen, stop before ``stop_at``."""
    assert form_page.status_code == 200 and "mot_de_passe" in form_page.text, form_page.url
    page = browser.submit(form_page, {"identifiant": citizen.username,
                                      "mot_de_passe": citizen.password},
                          button=LOGIN_BUTTON, stop_at=stop_at)
    return answer_consent(browser, page, stop_at, remember)


def query_of(resp: requests.Response) -> dict[str, str]:
    location = resp.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class OidcRequest:
    url: str
    state: str
    nonce: str
    verifier: str


class OidcClient:
    def __init__(self, fed: Any, service_id: str, proxy_url: str | None = None) -> None:
        self.proxy = proxy_url or fed.proxy_url
        self.issuer = fed.proxy_url
        self.client_id = service_id
        self.secret = fed.client_secrets[service_id]
        self.redirect_uri = f"{fed.url(service_id)}/callback"

    def request(self, scope: str = "openid profile", **extra: str) -> OidcRequest:
        state, nonce = secrets.token_urlsafe(16), secrets.token_urlsafe(16)
        verifier = secrets.token_urlsafe(48)
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()
                                             ).rstrip(b"=").decode()
        query = urlencode({"response_type": "code", "client_id": self.client_id,
                           "redirect_uri": self.redirect_uri, "scope": scope, "state": state,
                           "nonce": nonce, "code_challenge": challenge,
                           "code_challenge_method": "S256", **extra})
        return OidcRequest(f"{self.proxy}/oidc/authorize?{query}", state, nonce, verifier)

    def start(self, browser: Browser, req: OidcRequest) -> requests.Response:
        """Send the browser with the request; stop at the first page, or before coming back."""
        return browser.follow(browser.get(req.url, follow=False), stop_at=self.redirect_uri)

    def returned(self, resp: requests.Response) -> bool:
        return resp.is_redirect and urljoin(resp.url, resp.headers["Location"]).startswith(
            self.redirect_uri)

    def tokens(self, req: OidcRequest, resp: requests.Response) -> dict[str, Any]:
        """Redeem the code the browser came back with; the verified ID token's claims."""
        assert self.returned(resp), f"not back at the client: {resp.status_code} {resp.url}"
        answer = query_of(resp)
        assert answer.get("state") == req.state and "code" in answer, answer
        token = requests.post(f"{self.proxy}/oidc/token", auth=(self.client_id, self.secret),
                              timeout=30, data={"grant_type": "authorization_code",
                                                "code": answer["code"],
                                                "redirect_uri": self.redirect_uri,
                                                "code_verifier": req.verifier})
        assert token.status_code == 200, token.text
        claims = self.verify(token.json()["id_token"])
        assert claims["nonce"] == req.nonce and claims["aud"] == [self.client_id]
        return claims

    def verify(self, id_token: str) -> dict[str, Any]:
        jwks = requests.get(f"{self.proxy}/oidc/jwks", timeout=30).json()
        keys = [key_from_jwk_dict(k, private=False) for k in jwks["keys"]]
        claims = JWS(alg="RS256").verify_compact(id_token, keys=keys, sigalg="RS256")
        assert claims["iss"] == self.issuer
        return claims


class SamlClient:
    """A registered demo SP's identity (entity id, ACS, signing key), driven by the test."""

    def __init__(self, fed: Any, service_id: str) -> None:
        base = fed.url(service_id)
        self.acs = f"{base}/acs"
        idp_metadata = requests.get(f"{fed.proxy_url}/saml2/metadata", timeout=30).text
        keys = fed.folder / "peers"
        config = SPConfig().load({
            "entityid": f"{base}/metadata",
            "key_file": str(keys / f"{service_id}.pem"),
            "cert_file": str(keys / f"{service_id}.crt"),
            "xmlsec_binary": xmlsec_binary(),
            "allow_unknown_attributes": True,
            "metadata": {"inline": [idp_metadata]},
            "service": {"sp": {
                "endpoints": {"assertion_consumer_service": [(self.acs, BINDING_HTTP_POST)]},
                "authn_requests_signed": True, "want_assertions_signed": True,
                "want_response_signed": False, "allow_unsolicited": False,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            }},
        })
        config.attribute_converters[:] = [uri_converter()]
        self.client = Saml2Client(config=config)
        self.idp = f"{fed.proxy_url}/saml2/metadata"

    def request(self, contexts: list[str] | None = None, comparison: str = "minimum",
                **kwargs: str) -> tuple[str, str]:
        """(request id, URL the SP sends the browser to), signed for the Redirect binding."""
        if contexts is not None:
            kwargs["requested_authn_context"] = RequestedAuthnContext(
                authn_context_class_ref=[AuthnContextClassRef(text=c) for c in contexts],
                comparison=comparison)
        reqid, info = self.client.prepare_for_authenticate(
            entityid=self.idp, relay_state=secrets.token_urlsafe(16),
            binding=BINDING_HTTP_REDIRECT, sign=True, sigalg=SIG_RSA_SHA256,
            digest_alg=DIGEST_SHA256, nameid_format=NAMEID_FORMAT_PERSISTENT, **kwargs)
        return reqid, dict(info["headers"])["Location"]

    def start(self, browser: Browser, url: str) -> requests.Response:
        return browser.follow(browser.get(url, follow=False), stop_at=self.acs)

    def returned(self, resp: requests.Response) -> bool:
        form = autopost_form(resp)
        return form is not None and form[0] == self.acs

    def response(self, reqid: str, resp: requests.Response) -> Any:
        """The proxy's Response, verified (signature, audience, InResponseTo) by pysaml2;
        an error status raises pysaml2's ``Status…`` exception."""
        form = autopost_form(resp)
        assert form is not None and form[0] == self.acs, f"not back at the SP: {resp.url}"
        return self.client.parse_authn_request_response(
            form[1]["SAMLResponse"], BINDING_HTTP_POST, outstanding={reqid: "/"})


def cookie_of(browser: Browser, name: str) -> str | None:
    values = [c.value for c in browser.session.cookies if c.name == name]
    return values[-1] if values else None


def set_cookie_headers(browser: Browser, proxy_url: str, name: str) -> list[str]:
    """Every ``Set-Cookie`` for ``name`` the proxy sent this browser, in order."""
    return [h for r in browser.history if r.url.startswith(proxy_url)
            for h in r.raw.headers.getlist("Set-Cookie") if h.startswith(f"{name}=")]


def json_of(value: Any) -> Any:
    return json.loads(json.dumps(value))
