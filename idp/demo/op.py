"""The demo OpenID Connect identity source: pyop behind a French login form.

It plays a real territorial identity provider for NC Connect's OIDC backend:
discovery, JWKS, authorization code flow with optional PKCE S256 (required for
a client registered with ``"require_pkce": True``), nonce, client_secret_basic
at the token endpoint, userinfo. ID tokens are signed RS256 with the key it is
given, and state the eIDAS level of assurance the source is registered for
(``acr``) and when the citizen signed in (``auth_time``). ``acr=`` makes it state
any other value, as real sources do (LemonLDAP::NG states ``loa-2``, read through the
partner file's ``loa_mapping``), or, with ``None``, no ``acr`` at all; tests may also
change :attr:`DemoOP.acr` between logins. It keeps no session of its own: every
authorization request that is not ``prompt=none`` shows the login form, and
:attr:`DemoOP.authorize_requests` counts them, so tests can tell whether NC Connect asked
the source at all.
State lives in dicts behind one lock: the demo source is one process.

It publishes an ``end_session_endpoint`` (``/logout``, RP-Initiated Logout 1.0): with a
known ``client_id`` and one of that client's registered ``post_logout_redirect_uris``
it sends the browser back there with the ``state``; otherwise it shows its own page.
Having no session, it has nothing more to end; :attr:`DemoOP.end_session_requests`
counts the requests, so tests can tell whether NC Connect logged out here.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import threading
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

from jwkest.jwk import RSAKey, import_rsa_key
from oic.oic.message import AuthorizationErrorResponse
from pyop.authz_state import AuthorizationState
from pyop.exceptions import (
    BearerTokenError,
    InvalidAccessToken,
    InvalidAuthenticationRequest,
    InvalidClientAuthentication,
    OAuthError,
)
from pyop.provider import Provider
from pyop.subject_identifier import HashBasedSubjectIdentifierFactory
from pyop.userinfo import Userinfo
from werkzeug.wrappers import Response

from .citizens import Citizen, find_citizen
from .pending import Pending
from .web import (
    DemoRequest,
    PeerApp,
    PeerError,
    json_response,
    new_token,
    origin,
    redirect,
    same,
)

logger = logging.getLogger("ncconnect.demo.op")

BRAND = "Compte démo — Identité numérique"
MAX_QUERY = 4096
LOOPBACK = ("127.0.0.1", "localhost", "::1")
#: The level the demo accounts are registered at (``partenaires/demo``: substantial).
DEFAULT_ACR = "http://eidas.europa.eu/LoA/substantial"
#: Extra scope of the federation: birth place and country (COG codes).
EXTRA_SCOPES = {"birth": ["birthplace", "birthcountry"]}
CLAIMS = ["sub", "given_name", "family_name", "preferred_username", "birthdate", "gender",
          "birthplace", "birthcountry", "email", "phone_number"]


def _provider_configuration(issuer: str) -> dict[str, Any]:
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic"],
        "scopes_supported": ["openid", "profile", "email", "phone"],
        "claims_supported": CLAIMS,
        "code_challenge_methods_supported": ["S256"],
        "authorization_response_iss_parameter_supported": True,
        "request_uri_parameter_supported": False,
        "claims_parameter_supported": False,
        "end_session_endpoint": f"{issuer}/logout",
    }


class DemoOP(PeerApp):
    def __init__(self, issuer: str, clients: dict[str, dict], signing_key_pem: bytes,
                 citizens: list[Citizen], acr: str | None = DEFAULT_ACR) -> None:
        super().__init__(issuer, "op", BRAND)
        self.issuer = self.base_url
        self.citizens = citizens
        #: The ``acr`` its ID tokens state (any string; ``None``: no ``acr`` claim).
        self.acr: str | None = acr
        self.authorize_requests = 0
        self.end_session_requests = 0
        self._post_logout = {cid: list(c.get("post_logout_redirect_uris") or [])
                             for cid, c in clients.items()}
        self._counter_lock = threading.Lock()
        self._lock = threading.Lock()  # pyop's dicts are shared by the server's threads
        self._pending = Pending(ttl=600)
        #: code -> the ID token's acr and auth_time (when the citizen signed in).
        self._code_authn: dict[str, dict[str, Any]] = {}
        self._require_pkce = {cid: bool(c.get("require_pkce")) for cid, c in clients.items()}
        pem = signing_key_pem.decode("ascii")
        key = RSAKey(key=import_rsa_key(pem), use="sig", alg="RS256")
        key.kid = base64.urlsafe_b64encode(key.thumbprint("SHA-256")).rstrip(b"=").decode()
        # Public subject identifiers, stable across restarts with the same key, opaque.
        salt = hashlib.sha256(signing_key_pem).hexdigest()
        self.authz_state = AuthorizationState(HashBasedSubjectIdentifierFactory(salt),
                                              authorization_code_lifetime=120,
                                              access_token_lifetime=600)
        registered = {
            cid: {"client_secret": c["client_secret"], "redirect_uris": list(c["redirect_uris"]),
                  "response_types": ["code"], "token_endpoint_auth_method": "client_secret_basic"}
            for cid, c in clients.items()
        }
        users = {c.username: dict(c.claims) for c in citizens}
        # oic's configuration check insists on https; plain http is allowed on loopback only
        # (the demo's choice), so the checked https twin is swapped for the real issuer.
        checked = _https_twin(self.issuer)
        self.provider = Provider(key, _provider_configuration(checked), self.authz_state,
                                 registered, Userinfo(users), extra_scopes=EXTRA_SCOPES,
                                 id_token_lifetime=600)
        for name, value in _provider_configuration(self.issuer).items():
            if isinstance(value, str):
                self.provider.configuration_information[name] = value
        self.route(["GET"], "/.well-known/openid-configuration", self.discovery)
        self.route(["GET"], "/jwks", self.jwks)
        self.route(["GET"], "/authorize", self.authorize)
        self.route(["POST"], "/connexion", self.login)
        self.route(["POST"], "/token", self.token)
        self.route(["GET", "POST"], "/userinfo", self.userinfo)
        self.route(["GET"], "/logout", self.end_session)

    # -- metadata -----------------------------------------------------------

    def discovery(self, request: DemoRequest) -> Response:
        return json_response(self.provider.provider_configuration.to_json(),
                             headers={"Cache-Control": "public, max-age=60"})

    def jwks(self, request: DemoRequest) -> Response:
        return json_response(json.dumps(self.provider.jwks),
                             headers={"Cache-Control": "public, max-age=60"})

    # -- authorization ------------------------------------------------------

    def authorize(self, request: DemoRequest) -> Response:
        with self._counter_lock:
            self.authorize_requests += 1
        query = request.query_string.decode("latin-1")
        if len(query) > MAX_QUERY:
            raise _bad_request()
        try:
            with self._lock:
                auth_req = self.provider.parse_authentication_request(query)
        except InvalidAuthenticationRequest as exc:
            error_url = exc.to_error_url()
            if error_url:  # client and redirect_uri were verified: tell the client
                return redirect(error_url)
            raise _bad_request() from None
        except Exception:  # noqa: BLE001 - malformed beyond pyop's checks: no one to redirect to
            raise _bad_request() from None
        pkce_error = self._pkce_problem(auth_req)
        if pkce_error:
            return redirect(self._error_url(auth_req, "invalid_request", pkce_error))
        if "none" in auth_req.get("prompt", []):
            return redirect(self._error_url(auth_req, "login_required"))
        browser = self.browser_of(request) or new_token()
        demande = new_token()
        csrf = new_token()
        self._pending.put(demande, {"request": auth_req, "browser": browser, "csrf": csrf})
        response = self._login_form(auth_req, demande, csrf)
        self.remember_browser(response, browser)
        return response

    def _pkce_problem(self, auth_req: Any) -> str:
        method = auth_req.get("code_challenge_method")
        challenge = auth_req.get("code_challenge")
        if challenge is None and method is None:
            return "PKCE required" if self._require_pkce.get(auth_req["client_id"]) else ""
        if method != "S256" or not challenge or not 43 <= len(challenge) <= 128:
            return "only PKCE S256 is supported"
        return ""

    def _login_form(self, auth_req: Any, demande: str, csrf: str, failed: bool = False,
                    username: str = "") -> Response:
        return self.page(
            "connexion.html", heading=BRAND, requester=auth_req["client_id"], demande=demande,
            csrf=csrf, failed=failed, username=username,
            usernames=[c.username for c in self.citizens],
            # The login POST is answered by a redirect to the client: CSP form-action covers it.
            form_action=[origin(auth_req["redirect_uri"])])

    def login(self, request: DemoRequest) -> Response:
        form = request.form
        demande = form.get("demande", "")
        record = self.pending_login(request, self._pending, demande)
        auth_req = record["request"]
        if form.get("action") == "annuler":
            if self._pending.take(demande) is None:
                raise PeerError("session_expiree", "Demande expirée",
                                "Cette demande de connexion a déjà servi.")
            return redirect(self._error_url(auth_req, "access_denied"))
        username = form.get("identifiant", "")[:100]
        citizen = find_citizen(self.citizens, username)
        password = form.get("mot_de_passe", "")
        if citizen is None or not same(password, citizen.password):
            return self._login_form(auth_req, demande, record["csrf"], failed=True,
                                    username=username)
        if self._pending.take(demande) is None:  # a parallel submit won the race
            raise PeerError("session_expiree", "Demande expirée",
                            "Cette demande de connexion a déjà servi.")
        with self._lock:
            self._purge_expired()
            auth_resp = self.provider.authorize(auth_req, citizen.username)
            # pyop keeps extra ID-token claims with the code only when stateless: ours are
            # kept here, for the token request that redeems this code.
            authn: dict[str, Any] = {"auth_time": int(time.time())}
            if self.acr is not None:
                authn["acr"] = self.acr
            self._code_authn[auth_resp["code"]] = authn
        auth_resp["iss"] = self.issuer  # RFC 9207: the client can tell which source answered
        return redirect(auth_resp.request(auth_req["redirect_uri"]))

    def _error_url(self, auth_req: Any, error: str, description: str = "") -> str:
        resp = AuthorizationErrorResponse(error=error)
        if description:
            resp["error_description"] = description
        if "state" in auth_req:
            resp["state"] = auth_req["state"]
        resp["iss"] = self.issuer
        return f"{auth_req['redirect_uri']}?{urlencode(resp.to_dict())}"

    def _purge_expired(self) -> None:
        now = int(time.time())
        for table in (self.authz_state.authorization_codes, self.authz_state.access_tokens):
            for key in [k for k, v in table.items() if v["exp"] < now]:
                del table[key]
        for code in [c for c in self._code_authn if c not in self.authz_state.authorization_codes]:
            del self._code_authn[code]

    # -- logout ---------------------------------------------------------------

    def end_session(self, request: DemoRequest) -> Response:
        with self._counter_lock:
            self.end_session_requests += 1
        args = request.args
        client_id = args.get("client_id", "")
        uri = args.get("post_logout_redirect_uri", "")
        if uri and uri in self._post_logout.get(client_id, []):
            state = args.get("state")
            query = urlencode({"state": state}) if state else ""
            return redirect(f"{uri}{'&' if '?' in uri else '?'}{query}" if query else uri)
        return self.page("erreur.html", title="Vous êtes déconnecté",
                         explanation="Votre session de démonstration est terminée.",
                         code="deconnecte")

    # -- back channel -------------------------------------------------------

    def token(self, request: DemoRequest) -> Response:
        body = request.get_data(as_text=True)
        headers = {"Authorization": request.headers.get("Authorization", "")}
        code = parse_qs(body[:MAX_QUERY]).get("code", [""])[0]
        try:
            with self._lock:
                extra = dict(self._code_authn.get(code) or {})
                token_resp = self.provider.handle_token_request(
                    body, headers, extra_id_token_claims=extra)
                self._code_authn.pop(code, None)
        except InvalidClientAuthentication:
            return _oauth_error("invalid_client", 401, {"WWW-Authenticate": 'Basic realm="demo"'})
        except OAuthError as exc:
            return _oauth_error(exc.oauth_error or "invalid_request", 400)
        except Exception:  # noqa: BLE001 - malformed body or header: a protocol error, not a 500
            return _oauth_error("invalid_request", 400)
        return json_response(token_resp.to_json(), headers={"Pragma": "no-cache"})

    def userinfo(self, request: DemoRequest) -> Response:
        headers = {"Authorization": request.headers.get("Authorization", "")}
        try:
            with self._lock:
                claims = self.provider.handle_userinfo_request(
                    request.get_data(as_text=True) if request.method == "POST" else "", headers)
        except (BearerTokenError, InvalidAccessToken, KeyError):
            return _oauth_error("invalid_token", 401,
                                {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return json_response(claims.to_json())


def _https_twin(issuer: str) -> str:
    parts = urlsplit(issuer)
    if parts.scheme == "https":
        return issuer
    if parts.scheme == "http" and parts.hostname in LOOPBACK:
        return urlunsplit(parts._replace(scheme="https"))
    raise ValueError(f"demo issuer must be https, or http on loopback: {issuer}")


def _bad_request() -> PeerError:
    return PeerError("requete_invalide", "Demande de connexion invalide",
                     "La demande reçue du service est incomplète, mal formée ou provient d'un "
                     "service inconnu. Aucune donnée n'a été transmise.")


def _oauth_error(error: str, status: int, headers: dict[str, str] | None = None) -> Response:
    return json_response(json.dumps({"error": error}), status, headers)


def make_demo_op(issuer: str, clients: dict[str, dict], signing_key_pem: bytes,
                 citizens: list[Citizen], acr: str | None = DEFAULT_ACR) -> DemoOP:
    return DemoOP(issuer, clients, signing_key_pem, citizens, acr)
