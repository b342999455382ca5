"""A real NC Connect application around the OIDC frontend, served on 127.0.0.1.

The frontend runs inside ``idp.app.NCConnectApp`` (SATOSA's router, our flow
state and edges) with two test peers instead of the plugins written elsewhere:
a backend that answers at once with a fixed identity (or refuses), and a
request micro-service that picks that backend per client. Relying parties are
``requests``, ``oic.oic.Client`` and ``cryptojwt``, talking HTTP to the server.

Two relying parties authenticate with ``private_key_jwt``: one registers its
public keys inline, the other a ``jwks_uri`` served by a real HTTP server on
127.0.0.1. Their private keys stay here, in :class:`PartnerKeys`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from cryptojwt.jwk import JWK
from cryptojwt.jwk.ec import new_ec_key
from cryptojwt.jwk.rsa import new_rsa_key
from cryptojwt.jws.jws import JWS
from satosa.backends.base import BackendModule
from satosa.exception import SATOSAAuthenticationError
from satosa.internal import AuthenticationInformation, InternalData
from satosa.micro_services.base import RequestMicroService
from satosa.response import SeeOther
from werkzeug.serving import make_server

from idp.app import NCConnectApp
from idp.dictionary import load_dictionary
from idp.keys import KeyPaths, init_keys

ROOT = Path(__file__).resolve().parents[2]

#: The identity every login of the "source-ok" backend returns (internal attribute names).
SUBJECT = "sujet-source-0001"
IDENTITY = {
    "given_name": ["Marie-Claire"],
    "family_name": ["Wamytan"],
    "preferred_username": ["Wamytan-Kaloï"],
    "birthdate": ["1987-04-12"],
    "gender": ["female"],
    "birthplace": ["98818"],
    "birthcountry": ["99100"],
    "email": ["marie-claire.wamytan@example.nc"],
    "phone_number": ["+687 27 12 34"],
}
ACR = "eidas2"

CONFIDENTIAL = "rp-confidentiel"
POST_CLIENT = "rp-post-sans-pkce"
PUBLIC = "rp-public"
#: A public client whose entry says ``require_pkce: False``: the partner schema refuses that,
#: and the frontend must ignore it if such an entry ever reached it.
PUBLIC_FLAG_OFF = "rp-public-drapeau-faux"
REFUSED = "rp-source-refuse"
DEFERRED = "rp-source-differee"
NO_SUBJECT = "rp-source-sans-sujet"
KEY_CLIENT = "rp-cle-privee"
KEY_URI_CLIENT = "rp-cle-distante"

#: RFC 7523 §2.2.
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


# -- test peers loaded by SATOSA -------------------------------------------------


class FixedIdentityBackend(BackendModule):
    """Answers every login with the fixed identity: at once, or after one more request
    (``deferred``, so the flow state goes through the store), or refuses (``refuse``)."""

    def __init__(self, auth_callback_func, internal_attributes, config, base_url, name):
        super().__init__(auth_callback_func, internal_attributes, base_url, name)
        self.refuse = bool(config.get("refuse"))
        self.deferred = bool(config.get("deferred"))
        self.subject = config.get("subject", SUBJECT)

    def start_auth(self, context, internal_request):
        if self.refuse:
            raise SATOSAAuthenticationError(context.state, "the usager cancelled")
        if self.deferred:
            return SeeOther(f"{self.base_url}/{self.name}/reponse")
        return self.answer(context)

    def answer(self, context):
        auth_time = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=30)
        auth = AuthenticationInformation(auth_class_ref=ACR, timestamp=auth_time.isoformat(),
                                         issuer="https://source.example.nc")
        answer = InternalData(auth_info=auth, subject_id=self.subject, subject_type="pairwise",
                              attributes={k: list(v) for k, v in IDENTITY.items()})
        return self.auth_callback_func(context, answer)

    def register_endpoints(self):
        return [(f"^{self.name}/reponse$", self.answer)]


class BackendPerClient(RequestMicroService):
    """Routes each client to its backend, as the identity-source choice would."""

    def __init__(self, config, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.routes = config["routes"]
        self.default = config["default"]

    def process(self, context, data):
        context.target_backend = self.routes.get(data.requester, self.default)
        return super().process(context, data)


def _path(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


# -- the provider under test --------------------------------------------------------


def sha256_hex(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def public_jwks(keys: Iterable[JWK]) -> dict[str, Any]:
    return {"keys": [k.serialize(private=False) for k in keys]}


class JwksServer:
    """A partner's key set served over plain HTTP on 127.0.0.1 (demo-mode ``jwks_uri``).

    Tests may make it answer something else and count how often it was asked.
    """

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.hits = 0
        self._answer: tuple[str, bytes, list[tuple[str, str]]] | None = None
        self._lock = threading.Lock()
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}/jwks.json"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def answer(self, status: str = "200 OK", body: bytes | None = None,
               headers: Iterable[tuple[str, str]] = ()) -> None:
        """Serve ``body`` instead of the key set; ``body=None`` serves the key set again."""
        with self._lock:
            self._answer = None if body is None else (status, body, list(headers))

    def _app(self, environ, start_response):
        with self._lock:
            self.hits += 1
            status, body, headers = self._answer or (
                "200 OK", json.dumps(self.jwks).encode(), [])
        start_response(status, [("Content-Type", "application/json"), *headers])
        return [body]

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


@dataclass
class PartnerKeys:
    """The private keys of the ``private_key_jwt`` relying parties."""

    inline: list[JWK]
    remote: JWK
    server: JwksServer

    @classmethod
    def generate(cls) -> PartnerKeys:
        remote = new_rsa_key(2048, kid="cle-distante-1", use="sig")
        return cls(inline=[new_rsa_key(2048, kid="cle-rsa-1", use="sig"),
                           new_ec_key("P-256", kid="cle-ec-1", use="sig")],
                   remote=remote, server=JwksServer(public_jwks([remote])))


def client_assertion(key: JWK, client_id: str, audience: str | list[str], *,
                     alg: str | None = None, lifetime: int = 60,
                     headers: dict[str, Any] | None = None, **claims: Any) -> str:
    """A ``private_key_jwt`` assertion signed with cryptojwt; ``claims`` override or, when
    ``None``, remove the defaults (iss = sub = client, aud, fresh jti, iat, exp)."""
    now = int(time.time())
    body: dict[str, Any] = {"iss": client_id, "sub": client_id, "aud": audience,
                            "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + lifetime}
    body.update(claims)
    body = {k: v for k, v in body.items() if v is not None}
    alg = alg or ("ES256" if key.kty == "EC" else "RS256")
    return JWS(json.dumps(body), alg=alg).sign_compact([key], protected=dict(headers or {}))


@dataclass
class RP:
    client_id: str
    secret: str | None
    method: str
    redirect_uris: list[str]
    allowed: list[str]
    require_pkce: bool = True
    #: ``private_key_jwt`` only: the key it signs with, and its public keys or their URL.
    signing_key: JWK | None = None
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None

    @property
    def redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def entry(self) -> dict[str, Any]:
        entry = {
            "service_id": self.client_id, "name": f"Service {self.client_id}",
            "redirect_uris": self.redirect_uris,
            "token_endpoint_auth_method": self.method,
            "client_secret_sha256": sha256_hex(self.secret) if self.secret else None,
            "require_pkce": self.require_pkce, "allowed_claims": self.allowed,
        }
        if self.method == "private_key_jwt":
            entry.update(jwks=self.jwks, jwks_uri=self.jwks_uri,
                         allow_loopback_http=self.jwks_uri is not None)
        return entry


def key_rps(partner: PartnerKeys) -> list[RP]:
    return [
        RP(KEY_CLIENT, None, "private_key_jwt", ["https://rp-cle.example.nc/callback"],
           ["given_name", "email"], signing_key=partner.inline[0],
           jwks=public_jwks(partner.inline)),
        RP(KEY_URI_CLIENT, None, "private_key_jwt", ["https://rp-cle-distante.example.nc/cb"],
           ["email"], signing_key=partner.remote, jwks_uri=partner.server.url),
    ]


def default_rps(partner: PartnerKeys | None = None) -> dict[str, RP]:
    rps = [
        RP(CONFIDENTIAL, "s3cret-basic-" + "x" * 20, "client_secret_basic",
           ["https://rp.example.nc/callback", "https://rp.example.nc/cb?tenant=mairie"],
           ["given_name", "family_name", "email"]),
        RP(POST_CLIENT, "s3cret-post-" + "y" * 20, "client_secret_post",
           ["https://rp-post.example.nc/callback"], ["given_name", "birthdate"],
           require_pkce=False),
        RP(PUBLIC, None, "none", ["http://127.0.0.1:9/app"], ["email"]),
        RP(PUBLIC_FLAG_OFF, None, "none", ["http://127.0.0.1:9/autre-app"], ["email"],
           require_pkce=False),
        RP(REFUSED, "s3cret-refus-" + "z" * 20, "client_secret_basic",
           ["https://refus.example.nc/callback"], ["email"]),
        RP(DEFERRED, "s3cret-differe-" + "d" * 20, "client_secret_basic",
           ["https://differe.example.nc/callback"], ["email", "family_name"]),
        RP(NO_SUBJECT, "s3cret-sans-sujet-" + "n" * 20, "client_secret_basic",
           ["https://sans-sujet.example.nc/callback"], ["email"]),
        *(key_rps(partner) if partner else []),
    ]
    return {rp.client_id: rp for rp in rps}


@dataclass
class Login:
    """What a relying party keeps between the authorization and the token request."""

    rp: RP
    code: str
    state: str
    #: ``None`` when the request sent no nonce (PKCE alone binds the code).
    nonce: str | None
    verifier: str | None
    redirect_uri: str


@dataclass
class Provider:
    base_url: str
    keys: KeyPaths
    rps: dict[str, RP]
    app: NCConnectApp
    store_url: str
    config: dict[str, Any]
    http: requests.Session = field(default_factory=requests.Session)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    # authorization ------------------------------------------------------------

    def authorization_params(self, rp: RP, pkce: bool = True, **extra: Any
                             ) -> tuple[dict[str, Any], str | None]:
        verifier = secrets.token_urlsafe(48) if pkce else None
        params: dict[str, Any] = {
            "client_id": rp.client_id, "redirect_uri": rp.redirect_uri,
            "response_type": "code", "scope": "openid profile email",
            "state": secrets.token_urlsafe(16), "nonce": secrets.token_urlsafe(16),
        }
        if verifier:
            params["code_challenge"] = s256(verifier)
            params["code_challenge_method"] = "S256"
        params.update(extra)
        return {k: v for k, v in params.items() if v is not None}, verifier

    def authorize(self, params: dict[str, Any], method: str = "GET") -> requests.Response:
        if method == "POST":
            return self.http.post(self.url("oidc/authorize"), data=params,
                                  allow_redirects=False, timeout=10)
        return self.http.get(self.url("oidc/authorize"), params=params, allow_redirects=False,
                             timeout=10)

    def login(self, client_id: str = CONFIDENTIAL, pkce: bool = True, **extra: Any) -> Login:
        rp = self.rps[client_id]
        params, verifier = self.authorization_params(rp, pkce=pkce, **extra)
        resp = self.authorize(params)
        assert resp.status_code == 303, resp.text[:300]
        query = redirect_query(resp, params["redirect_uri"])
        assert "code" in query, query
        return Login(rp, query["code"], params["state"], params.get("nonce"), verifier,
                     params["redirect_uri"])

    # token ----------------------------------------------------------------------

    def token(self, login: Login, *, auth: str | None = None, **overrides: Any
              ) -> requests.Response:
        """Redeem ``login.code`` the way ``login.rp`` is registered to (or as ``auth`` says)."""
        rp = login.rp
        form: dict[str, Any] = {"grant_type": "authorization_code", "code": login.code,
                                "redirect_uri": login.redirect_uri,
                                "code_verifier": login.verifier}
        headers: dict[str, str] = {}
        method = auth or rp.method
        if method == "client_secret_basic":
            headers["Authorization"] = basic(rp.client_id, rp.secret or "")
        elif method == "client_secret_post":
            form.update(client_id=rp.client_id, client_secret=rp.secret)
        elif method == "private_key_jwt":
            assert rp.signing_key is not None
            form.update(client_assertion_type=ASSERTION_TYPE, client_assertion=client_assertion(
                rp.signing_key, rp.client_id, self.url("oidc/token")))
        else:
            form["client_id"] = rp.client_id
        form.update(overrides)
        form = {k: v for k, v in form.items() if v is not None}
        return self.http.post(self.url("oidc/token"), data=form, headers=headers, timeout=10)

    def tokens(self, login: Login) -> dict[str, Any]:
        resp = self.token(login)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def userinfo(self, access_token: str) -> requests.Response:
        return self.http.get(self.url("oidc/userinfo"),
                             headers={"Authorization": f"Bearer {access_token}"}, timeout=10)


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()
                                    ).rstrip(b"=").decode()


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def redirect_query(resp: requests.Response, redirect_uri: str) -> dict[str, str]:
    """The parameters the provider sent to ``redirect_uri`` (asserting it is that URI)."""
    location = resp.headers["Location"]
    base = redirect_uri.split("?")[0]
    assert location.split("?")[0] == base, location
    query = parse_qs(urlsplit(location).query, keep_blank_values=True)
    assert all(len(v) == 1 for v in query.values()), query
    return {k: v[0] for k, v in query.items()}


def satosa_config(base_url: str, keys: KeyPaths, store_url: str, rps: dict[str, RP],
                  lifetimes: dict[str, int]) -> dict[str, Any]:
    dictionary = load_dictionary(ROOT / "attributs" / "dictionnaire.yaml")
    frontend = {
        "module": "plugins.frontends.oidc.frontend.OIDCFrontend",
        "name": "oidc",
        "config": {
            "store_url": store_url,
            "issuer": base_url,
            "signing_key_path": str(keys.oidc_signing_key),
            "lifetimes": {"flow": 900, **lifetimes},
            "scopes": dictionary.scopes(),
            "claim_names": dictionary.by_claim(),
            "clients": {cid: rp.entry() for cid, rp in rps.items()},
        },
    }
    return {
        "BASE": base_url,
        "INTERNAL_ATTRIBUTES": dictionary.internal_attributes(),
        "FRONTEND_MODULES": [frontend],
        "BACKEND_MODULES": [
            {"module": _path(FixedIdentityBackend), "name": "source-ok", "config": {}},
            {"module": _path(FixedIdentityBackend), "name": "source-refus",
             "config": {"refuse": True}},
            {"module": _path(FixedIdentityBackend), "name": "source-differee",
             "config": {"deferred": True}},
            {"module": _path(FixedIdentityBackend), "name": "source-sans-sujet",
             "config": {"subject": None}},
        ],
        "MICRO_SERVICES": [{"module": _path(BackendPerClient), "name": "routage",
                            "config": {"routes": {REFUSED: "source-refus",
                                                  DEFERRED: "source-differee",
                                                  NO_SUBJECT: "source-sans-sujet"},
                                       "default": "source-ok"}},
                           {"module": "plugins.micro_services.pairwise.PairwiseSubject",
                            "name": "pairwise",
                            "config": {"pairwise_secret_path": str(keys.pairwise_secret),
                                       "sectors": {cid: f"service:{cid}" for cid in rps}}}],
        "CONTEXT_STATE_DELETE": True,
        "COOKIE_STATE_NAME": "__Host-ncc_flux",
    }


class _Late:
    """WSGI shim: the server must exist (for its port) before the app knows its base URL."""

    app: Any = None

    def __call__(self, environ, start_response):
        return self.app(environ, start_response)


def build_app(config: dict[str, Any], store_url: str) -> NCConnectApp:
    return NCConnectApp(config, store_url=store_url, flow_ttl=900, max_body=262144, https=False)


def serve_provider(folder: Path, keys: KeyPaths, lifetimes: dict[str, int],
                   partner: PartnerKeys | None = None, rps: dict | None = None,
                   adjust: Callable[[dict], None] | None = None) -> Iterator[Provider]:
    """A provider on a free loopback port for ``rps`` (the default ones otherwise);
    ``adjust`` edits its SATOSA config before it is built (e.g. a client's entry)."""
    shim = _Late()
    server = make_server("127.0.0.1", 0, shim, threaded=True)
    base_url = f"http://127.0.0.1:{server.server_port}"
    store_url = f"sqlite:///{folder}/s.db"
    rps = rps if rps is not None else default_rps(partner)
    config = satosa_config(base_url, keys, store_url, rps, lifetimes)
    if adjust is not None:
        adjust(config)
    shim.app = build_app(json.loads(json.dumps(config)), store_url)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Provider(base_url, keys, rps, shim.app, store_url, config)
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="session")
def keys(tmp_path_factory) -> KeyPaths:
    folder = tmp_path_factory.mktemp("keys")
    init_keys(folder)
    return KeyPaths(folder)


@pytest.fixture(scope="session")
def partner_keys() -> Iterator[PartnerKeys]:
    partner = PartnerKeys.generate()
    yield partner
    partner.server.stop()


@pytest.fixture(scope="session")
def op(tmp_path_factory, keys, partner_keys) -> Iterator[Provider]:
    """The provider most tests use (production-like lifetimes)."""
    yield from serve_provider(tmp_path_factory.mktemp("op"), keys,
                              {"code": 60, "access_token": 300, "id_token": 300}, partner_keys)


@pytest.fixture(scope="session")
def short_op(tmp_path_factory, keys) -> Iterator[Provider]:
    """A provider whose codes and access tokens expire after one second."""
    yield from serve_provider(tmp_path_factory.mktemp("short-op"), keys,
                              {"code": 1, "access_token": 1, "id_token": 60})


def redeem_in_child(config: dict[str, Any], store_url: str, form: dict[str, str],
                    headers: dict[str, str], barrier: Any, results: Any) -> None:
    """Run in a separate process: an application of its own, redeeming at the barrier."""
    from werkzeug.test import Client

    client = Client(build_app(config, store_url))
    barrier.wait(timeout=60)
    resp = client.post("/oidc/token", data=form, headers=headers)
    results.put(resp.status_code)
