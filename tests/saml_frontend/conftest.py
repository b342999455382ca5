"""A real NC Connect app with the SAML frontend, a fixed test peer as source, and pysaml2 SPs.

The app is driven as WSGI through SATOSA's machinery: frontend -> request
micro-service (stands in for the source choice) -> backend, which answers at
once with a fixed, allowed peer. The SPs are real pysaml2 ``Saml2Client``
instances configured in code, each with its own keys.
"""

from __future__ import annotations

import base64
import datetime as dt
import secrets
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from bs4 import BeautifulSoup
from defusedxml import ElementTree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor
from saml2.saml import NAMEID_FORMAT_PERSISTENT
from saml2.xmldsig import SIG_RSA_SHA256
from satosa.backends.base import BackendModule
from satosa.exception import SATOSAAuthenticationError
from satosa.internal import AuthenticationInformation, InternalData
from satosa.micro_services.base import RequestMicroService
from werkzeug.test import Client, TestResponse

from idp.app import NCConnectApp
from idp.dictionary import load_dictionary
from idp.keys import write_key_pair
from idp.stores import open_store
from idp.testbed.federation import build_federation

ROOT = Path(__file__).resolve().parents[2]
BASE = "https://ncconnect.test"
IDP_ENTITY = f"{BASE}/saml2/metadata"
SSO_REDIRECT = f"{BASE}/saml2/sso/redirect"
SSO_POST = f"{BASE}/saml2/sso/post"
ASSERTION_LIFETIME = 300

#: The test peer every login authenticates (a real backend would get it from a source).
PEER_SUBJECT = "pair-source-0042"
PEER_ATTRIBUTES = {
    "given_name": ["Marie-Thérèse"],
    "family_name": ["Wamytan"],
    "preferred_username": ["Gope"],
    "birthdate": ["1987-04-12"],
    "gender": ["female"],
    "birthplace": ["98818"],
    "birthcountry": ["99100"],
    "email": ["marie.wamytan@example.nc"],
    "phone_number": ["+687 77 12 34"],
}
PEER_ACR = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"


class FixedPeerBackend(BackendModule):
    """Answers every login at once with :data:`PEER_ATTRIBUTES`, or refuses (``refuse``)."""

    def __init__(self, auth_callback_func, internal_attributes, config, base_url, name):
        super().__init__(auth_callback_func, internal_attributes, base_url, name)
        self.refuse: str | None = config.get("refuse")

    def start_auth(self, context, internal_request):
        if self.refuse:
            raise SATOSAAuthenticationError(context.state, self.refuse)
        auth = AuthenticationInformation(
            auth_class_ref=PEER_ACR, issuer="https://source.test/idp",
            timestamp=dt.datetime.now(dt.UTC).isoformat())
        peer = InternalData(auth_info=auth, subject_id=PEER_SUBJECT, subject_type="persistent",
                            attributes={k: list(v) for k, v in PEER_ATTRIBUTES.items()})
        return self.auth_callback_func(context, peer)

    def register_endpoints(self):
        return []


