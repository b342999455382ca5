"""The demo SAML2 identity source: a pysaml2 ``Server`` behind a French login form.

It plays a territorial directory for NC Connect's SAML backend. AuthnRequests
arrive by the Redirect binding and must be signed (RSA-SHA256) with a key of
the SP's metadata; the Response goes back by HTTP-POST to the ACS of the SP's
metadata, Response and Assertion both signed RSA-SHA256, with a persistent
pairwise NameID and ``urn:oid`` attributes (NameFormat uri).

The SP (NC Connect) starts after this IdP, so its metadata is fetched on the
first request, and fetched again when a request comes from an SP not known yet.

Assertions state the eIDAS level the source is registered for as
``AuthnContextClassRef`` (NC Connect refuses an answer without one), and the real
``AuthnInstant``. :attr:`DemoIdP.authn_requests` counts the AuthnRequests received, so
tests can tell whether NC Connect asked. It never answers a login from a session of its
own (``IsPassive`` gets ``NoPassive``), but remembers each login it answered — the
NameID and the ``SessionIndex`` it issued, for 8 hours — in :attr:`DemoIdP.sessions`.

Single Logout: ``/slo/redirect`` takes an SP's LogoutRequest (Redirect binding, signed
RSA-SHA256 with a key of the SP's metadata, addressed here) and answers with a signed
LogoutResponse on the SP's SingleLogoutService. It is as strict as Lasso-based IdPs
(LemonLDAP::NG): the request must name a session it issued to that SP by its
``SessionIndex``, with the NameID exactly as issued — Format, NameQualifier,
SPNameQualifier, SPProvidedID, value; it then ends that session and answers
``Success``, and otherwise answers ``Responder`` / ``UnknownPrincipal``.
:attr:`DemoIdP.logout_requests` counts the verified requests.

Here: the routes, login, single sign-on and the responses. What it issued per login and
the strict logout check are :mod:`idp.demo.saml_idp_sessions`; the encrypted assertion,
algorithms pinned, is :mod:`idp.demo.saml_idp_encryption`.

Keyword options (defaults: the demo's own behaviour), attributes tests may change:

* ``class_ref``: the ``AuthnContextClassRef`` stated, e.g. SAML's
  ``PasswordProtectedTransport`` as most non-eIDAS IdPs do;
* ``name_id_format``: the NameID format URI; transient issues a new random NameID at
  each login, whatever format the request asked for (as an IdP whose administrator
  chose transient identifiers for this SP);
* ``encryption``: encrypts the (signed) assertion to the SP's encryption certificate from
  its metadata, with this XML Encryption block algorithm (``AES256_GCM`` of
  :mod:`idp.demo.saml_idp_encryption`) and RSA-OAEP key transport; the Response is signed
  over the ``EncryptedAssertion``;
* ``partial_logout``: a successful logout answers ``Success`` / ``PartialLogout``, as an
  IdP that could not reach every other SP of its session;
* ``sign_assertion=False``: only the Response is signed, not the assertion (encrypted or
  not), as the Shibboleth IdP and Keycloak do by default.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import logging
import secrets
import threading
from pathlib import Path
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, samlp
from saml2.config import IdPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.s_utils import error_status_factory
from saml2.saml import (
    NAME_FORMAT_URI,
    NAMEID_FORMAT_PERSISTENT,
    NAMEID_FORMAT_TRANSIENT,
    NAMEID_FORMAT_UNSPECIFIED,
    NameID,
)
from saml2.samlp import (
    STATUS_INVALID_NAMEID_POLICY,
    STATUS_NO_PASSIVE,
    STATUS_PARTIAL_LOGOUT,
    STATUS_REQUEST_DENIED,
    STATUS_SUCCESS,
    STATUS_UNKNOWN_PRINCIPAL,
    authn_request_from_string,
    logout_request_from_string,
)
from saml2.server import Server
from werkzeug.wrappers import Response

from plugins.saml2.crypto.context import install

from .citizens import Citizen, find_citizen
from .pending import Pending
from .saml_common import (
    DIGEST_ALG,
    SIGN_ALG,
    UndecodableMessage,
    metadata_document,
    redirect_xml,
    saml_identity,
    uri_converter,
    xmlsec_binary,
)
from .saml_idp_encryption import response_with_encrypted_assertion
from .saml_idp_sessions import IssuedSessions, logout_request_names
from .web import DemoRequest, PeerApp, PeerError, fetch, new_token, redirect, same

logger = logging.getLogger("ncconnect.demo.saml_idp")

BRAND = "Compte démo — Identité numérique (SAML)"
HEADING = "Compte démo — Identité numérique"
#: SAML Bindings §3.4.3: RelayState MUST NOT exceed 80 bytes.
MAX_RELAY_STATE_BYTES = 80
MAX_REQUEST_AGE = dt.timedelta(minutes=5)
CLOCK_SKEW = dt.timedelta(minutes=2)
ACCEPTED_NAMEID_FORMATS = (None, NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_UNSPECIFIED)
#: The level the demo directory is registered at (``partenaires/demo``: low).
DEFAULT_CLASS_REF = "http://eidas.europa.eu/LoA/low"


def _refused(why: str) -> PeerError:
    # ``why`` is ours and generic: the message is hostile input, possibly personal.
    return PeerError("requete_invalide", "Demande d'authentification refusée",
                     f"La demande SAML reçue a été refusée : {why}. "
                     "Aucune donnée n'a été transmise.")


def _issuer_of(xml: bytes, reader: Any = authn_request_from_string) -> str:
    try:
        request = reader(xml)
    except Exception:  # noqa: BLE001 - defusedxml/ElementTree raise many types on hostile XML
        raise _refused("document XML illisible") from None
    if request is None or request.issuer is None or not (request.issuer.text or "").strip():
        raise _refused("AuthnRequest sans émetteur")
    return request.issuer.text.strip()


def _check_issue_instant(value: str | None) -> None:
    try:
        issued = dt.datetime.fromisoformat(value or "")
    except ValueError:
        raise _refused("date d'émission illisible") from None
    if issued.tzinfo is None:
        issued = issued.replace(tzinfo=dt.UTC)
    now = dt.datetime.now(dt.UTC)
    if not now - MAX_REQUEST_AGE - CLOCK_SKEW <= issued <= now + CLOCK_SKEW:
        raise _refused("demande trop ancienne ou datée du futur")


class DemoIdP(PeerApp):
    def __init__(self, base_url: str, key_path: Path, cert_path: Path,
                 sp_metadata_urls: list[str], citizens: list[Citizen],
                 class_ref: str = DEFAULT_CLASS_REF, *,
                 name_id_format: str = NAMEID_FORMAT_PERSISTENT,
                 encryption: str | None = None, partial_logout: bool = False,
                 sign_assertion: bool = True, crypto: str = "xmlsec1") -> None:
        super().__init__(base_url, "idp", BRAND)
        #: ``xmlsec1`` (pysaml2's default: an implementation independent of the proxy's), or
        #: ``in_process`` (the proxy's own backend: for benchmarks, where the peer's cost is
        #: not what is measured).
        self.crypto = crypto
        #: The ``AuthnContextClassRef`` its assertions state (tests may change it).
        self.class_ref = class_ref
        #: Persistent (default) or transient NameIDs.
        self.name_id_format = name_id_format
        #: Block algorithm encrypting assertions (``None``: not encrypted).
        self.encryption = encryption
        #: Answer a successful logout with ``PartialLogout``.
        self.partial_logout = partial_logout
        #: Sign the assertion as well as the Response (``False``: the Response only).
        self.sign_assertion = sign_assertion
        #: The logins it answered, for the SP's LogoutRequest.
        self.sessions = IssuedSessions()
        #: Second-level status of the last LogoutResponse (``None``: plain Success).
        self.last_logout_status: str | None = None
        #: What the last verified LogoutRequest named: {"name_id": fields, "session_indexes"}.
        self.last_logout_request: dict[str, Any] | None = None
        self.entity_id = f"{self.base_url}/metadata"
        self.sso_url = f"{self.base_url}/sso/redirect"
        self.slo_url = f"{self.base_url}/slo/redirect"
        self.logout_requests = 0
        self.sp_metadata_urls = list(sp_metadata_urls)
        self.citizens = citizens
        self.authn_requests = 0
        self._counter_lock = threading.Lock()
        self._lock = threading.RLock()  # pysaml2's server and metadata store are shared
        self._pending = Pending(ttl=600)
        self._metadata_loaded = False
        # Persistent NameIDs: opaque, per SP, stable across restarts with the same key.
        self._nameid_secret = hashlib.sha256(Path(key_path).read_bytes()).digest()
        config = IdPConfig().load(self._config(Path(key_path), Path(cert_path)))
        # The metadata store holds this very list: our converter replaces pysaml2's maps.
        config.attribute_converters[:] = [uri_converter()]
        self.server = Server(config=config)
        if crypto == "in_process":
            install(self.server, "in_process")
        self._metadata_xml = metadata_document(config)
        self.route(["GET"], "/metadata", self.metadata)
        self.route(["GET"], "/sso/redirect", self.sso_redirect)
        self.route(["POST"], "/connexion", self.login)
        self.route(["GET"], "/slo/redirect", self.slo_redirect)

    def _config(self, key_path: Path, cert_path: Path) -> dict[str, Any]:
        return {
            "entityid": self.entity_id,
            "key_file": str(key_path),
            "cert_file": str(cert_path),
            "xmlsec_binary": xmlsec_binary(),
            "delete_tmpfiles": True,
            "signing_algorithm": SIGN_ALG,
            "digest_algorithm": DIGEST_ALG,
            "metadata": {"inline": []},
            "service": {"idp": {
                "name": BRAND,
                "endpoints": {"single_sign_on_service": [(self.sso_url, BINDING_HTTP_REDIRECT)],
                              "single_logout_service": [(self.slo_url, BINDING_HTTP_REDIRECT)]},
                "want_authn_requests_signed": True,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "sign_response": True,
                "sign_assertion": True,
                "policy": {"default": {
                    "lifetime": {"minutes": 5},
                    "name_form": NAME_FORMAT_URI,
                    "fail_on_missing_requested": False,
                }},
            }},
        }

    # -- metadata -----------------------------------------------------------

    def metadata(self, request: DemoRequest) -> Response:
        return Response(self._metadata_xml, content_type="application/samlmetadata+xml",
                        headers={"Cache-Control": "public, max-age=60"})

    def _knows(self, sp: str) -> bool:
        """Is ``sp`` in the SP metadata? Fetch it on first use and when ``sp`` is new."""
        with self._lock:
            if self._metadata_loaded and sp in self.server.metadata.keys():
                return True
            self._load_sp_metadata()
            return sp in self.server.metadata.keys()

    def _load_sp_metadata(self) -> None:
        documents = []
        for url in self.sp_metadata_urls:
            try:
                xml = fetch(url).decode("utf-8")
                InMemoryMetaData(self.server.config.attribute_converters, xml).load()
            except Exception as exc:  # noqa: BLE001 - one SP down or broken must not hide others
                logger.warning("SP metadata unusable", extra={"url": url,
                                                              "error": type(exc).__name__})
                continue
            documents.append(xml)
        self.server.metadata.reload({"inline": documents})
        self._metadata_loaded = True

    # -- single sign-on -----------------------------------------------------

    def sso_redirect(self, request: DemoRequest) -> Response:
        with self._counter_lock:
            self.authn_requests += 1
        args = request.args
        encoded = args.get("SAMLRequest", "")
        relay_state = args.get("RelayState")
        if relay_state is not None and len(relay_state.encode("utf-8")) > MAX_RELAY_STATE_BYTES:
            raise _refused("RelayState de plus de 80 octets")
        try:
            xml = redirect_xml(encoded)
        except UndecodableMessage:
            raise _refused("message SAML illisible") from None
        sp = _issuer_of(xml)
        if not self._knows(sp):
            raise PeerError("sp_inconnu", "Service inconnu",
                            "Le service qui demande votre identité n'est pas connu de ce "
                            "fournisseur d'identité. Aucune donnée n'a été transmise.")
        if args.get("SigAlg") != SIGN_ALG or not args.get("Signature"):
            raise _refused("demande non signée ou algorithme de signature refusé")
        try:
            with self._lock:
                parsed = self.server.parse_authn_request(
                    encoded, BINDING_HTTP_REDIRECT, relay_state=relay_state,
                    sigalg=args["SigAlg"], signature=args["Signature"])
        except Exception:  # noqa: BLE001 - pysaml2 raises many types (signature, schema...)
            raise _refused("signature ou contenu invalide") from None
        message = parsed.message if parsed is not None else None
        if message is None or (message.issuer.text or "").strip() != sp or not message.id:
            raise _refused("contenu invalide")
        if message.destination != self.sso_url:
            raise _refused("destination absente ou différente de ce service")
        _check_issue_instant(message.issue_instant)
        try:
            with self._lock:
                resp_args = self.server.response_args(message, [BINDING_HTTP_POST])
        except Exception:  # noqa: BLE001 - SAMLError and friends: ACS not in the metadata
            raise _refused("adresse de retour absente des métadonnées du service") from None
        if not resp_args.get("destination"):
            raise _refused("adresse de retour absente des métadonnées du service")
        flow = {"sp": sp, "resp_args": resp_args, "relay_state": relay_state}
        policy = message.name_id_policy
        accepted = ACCEPTED_NAMEID_FORMATS + ((NAMEID_FORMAT_TRANSIENT,)
                                              if self.name_id_format == NAMEID_FORMAT_TRANSIENT
                                              else ())
        if policy is not None and policy.format not in accepted:
            return self._post_error(flow, STATUS_INVALID_NAMEID_POLICY)
        if str(message.is_passive).lower() == "true":  # no single sign-on session here
            return self._post_error(flow, STATUS_NO_PASSIVE)
        browser = self.browser_of(request) or new_token()
        demande, csrf = new_token(), new_token()
        self._pending.put(demande, {**flow, "browser": browser, "csrf": csrf})
        response = self._login_form(sp, demande, csrf)
        self.remember_browser(response, browser)
        return response

    def _login_form(self, sp: str, demande: str, csrf: str, failed: bool = False,
                    username: str = "") -> Response:
        return self.page("connexion.html", heading=HEADING, requester=sp, demande=demande,
                         csrf=csrf, failed=failed, username=username,
                         usernames=[c.username for c in self.citizens])

    def login(self, request: DemoRequest) -> Response:
        form = request.form
        demande = form.get("demande", "")
        flow = self.pending_login(request, self._pending, demande)
        if form.get("action") == "annuler":
            if self._pending.take(demande) is None:
                raise PeerError("session_expiree", "Demande expirée",
                                "Cette demande de connexion a déjà servi.")
            return self._post_error(flow, STATUS_REQUEST_DENIED)
        username = form.get("identifiant", "")[:100]
        citizen = find_citizen(self.citizens, username)
        password = form.get("mot_de_passe", "")
        if citizen is None or not same(password, citizen.password):
            return self._login_form(flow["sp"], demande, flow["csrf"], failed=True,
                                    username=username)
        if self._pending.take(demande) is None:  # a parallel submit won the race
            raise PeerError("session_expiree", "Demande expirée",
                            "Cette demande de connexion a déjà servi.")
        return self._post_success(flow, citizen)

    # -- single logout ------------------------------------------------------

    def slo_redirect(self, request: DemoRequest) -> Response:
        args = request.args
        encoded = args.get("SAMLRequest", "")
        relay_state = args.get("RelayState")
        try:
            sp = _issuer_of(redirect_xml(encoded), logout_request_from_string)
        except UndecodableMessage:
            raise _refused("message SAML illisible") from None
        if not self._knows(sp):
            raise _refused("service inconnu")
        if args.get("SigAlg") != SIGN_ALG or not args.get("Signature"):
            raise _refused("demande non signée ou algorithme de signature refusé")
        try:
            with self._lock:
                parsed = self.server.parse_logout_request(
                    encoded, BINDING_HTTP_REDIRECT, relay_state=relay_state,
                    sigalg=args["SigAlg"], signature=args["Signature"])
        except Exception:  # noqa: BLE001 - pysaml2 raises many types (signature, schema...)
            raise _refused("signature ou contenu invalide") from None
        message = parsed.message if parsed is not None else None
        if message is None or (message.issuer.text or "").strip() != sp \
                or message.destination != self.slo_url:
            raise _refused("contenu ou destination invalide")
        _check_issue_instant(message.issue_instant)
        with self._counter_lock:
            self.logout_requests += 1
        status = self._end_sessions(sp, message)
        try:
            with self._lock:
                response = self.server.create_logout_response(message, [BINDING_HTTP_REDIRECT],
                                                              status=status, sign=False)
                info = self.server.apply_binding(
                    BINDING_HTTP_REDIRECT, str(response), response.destination,
                    relay_state or "", response=True, sign=True, sigalg=SIGN_ALG)
        except Exception:  # noqa: BLE001 - no SingleLogoutService in the SP's metadata
            raise _refused("adresse de retour absente des métadonnées du service") from None
        return redirect(dict(info["headers"])["Location"])

    def issued_session(self, session_index: str) -> dict[str, Any] | None:
        """The live session a SessionIndex names: {"sp", "username", "name_id": fields}."""
        return self.sessions.get(session_index)

    def _end_sessions(self, sp: str, message: Any) -> samlp.Status | None:
        """End the sessions the request names, if it names them exactly as issued to ``sp``:
        ``None`` (Success), Success / PartialLogout, or Responder / UnknownPrincipal."""
        named = logout_request_names(message)
        self.last_logout_request = named
        if not self.sessions.end_if_named_as_issued(sp, named["name_id"],
                                                    named["session_indexes"]):
            logger.info("logout request for no session issued", extra={"sp": sp})
            self.last_logout_status = STATUS_UNKNOWN_PRINCIPAL
            return error_status_factory((STATUS_UNKNOWN_PRINCIPAL, None))
        if not self.partial_logout:
            self.last_logout_status = None
            return None
        self.last_logout_status = STATUS_PARTIAL_LOGOUT
        return samlp.Status(status_code=samlp.StatusCode(
            value=STATUS_SUCCESS, status_code=samlp.StatusCode(value=STATUS_PARTIAL_LOGOUT)))

    # -- responses ----------------------------------------------------------

    def name_id(self, sp: str, username: str) -> str:
        """Persistent NameID: an HMAC of the SP and the username, opaque to the SP."""
        return hmac.new(self._nameid_secret, f"{sp}\x00{username}".encode(),
                        hashlib.sha256).hexdigest()

    def _issued_name_id(self, sp: str, username: str) -> NameID:
        if self.name_id_format == NAMEID_FORMAT_TRANSIENT:
            value = f"_{secrets.token_hex(16)}"  # new at each login
        else:
            value = self.name_id(sp, username)
        return NameID(format=self.name_id_format, text=value, name_qualifier=self.entity_id,
                      sp_name_qualifier=sp)

    def _post_success(self, flow: dict[str, Any], citizen: Citizen) -> Response:
        sp = flow["sp"]
        name_id = self._issued_name_id(sp, citizen.username)
        signed = self.encryption is None  # pysaml2 signs; encrypted ones are signed below
        with self._lock:
            xml = str(self.server.create_authn_response(
                identity=saml_identity(citizen.claims), userid=citizen.username,
                name_id=name_id,
                authn={"class_ref": self.class_ref, "authn_auth": self.entity_id},
                sign_response=signed, sign_assertion=signed and self.sign_assertion,
                encrypt_assertion=False,
                sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG, **flow["resp_args"]))
            response = samlp.response_from_string(xml)
            [statement] = response.assertion[0].authn_statement
            if self.encryption is not None:
                xml = response_with_encrypted_assertion(self.server, response, sp,
                                                        self.encryption,
                                                        sign_assertion=self.sign_assertion)
        self.sessions.record(statement.session_index, sp, citizen.username, name_id)
        return self._post(flow, xml)

    def _post_error(self, flow: dict[str, Any], status: str) -> Response:
        args = flow["resp_args"]
        with self._lock:
            xml = self.server.create_error_response(
                args["in_response_to"], args["destination"], (status, None), sign=True,
                sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG)
        return self._post(flow, str(xml))

    def _post(self, flow: dict[str, Any], xml: str) -> Response:
        fields = {"SAMLResponse": base64.b64encode(xml.encode("utf-8")).decode("ascii")}
        if flow["relay_state"] is not None:
            fields["RelayState"] = flow["relay_state"]
        return self.autopost(flow["resp_args"]["destination"], fields)


def make_demo_idp(base_url: str, key_path: Path, cert_path: Path, sp_metadata_urls: list[str],
                  citizens: list[Citizen], class_ref: str = DEFAULT_CLASS_REF,
                  **options: Any) -> DemoIdP:
    """``options``: the keyword options of :class:`DemoIdP` (transient NameIDs, encryption,
    PartialLogout answers, a Response signed alone, the crypto backend)."""
    return DemoIdP(base_url, key_path, cert_path, sp_metadata_urls, citizens, class_ref,
                   **options)
