"""The demo OpenID Connect partner service: a relying party showing what NC Connect sent.

It plays a town hall's online service. ``/login`` starts the authorization code
flow with state, nonce and PKCE S256; ``/callback`` accepts the answer only for
a state this browser started here (taken once), redeems the code with
client_secret_basic, and verifies the ID token strictly with cryptojwt: RS256
only, keys from the provider's ``jwks_uri`` only, then ``iss``, ``aud``/``azp``,
``exp``/``iat``, ``nonce``, ``at_hash``. The userinfo answer must be about the
same ``sub``. Any failure ends on a page with ``<p id="erreur" data-error=...>``.

Logout, both ways. ``/logout`` ("Se déconnecter") ends the local session and sends
the browser to the provider's ``end_session_endpoint`` with the ID token as
``id_token_hint``, the registered ``post_logout_redirect_uri`` (the home page) and a
``state`` checked on return. ``POST /logout/backchannel`` receives logout tokens
(OpenID Connect Back-Channel Logout 1.0 §2.6): signature (RS256, the provider's keys),
``typ`` ``logout+jwt``, ``iss``, ``aud``, ``iat``/``exp``, the back-channel ``events``
member, ``sid`` or ``sub``, no ``nonce``, ``jti`` once; it ends the local sessions the
token names and keeps every verified token in :attr:`DemoRP.backchannel_logouts` (and
why others were refused in :attr:`DemoRP.backchannel_refusals`), so tests can check
what the service was told.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
import time
from typing import Any
from urllib.parse import quote, urlencode

import requests
from cryptojwt.exception import JWKESTException
from cryptojwt.jwk.jwk import key_from_jwk_dict
from cryptojwt.jwk.rsa import RSAKey
from cryptojwt.jws.exception import NoSuitableSigningKeys
from cryptojwt.jws.jws import JWS
from cryptojwt.jws.utils import left_hash
from werkzeug.wrappers import Response

from .attributes import CLAIM_ORDER, claim_label, ordered
from .pending import Pending
from .web import (
    FETCH_TIMEOUT,
    DemoRequest,
    PeerApp,
    PeerError,
    fetch,
    json_response,
    new_token,
    redirect,
    same,
)

SCOPE = "openid profile email birth"
SIGNING_ALG = "RS256"
#: Clock difference tolerated with the provider, in seconds.
LEEWAY = 30
METADATA_TTL = 600
#: Claims about the token itself, not about the usager: not shown as attributes.
PROTOCOL_CLAIMS = {"iss", "aud", "exp", "iat", "nbf", "nonce", "at_hash", "c_hash", "azp",
                   "auth_time", "acr", "amr", "sid", "jti"}
OAUTH_ERROR = re.compile(r"[a-z0-9_]{1,64}")
BACKCHANNEL_EVENT = "http://schemas.openid.net/event/backchannel-logout"
LOGOUT_TOKEN_TYPE = "logout+jwt"
#: A logout token older than this is refused (Back-Channel Logout §2.6: iat "too far away").
LOGOUT_TOKEN_MAX_AGE = 300
MAX_LOGOUT_TOKEN = 8192

#: Errors the provider may return, and ours: (title, explanation).
ERRORS: dict[str, tuple[str, str]] = {
    "access_denied": ("Connexion annulée",
                      "La connexion a été annulée ou refusée. Aucune information vous "
                      "concernant n'a été transmise à ce service."),
    "login_required": ("Connexion nécessaire",
                       "NC Connect demande que vous vous identifiiez à nouveau."),
    "state_invalide": ("Session expirée",
                       "Cette réponse ne correspond à aucune connexion commencée dans ce "
                       "navigateur, ou elle a déjà servi. Recommencez depuis l'accueil."),
    "emetteur_invalide": ("Réponse refusée",
                          "La réponse ne provient pas de NC Connect."),
    "code_absent": ("Réponse refusée", "La réponse de NC Connect ne contient pas de code."),
    "fournisseur_indisponible": ("NC Connect indisponible",
                                 "Le service d'identification ne répond pas pour le moment. "
                                 "Réessayez dans quelques instants."),
    "jeton_refuse": ("Connexion impossible",
                     "NC Connect a refusé de délivrer les jetons de cette connexion."),
    "signature_invalide": ("Réponse refusée",
                           "La signature du jeton d'identité est absente ou invalide."),
    "audience_invalide": ("Réponse refusée",
                          "Le jeton d'identité est destiné à un autre service."),
    "jeton_expire": ("Réponse refusée", "Le jeton d'identité est expiré ou mal daté."),
    "nonce_invalide": ("Réponse refusée",
                       "Le jeton d'identité ne correspond pas à cette connexion (nonce)."),
    "at_hash_invalide": ("Réponse refusée",
                         "Le jeton d'identité ne correspond pas au jeton d'accès (at_hash)."),
    "sub_absent": ("Réponse refusée", "Le jeton d'identité ne désigne aucun usager."),
    "userinfo_invalide": ("Réponse refusée",
                          "Les informations reçues ne concernent pas l'usager identifié."),
}


def _refused(code: str) -> PeerError:
    title, explanation = ERRORS.get(code, ("Connexion impossible",
                                           f"NC Connect a répondu par l'erreur « {code} »."))
    return PeerError(code, title, explanation, 503 if code == "fournisseur_indisponible" else 400)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


class DemoRP(PeerApp):
    theme = "service"

    def __init__(self, base_url: str, provider: str, client_id: str, client_secret: str,
                 title: str) -> None:
        super().__init__(base_url, "rp", title)
        self.provider = provider
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = f"{self.base_url}/callback"
        self.last_result: dict[str, str] | None = None
        self._pending = Pending(ttl=600)
        self._lock = threading.Lock()
        self._metadata: dict[str, Any] | None = None
        self._metadata_at = 0.0
        self._keys: list[RSAKey] = []
        #: browser -> the local session: the ID token (for logout) and its sid / sub.
        self._sessions: dict[str, dict[str, Any]] = {}
        #: Verified logout tokens received on the back channel (their claims and header).
        self.backchannel_logouts: list[dict[str, Any]] = []
        #: Why logout tokens were refused (one short code each).
        self.backchannel_refusals: list[str] = []
        self._seen_jti: set[str] = set()
        self.route(["GET"], "/", self.home)
        self.route(["GET"], "/login", self.login)
        self.route(["GET"], "/callback", self.callback)
        self.route(["GET"], "/logout", self.logout)
        self.route(["POST"], "/logout/backchannel", self.backchannel_logout)

    # -- provider metadata and keys -------------------------------------------

    def metadata(self) -> dict[str, Any]:
        """Discovery document, cached; its ``issuer`` must be ``provider`` exactly."""
        with self._lock:
            if self._metadata and time.monotonic() - self._metadata_at < METADATA_TTL:
                return self._metadata
        url = self.provider.rstrip("/") + "/.well-known/openid-configuration"
        try:
            data = json.loads(fetch(url))
        except (OSError, ValueError):
            raise _refused("fournisseur_indisponible") from None
        needed = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")
        if (not isinstance(data, dict) or data.get("issuer") != self.provider
                or not all(isinstance(data.get(n), str) for n in needed)):
            raise _refused("fournisseur_indisponible")
        with self._lock:
            self._metadata, self._metadata_at = data, time.monotonic()
        return data

    def _fetch_keys(self, jwks_uri: str) -> list[RSAKey]:
        try:
            jwks = json.loads(fetch(jwks_uri))
            entries = jwks["keys"]
        except (OSError, ValueError, KeyError, TypeError):
            raise _refused("fournisseur_indisponible") from None
        keys = []
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or entry.get("kty") != "RSA":
                continue
            if entry.get("use", "sig") != "sig" or entry.get("alg", SIGNING_ALG) != SIGNING_ALG:
                continue
            try:
                keys.append(key_from_jwk_dict(entry, private=False))
            except (JWKESTException, ValueError, TypeError):
                continue
        with self._lock:
            self._keys = keys
        return keys

    # -- pages --------------------------------------------------------------

    def home(self, request: DemoRequest) -> Response:
        state = request.args.get("state")
        logged_out = bool(state) and self._pending.take(f"logout:{state}") is not None
        return self.page("accueil.html", protocol="Ce service utilise OpenID Connect.",
                         logged_out=logged_out)

    def id_token_of(self, browser: str) -> str | None:
        """The ID token of the browser's session here (what ``/logout`` sends as hint)."""
        with self._lock:
            session = self._sessions.get(browser)
        return session["id_token"] if session else None

    def has_session(self, browser: str) -> bool:
        """Whether the browser holding this cookie value is signed in here."""
        with self._lock:
            return browser in self._sessions

    def login(self, request: DemoRequest) -> Response:
        meta = self.metadata()
        state, nonce = new_token(), new_token()
        verifier = new_token() + new_token()  # 86 characters, within PKCE's 43..128
        browser = self.browser_of(request) or new_token()
        self._pending.put(state, {"nonce": nonce, "verifier": verifier, "browser": browser})
        query = urlencode({
            "response_type": "code", "client_id": self.client_id,
            "redirect_uri": self.redirect_uri, "scope": _scope(request.args.get("scope")),
            "state": state, "nonce": nonce,
            "code_challenge": _b64url(hashlib.sha256(verifier.encode()).digest()),
            "code_challenge_method": "S256",
        })
        endpoint = meta["authorization_endpoint"]
        response = redirect(f"{endpoint}{'&' if '?' in endpoint else '?'}{query}")
        self.remember_browser(response, browser)
        return response

    def callback(self, request: DemoRequest) -> Response:
        args = request.args
        state = args.get("state", "")
        flow = self._pending.take(state) if state else None
        if flow is None or self.browser_of(request) != flow["browser"]:
            raise _refused("state_invalide")
        meta = self.metadata()
        iss = args.get("iss")
        # RFC 9207: checked when sent, required when the provider promises it.
        promised = meta.get("authorization_response_iss_parameter_supported") is True
        if iss != meta["issuer"] and (iss is not None or promised):
            raise _refused("emetteur_invalide")
        error = args.get("error")
        if error is not None:
            raise _refused(error if OAUTH_ERROR.fullmatch(error) else "erreur_inconnue")
        code = args.get("code")
        if not code:
            raise _refused("code_absent")
        tokens = self._redeem(meta, code, flow["verifier"])
        id_claims = self.verify_id_token(meta, tokens["id_token"], flow["nonce"],
                                         tokens["access_token"])
        claims = {k: v for k, v in id_claims.items() if k not in PROTOCOL_CLAIMS}
        claims.update(self._userinfo(meta, tokens["access_token"], id_claims["sub"]))
        result = {name: _text(value) for name, value in claims.items()}
        self.last_result = result
        with self._lock:
            self._sessions[flow["browser"]] = {"id_token": tokens["id_token"],
                                               "sid": id_claims.get("sid"),
                                               "sub": id_claims["sub"]}
        rows = [{"name": n, "label": claim_label(n), "value": result[n]}
                for n in ordered(list(result), CLAIM_ORDER)]
        return self.page("resultat.html", rows=rows, protocol="OpenID Connect",
                         logout_url="/logout")

    # -- logout -------------------------------------------------------------

    def logout(self, request: DemoRequest) -> Response:
        """RP-initiated logout: forget the local session, then let NC Connect end its own."""
        browser = self.browser_of(request)
        with self._lock:
            session = self._sessions.pop(browser, None) if browser else None
        endpoint = self.metadata().get("end_session_endpoint")
        if session is None or not isinstance(endpoint, str):
            return self.page("accueil.html", protocol="Ce service utilise OpenID Connect.",
                             logged_out=True)
        state = new_token()
        self._pending.put(f"logout:{state}", {"browser": browser})
        query = urlencode({"id_token_hint": session["id_token"],
                           "post_logout_redirect_uri": f"{self.base_url}/", "state": state})
        return redirect(f"{endpoint}{'&' if '?' in endpoint else '?'}{query}")

    def backchannel_logout(self, request: DemoRequest) -> Response:
        token = request.form.get("logout_token", "")
        try:
            claims = self.verify_logout_token(token)
        except PeerError as exc:
            with self._lock:
                self.backchannel_refusals.append(exc.code)
            return json_response(json.dumps({"error": "invalid_request",
                                             "error_description": exc.code}), 400)
        with self._lock:
            self.backchannel_logouts.append(claims)
            for browser in [b for b, s in self._sessions.items()
                            if (claims.get("sid") and s.get("sid") == claims["sid"])
                            or (not claims.get("sid") and s.get("sub") == claims.get("sub"))]:
                del self._sessions[browser]
        return Response("", status=200, headers={"Cache-Control": "no-store"})

    def verify_logout_token(self, token: str) -> dict[str, Any]:
        """Back-Channel Logout 1.0 §2.6, in order; the claims, with the header's ``typ``."""
        if not token or len(token) > MAX_LOGOUT_TOKEN:
            raise _logout_refused("jeton_absent")
        meta = self.metadata()
        try:
            header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
        except (ValueError, IndexError):
            raise _logout_refused("jeton_illisible") from None
        if not isinstance(header, dict) or header.get("alg") != SIGNING_ALG:
            raise _logout_refused("algorithme_refuse")
        if header.get("typ", LOGOUT_TOKEN_TYPE) != LOGOUT_TOKEN_TYPE:
            raise _logout_refused("type_invalide")
        try:
            claims = self._verified_signature(meta, token)
        except PeerError:
            raise _logout_refused("signature_invalide") from None
        now = time.time()
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        iat, exp = claims.get("iat"), claims.get("exp")
        events = claims.get("events")
        checks = [
            ("emetteur_invalide", claims.get("iss") == meta["issuer"]),
            ("audience_invalide", self.client_id in audiences),
            ("jeton_expire", isinstance(iat, int) and isinstance(exp, int)
             and now - LOGOUT_TOKEN_MAX_AGE <= iat <= now + LEEWAY and exp + LEEWAY >= now),
            ("evenement_absent", isinstance(events, dict)
             and isinstance(events.get(BACKCHANNEL_EVENT), dict)),
            ("sujet_absent", isinstance(claims.get("sid"), str)
             or isinstance(claims.get("sub"), str)),
            ("nonce_interdit", "nonce" not in claims),
            ("jti_absent", isinstance(claims.get("jti"), str) and claims.get("jti")),
        ]
        for code, ok in checks:
            if not ok:
                raise _logout_refused(code)
        with self._lock:
            if claims["jti"] in self._seen_jti:
                raise _logout_refused("jeton_rejoue")
            self._seen_jti.add(claims["jti"])
        return {**claims, "typ": header.get("typ")}

    # -- back channel -------------------------------------------------------

    def _redeem(self, meta: dict[str, Any], code: str, verifier: str) -> dict[str, str]:
        # RFC 6749 §2.3.1: the credentials are form-encoded before Basic encoding.
        auth = (quote(self.client_id, safe=""), quote(self.client_secret, safe=""))
        try:
            resp = requests.post(meta["token_endpoint"], auth=auth, timeout=FETCH_TIMEOUT, data={
                "grant_type": "authorization_code", "code": code,
                "redirect_uri": self.redirect_uri, "code_verifier": verifier})
            body = resp.json() if resp.status_code == 200 else None
        except (requests.RequestException, ValueError):
            raise _refused("jeton_refuse") from None
        if (not isinstance(body, dict) or str(body.get("token_type", "")).lower() != "bearer"
                or not isinstance(body.get("access_token"), str)
                or not isinstance(body.get("id_token"), str)):
            raise _refused("jeton_refuse")
        return body

    def verify_id_token(self, meta: dict[str, Any], id_token: str, nonce: str,
                        access_token: str) -> dict[str, Any]:
        claims = self._verified_signature(meta, id_token)
        now = time.time()
        if claims.get("iss") != meta["issuer"]:
            raise _refused("emetteur_invalide")
        aud = claims.get("aud")
        audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
        if self.client_id not in audiences:
            raise _refused("audience_invalide")
        if (len(audiences) > 1 or "azp" in claims) and claims.get("azp") != self.client_id:
            raise _refused("audience_invalide")
        exp, iat = claims.get("exp"), claims.get("iat")
        if (not isinstance(exp, int) or not isinstance(iat, int)
                or exp + LEEWAY < now or iat - LEEWAY > now):
            raise _refused("jeton_expire")
        if not isinstance(claims.get("nonce"), str) or not same(claims["nonce"], nonce):
            raise _refused("nonce_invalide")
        at_hash = claims.get("at_hash")
        if not isinstance(at_hash, str) or not same(
                at_hash, left_hash(access_token.encode("utf-8"), "HS256")):
            raise _refused("at_hash_invalide")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise _refused("sub_absent")
        return claims

    def _verified_signature(self, meta: dict[str, Any], id_token: str) -> dict[str, Any]:
        """RS256 with a key of the provider's JWKS; the JWKS is fetched again once on a miss."""
        with self._lock:
            keys = list(self._keys)
        for attempt in range(2):
            if attempt or not keys:
                keys = self._fetch_keys(meta["jwks_uri"])
            try:
                payload = JWS(alg=SIGNING_ALG).verify_compact(id_token, keys=keys,
                                                              sigalg=SIGNING_ALG)
            except NoSuitableSigningKeys:
                continue
            except (JWKESTException, ValueError, TypeError, KeyError, IndexError):
                raise _refused("signature_invalide") from None
            if isinstance(payload, dict):
                return payload
            raise _refused("signature_invalide")
        raise _refused("signature_invalide")

    def _userinfo(self, meta: dict[str, Any], access_token: str, sub: str) -> dict[str, Any]:
        try:
            resp = requests.get(meta["userinfo_endpoint"], timeout=FETCH_TIMEOUT,
                                headers={"Authorization": f"Bearer {access_token}"})
            json_type = resp.headers.get("Content-Type", "").startswith("application/json")
            body = resp.json() if resp.status_code == 200 and json_type else None
        except (requests.RequestException, ValueError):
            raise _refused("userinfo_invalide") from None
        if not isinstance(body, dict) or body.get("sub") != sub:
            raise _refused("userinfo_invalide")
        return body


def _logout_refused(code: str) -> PeerError:
    return PeerError(code, "Jeton de déconnexion refusé", "Le jeton de déconnexion reçu de "
                     "NC Connect a été refusé.")


def _scope(asked: str | None) -> str:
    """``/login?scope=openid+email`` lets a tester ask for less (or more) than the default."""
    if asked and len(asked) < 200 and re.fullmatch(r"[a-z_ ]+", asked) and "openid" in asked:
        return asked
    return SCOPE


def make_demo_rp(base_url: str, provider: str, client_id: str, client_secret: str,
                 title: str) -> DemoRP:
    return DemoRP(base_url, provider, client_id, client_secret, title)