class RouteToSource(RequestMicroService):
    """Stands in for the source-choice micro-service: picks ``target_backend`` per SP."""

    def __init__(self, config, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.routes: dict[str, str] = config["routes"]
        self.default: str = config["default"]

    def process(self, context, data):
        context.target_backend = self.routes.get(data.requester, self.default)
        return super().process(context, data)


@dataclass
class SPSpec:
    entity_id: str
    acs: list[str]
    allowed: list[str]
    required: list[str] = field(default_factory=list)  # pysaml2 friendly names
    optional: list[str] = field(default_factory=list)
    signed: bool = False
    registered: bool = True
    backend: str = "source"
    #: ``saml2.name_id_formats`` of its partner file (None: the schema's default).
    name_id_formats: list[str] | None = None
    #: ``saml2.encrypt_assertions``; such an SP publishes an encryption key and decrypts.
    encrypt: bool = False


SPS: dict[str, SPSpec] = {
    # Requests givenName (required), sn and mail; allowed given/family name and birthdate.
    "a": SPSpec("https://sp-a.test/metadata", ["https://sp-a.test/acs", "https://sp-a.test/acs-2"],
                ["given_name", "family_name", "birthdate"], ["givenName"], ["sn", "mail"]),
    # No AttributeConsumingService: gets everything it is allowed.
    "b": SPSpec("https://sp-b.test/metadata", ["https://sp-b.test/acs"], ["email", "birthdate"]),
    "signed": SPSpec("https://sp-signe.test/metadata", ["https://sp-signe.test/acs"],
                     ["given_name"], signed=True),
    "refused": SPSpec("https://sp-refus.test/metadata", ["https://sp-refus.test/acs"],
                      ["given_name"], backend="refusing"),
    "failing": SPSpec("https://sp-panne.test/metadata", ["https://sp-panne.test/acs"],
                      ["given_name"], backend="failing"),
    "unknown": SPSpec("https://sp-inconnu.test/metadata", ["https://sp-inconnu.test/acs"],
                      ["given_name"], registered=False),
    # Pinned to persistent NameIDs.
    "pinned": SPSpec("https://sp-epingle.test/metadata", ["https://sp-epingle.test/acs"],
                     ["given_name"], name_id_formats=["persistent"]),
    # Transient by default.
    "transient-first": SPSpec("https://sp-ephemere.test/metadata",
                              ["https://sp-ephemere.test/acs"], ["given_name"],
                              name_id_formats=["transient", "persistent"]),
    # May get its citizens' email as NameID (and requests nothing: gets all it is allowed).
    "email": SPSpec("https://sp-courriel.test/metadata", ["https://sp-courriel.test/acs"],
                    ["given_name", "email"], name_id_formats=["persistent", "email"]),
    # Email NameID listed first, but its metadata requests only givenName: email not released.
    "email-unreleased": SPSpec("https://sp-courriel-non.test/metadata",
                               ["https://sp-courriel-non.test/acs"], ["given_name", "email"],
                               ["givenName"], name_id_formats=["email", "persistent"]),
    # Gets its assertions encrypted.
    "encrypted": SPSpec("https://sp-chiffre.test/metadata", ["https://sp-chiffre.test/acs"],
                        ["given_name", "family_name"], encrypt=True),
}


def sp_config(spec: SPSpec, key: Path, cert: Path, idp_metadata: str | None) -> dict[str, Any]:
    cnf: dict[str, Any] = {
        **({"encryption_keypairs": [{"key_file": str(key.with_suffix(".enc.pem")),
                                     "cert_file": str(cert.with_suffix(".enc.crt"))}]}
           if spec.encrypt else {}),
        "entityid": spec.entity_id,
        "key_file": str(key),
        "cert_file": str(cert),
        "allow_unknown_attributes": True,
        "service": {"sp": {
            "endpoints": {"assertion_consumer_service": [(u, BINDING_HTTP_POST) for u in spec.acs]},
            "required_attributes": spec.required,
            "optional_attributes": spec.optional,
            "authn_requests_signed": spec.signed,
            "want_response_signed": True,
            "want_assertions_signed": True,
            "allow_unsolicited": False,
            "name_id_format": [NAMEID_FORMAT_PERSISTENT],
            "name_id_policy_format": NAMEID_FORMAT_PERSISTENT,
            "signing_algorithm": SIG_RSA_SHA256,
        }},
    }
    if idp_metadata is not None:
        cnf["metadata"] = {"inline": [idp_metadata]}
    return cnf


@dataclass
class Form:
    action: str
    fields: dict[str, str]


@dataclass
class Federation:
    app: NCConnectApp
    clients: dict[str, Saml2Client]
    idp_metadata: str
    pairwise_secret: bytes
    idp_cert_path: Path
    keys: Path
    frontend_conf: dict[str, Any]

    def browser(self) -> Client:
        return Client(self.app)

    def request_url(self, sp: str, relay_state: str = "", sign: bool | None = None,
                    sigalg: str = SIG_RSA_SHA256, **kwargs: Any) -> tuple[str, str]:
        """(request id, URL the SP redirects the browser to)."""
        reqid, _binding, info = self.clients[sp].prepare_for_negotiated_authenticate(
            entityid=IDP_ENTITY, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT,
            sign=sign, sigalg=sigalg, **kwargs)
        return reqid, dict(info["headers"])["Location"]

    def login(self, sp: str, relay_state: str = "", **kwargs: Any) -> tuple[str, TestResponse]:
        reqid, url = self.request_url(sp, relay_state, **kwargs)
        return reqid, self.browser().get(url)

    def sp_client_with_keys_of(self, sp: str, other: str) -> Saml2Client:
        """SP ``sp`` as an impostor holding the keys of SP ``other`` would build it."""
        key, cert = self.keys / f"sp-{other}.pem", self.keys / f"sp-{other}.crt"
        return Saml2Client(config=SPConfig().load(sp_config(SPS[sp], key, cert,
                                                             self.idp_metadata)))

    def authn_request_xml(self, sp: str, **kwargs: Any) -> tuple[str, str]:
        """(request id, AuthnRequest XML) as the SP builds it, for the POST binding or tampering."""
        reqid, request = self.clients[sp].create_authn_request(
            destination=kwargs.pop("destination", SSO_POST), binding=BINDING_HTTP_POST, **kwargs)
        return reqid, str(request)

    def parse_response(self, sp: str, form: Form, reqid: str):
        """The SP's own verification: signatures, destination, audience, InResponseTo."""
        return self.clients[sp].parse_authn_request_response(
            form.fields["SAMLResponse"], BINDING_HTTP_POST, outstanding={reqid: "/"})


def deflate_b64(xml: bytes | str) -> str:
    data = xml.encode("utf-8") if isinstance(xml, str) else xml
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(comp.compress(data) + comp.flush()).decode("ascii")


def autopost_form(resp: TestResponse) -> Form | None:
    form = BeautifulSoup(resp.get_data(as_text=True), "html.parser").find("form", id="autopost")
    if form is None:
        return None
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}
    return Form(form["action"], fields)


def error_code(resp: TestResponse) -> str | None:
    code = BeautifulSoup(resp.get_data(as_text=True), "html.parser").find("code", attrs={
        "data-code": True})
    return code["data-code"] if code is not None else None


def response_xml(form: Form) -> str:
    return base64.b64decode(form.fields["SAMLResponse"]).decode("utf-8")


@pytest.fixture(scope="session")
def federation(tmp_path_factory) -> Federation:
    tmp = tmp_path_factory.mktemp("saml_frontend")
    keys = tmp / "keys"
    idp_key, idp_cert = keys / "saml-signing.pem", keys / "saml-signing.crt"
    write_key_pair(idp_key, idp_cert, "NC Connect test")
    pairwise = keys / "pairwise.secret"
    pairwise.write_text(secrets.token_hex(32))

    sp_files: dict[str, tuple[Path, Path]] = {}
    sps_conf: dict[str, dict[str, Any]] = {}
    for name, spec in SPS.items():
        key, cert = keys / f"sp-{name}.pem", keys / f"sp-{name}.crt"
        write_key_pair(key, cert, f"SP {name}")
        if spec.encrypt:
            write_key_pair(key.with_suffix(".enc.pem"), cert.with_suffix(".enc.crt"),
                           f"SP {name} encryption")
        sp_files[name] = (key, cert)
        if spec.registered:
            metadata = str(entity_descriptor(SPConfig().load(sp_config(spec, key, cert, None))))
            sps_conf[spec.entity_id] = {"service_id": f"service-{name}", "name": f"Service {name}",
                                        "metadata_xml": metadata,
                                        "allowed_attributes": list(spec.allowed),
                                        "encrypt_assertions": spec.encrypt,
                                        **({"name_id_formats": spec.name_id_formats}
                                           if spec.name_id_formats else {})}

    dictionary = load_dictionary(ROOT / "attributs" / "dictionnaire.yaml")
    backend = "tests.saml_frontend.conftest.FixedPeerBackend"
    config = {
        "BASE": BASE,
        "INTERNAL_ATTRIBUTES": dictionary.internal_attributes(),
        "FRONTEND_MODULES": [{
            "module": "plugins.frontends.saml2.frontend.SAML2Frontend",
            "name": "saml2",
            "config": {
                "store_url": f"sqlite:///{tmp}/s.db",
                "base_url": BASE,
                "entity_id": IDP_ENTITY,
                "key_path": str(idp_key),
                "cert_path": str(idp_cert),
                "lifetimes": {"assertion": ASSERTION_LIFETIME, "flow": 900},
                "sps": sps_conf,
            },
        }],
        "BACKEND_MODULES": [
            {"module": backend, "name": "source", "config": {}},
            {"module": backend, "name": "refusing", "config": {"refuse": "access_denied"}},
            {"module": backend, "name": "failing", "config": {"refuse": "server_error"}},
        ],
        "MICRO_SERVICES": [{
            "module": "tests.saml_frontend.conftest.RouteToSource", "name": "route",
            "config": {"default": "source",
                       "routes": {s.entity_id: s.backend for s in SPS.values()}},
        }, {
            "module": "plugins.micro_services.pairwise.PairwiseSubject", "name": "pairwise",
            "config": {"pairwise_secret_path": str(pairwise),
                       "sectors": {s.entity_id: s.entity_id for s in SPS.values()}},
        }],
        "CONTEXT_STATE_DELETE": True,
        "COOKIE_STATE_NAME": "__Host-ncc_flux",
    }
    app = NCConnectApp(config, store_url=f"sqlite:///{tmp}/s.db", flow_ttl=900,
                       max_body=262144, https=False)
    idp_metadata = Client(app).get(f"{BASE}/saml2/metadata").get_data(as_text=True)
    clients = {name: Saml2Client(config=SPConfig().load(
        sp_config(spec, *sp_files[name], idp_metadata))) for name, spec in SPS.items()}
    return Federation(app, clients, idp_metadata, bytes.fromhex(pairwise.read_text()),
                      idp_cert, keys, config["FRONTEND_MODULES"][0]["config"])


NS = {"samlp": "urn:oasis:names:tc:SAML:2.0:protocol",
      "saml": "urn:oasis:names:tc:SAML:2.0:assertion",
      "ds": "http://www.w3.org/2000/09/xmldsig#",
      "md": "urn:oasis:names:tc:SAML:2.0:metadata"}


def response_tree(form: Form):
    """The posted Response as an element tree (defusedxml: it is still a message)."""
    return ElementTree.fromstring(response_xml(form))


def refusal_detail(caplog) -> str:
    """The ``detail`` the app logged for the last stopped login (the reason, never personal)."""
    stopped = [r for r in caplog.records if r.getMessage() == "login stopped"]
    return stopped[-1].detail if stopped else ""


# -- the whole federation: the proxy under gunicorn, the demo peers -----------------------

TRANSIENT_FORMAT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
#: Services of :func:`peers`: an SP asking for transient NameIDs, one getting encrypted
#: assertions (its demo SP publishes an encryption key and decrypts), an OIDC service.
PEER_SERVICES: dict[str, tuple] = {
    "sp-transient": ("saml2", ["src-op"], ["given_name", "family_name"],
                     {"peer": {"name_id_format": TRANSIENT_FORMAT}}),
    "sp-chiffre": ("saml2", ["src-op"], ["given_name", "family_name"],
                   {"saml2": {"encrypt_assertions": True},
                    "peer": {"encryption": True}}),
    "rp-a": ("oidc", ["src-op"], ["given_name"]),
}


@pytest.fixture(scope="package")
def peers(tmp_path_factory, redis_server):
    """The testbed federation with :data:`PEER_SERVICES`, on the suite's redis-server."""
    federation = build_federation(tmp_path_factory.mktemp("saml_peers"), PEER_SERVICES)
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture(scope="package")
def peers_store(redis_server):
    return open_store(redis_server.url)
