"""The demo SAML2 partner service: a pysaml2 ``Saml2Client`` showing what NC Connect sent.

It plays a province's online service. ``/login`` sends a signed AuthnRequest
(Redirect binding, RSA-SHA256) to the proxy; ``/acs`` accepts the Response only
if it answers a request this browser started here (InResponseTo taken once from
our own outstanding table, RelayState and browser cookie matching), is addressed
to our ACS, comes from the proxy's entity id, carries a signed Assertion
restricted to our audience. The proxy's metadata is fetched at the first login
(the proxy starts after this service, reading our metadata).

Single Logout, both ways, on the bindings it is built with (HTTP-Redirect and HTTP-POST
by default, published in its metadata). ``/logout`` (``?binding=post`` for POST) sends
NC Connect a signed LogoutRequest naming the NameID and SessionIndex it received;
``/slo/redirect`` and ``/slo/post`` take NC Connect's LogoutRequests — signature
verified with the proxy's metadata key (query signature, RSA-SHA256 only, or enveloped
signature), Issuer, Destination, IssueInstant, NameID and SessionIndex of a session it
holds — end that session and answer with a signed LogoutResponse; and take the
LogoutResponse to its own request. :attr:`DemoSP.logout_requests` and
:attr:`DemoSP.logout_responses` keep what was verified, so tests can check it.

Options, so tests can play the partner software NC Connect must accept (defaults: as above):
``name_id_format`` — the NameIDPolicy Format asked (``None``: no NameIDPolicy at all, as
many SPs send); the NameID received is kept with its format and sent back as such in its
LogoutRequests. ``sign_logout_requests=False`` — unsigned LogoutRequests, as a SimpleSAMLphp
SP without a key sends them. ``encryption_keys`` — ``(key, certificate)`` published in its
metadata as ``KeyDescriptor use="encryption"``, with which it decrypts an
``EncryptedAssertion`` (pysaml2's ``encryption_keypairs``); the assertion inside must still
be signed.
"""

from __future__ import annotations

import base64
import logging
import threading
from pathlib import Path
from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.response import StatusError
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.samlp import (
    logout_request_from_string,
    logout_response_from_string,
    response_from_string,
)
from saml2.sigver import verify_redirect_signature
from werkzeug.wrappers import Response

from plugins.saml2.crypto.context import install

from .attributes import URN_ORDER, ordered, urn_label
from .pending import Pending
from .saml_common import (
    DIGEST_ALG,
    SIGN_ALG,
    UndecodableMessage,
    metadata_document,
    post_xml,
    redirect_xml,
    uri_converter,
    xmlsec_binary,
)
from .web import DemoRequest, PeerApp, PeerError, fetch, new_token, redirect

logger = logging.getLogger("ncconnect.demo.saml_sp")

#: SingleLogoutService bindings the SP offers by default, and their paths.
SLO_BINDINGS = (BINDING_HTTP_REDIRECT, BINDING_HTTP_POST)
SLO_PATHS = {BINDING_HTTP_REDIRECT: "redirect", BINDING_HTTP_POST: "post"}
LOGOUT_REASON = "urn:oasis:names:tc:SAML:2.0:logout:user"


def _invalid(code: str, why: str) -> PeerError:
    return PeerError(code, "Connexion refusée", f"La réponse de NC Connect a été refusée : {why}. "
                     "Vous n'êtes pas connecté(e).")


def _status_name(response: Any) -> str:
    """The most specific status code, e.g. ``RequestDenied`` under ``Responder``."""
    code = response.status.status_code if response.status is not None else None
    if code is None:
        return "Success"
    while code.status_code is not None and code.status_code.value:
        code = code.status_code
    return (code.value or "").rsplit(":", 1)[-1] or "StatusUnknown"


class DemoSP(PeerApp):
    theme = "service"

    def __init__(self, base_url: str, key_path: Path, cert_path: Path, idp_metadata_url: str,
                 title: str, requested: list[str] | None = None,
                 slo_bindings: tuple[str, ...] = SLO_BINDINGS, *,
                 name_id_format: str | None = NAMEID_FORMAT_PERSISTENT,
                 sign_logout_requests: bool = True,
                 encryption_keys: tuple[Path, Path] | None = None,
                 crypto: str = "xmlsec1") -> None:
        super().__init__(base_url, "sp", title)
        #: ``xmlsec1`` (independent of the proxy's crypto) or ``in_process`` (benchmarks).
        self.crypto = crypto
        #: NameIDPolicy Format of its AuthnRequests (None: no NameIDPolicy).
        self.name_id_format = name_id_format
        self.sign_logout_requests = sign_logout_requests
        self.encryption_keys = encryption_keys
        #: The last NameID received: {"value", "format"} (not shown: it is no attribute).
        self.last_name_id: dict[str, str | None] | None = None
        self.slo_urls = {b: f"{self.base_url}/slo/{SLO_PATHS[b]}" for b in slo_bindings}
        #: browser -> its session: the NameID and SessionIndex NC Connect gave.
        self._sessions: dict[str, dict[str, Any]] = {}
        #: Verified LogoutRequests from NC Connect: NameID, SessionIndex, binding.
        self.logout_requests: list[dict[str, Any]] = []
        #: Verified LogoutResponses to our own LogoutRequests: status, binding.
        self.logout_responses: list[dict[str, Any]] = []
        self._logouts = Pending(ttl=600)
        #: Friendly names of the attributes its metadata requests (RequestedAttribute);
        #: None: no AttributeConsumingService, as many SPs publish.
        self.requested = requested
        self.entity_id = f"{self.base_url}/metadata"
        self.acs_url = f"{self.base_url}/acs"
        self.idp_metadata_url = idp_metadata_url
        self.key_path = Path(key_path)
        self.cert_path = Path(cert_path)
        self.last_result: dict[str, str] | None = None
        self._lock = threading.RLock()  # the client and its caches are shared by threads
        self._outstanding = Pending(ttl=600)
        self._client: Saml2Client | None = None
        self._idp_entity_id = ""
        own = SPConfig().load(self._config([]))
        self._metadata_xml = metadata_document(own)
        self.route(["GET"], "/", self.home)
        self.route(["GET"], "/metadata", self.metadata)
        self.route(["GET"], "/login", self.login)
        self.route(["POST"], "/acs", self.acs)
        self.route(["GET"], "/logout", self.logout)
        if BINDING_HTTP_REDIRECT in self.slo_urls:
            self.route(["GET"], "/slo/redirect", self.slo_redirect)
        if BINDING_HTTP_POST in self.slo_urls:
            self.route(["POST"], "/slo/post", self.slo_post)

    def _config(self, idp_metadata: list[str]) -> dict[str, Any]:
        return {
            "entityid": self.entity_id,
            "key_file": str(self.key_path),
            "cert_file": str(self.cert_path),
            **({"encryption_keypairs": [{"key_file": str(self.encryption_keys[0]),
                                         "cert_file": str(self.encryption_keys[1])}]}
               if self.encryption_keys else {}),
            "xmlsec_binary": xmlsec_binary(),
            "delete_tmpfiles": True,
            "signing_algorithm": SIGN_ALG,
            "digest_algorithm": DIGEST_ALG,
            "accepted_time_diff": 60,
            "allow_unknown_attributes": True,
            "metadata": {"inline": idp_metadata},
            "service": {"sp": {
                "name": self.brand,
                "endpoints": {"assertion_consumer_service": [(self.acs_url, BINDING_HTTP_POST)],
                              "single_logout_service": [(u, b) for b, u in self.slo_urls.items()]},
                "authn_requests_signed": True,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "allow_unsolicited": False,
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                **({"required_attributes": list(self.requested)} if self.requested else {}),
            }},
        }

    # -- pages --------------------------------------------------------------

    def home(self, request: DemoRequest) -> Response:
        return self.page("accueil.html", protocol="Ce service utilise SAML 2.0.")

    def metadata(self, request: DemoRequest) -> Response:
        return Response(self._metadata_xml, content_type="application/samlmetadata+xml",
                        headers={"Cache-Control": "public, max-age=60"})

    # -- sending the AuthnRequest -------------------------------------------

    def _client_for_idp(self) -> tuple[Saml2Client, str]:
        """The client, built with the proxy's metadata at first use (not cached on failure)."""
        with self._lock:
            if self._client is None:
                try:
                    xml = fetch(self.idp_metadata_url).decode("utf-8")
                    md = InMemoryMetaData([uri_converter()], xml)
                    md.load()
                    idps = [eid for eid in md.keys() if md[eid].get("idpsso_descriptor")]
                except Exception:  # noqa: BLE001 - unreachable or broken metadata: tell the usager
                    raise PeerError("fournisseur_indisponible", "NC Connect indisponible",
                                    "Le service d'identification ne répond pas pour le moment. "
                                    "Réessayez dans quelques instants.", 503) from None
                if len(idps) != 1:
                    raise PeerError("fournisseur_indisponible", "NC Connect indisponible",
                                    "Les métadonnées de NC Connect sont inutilisables.", 503)
                config = SPConfig().load(self._config([xml]))
                config.attribute_converters[:] = [uri_converter()]
                self._client = Saml2Client(config=config)
                if self.crypto == "in_process":
                    install(self._client, "in_process")
                self._idp_entity_id = idps[0]
            return self._client, self._idp_entity_id

    def login(self, request: DemoRequest) -> Response:
        client, idp = self._client_for_idp()
        relay_state = new_token()  # 43 characters: within the binding's 80 bytes
        with self._lock:
            request_id, info = client.prepare_for_authenticate(
                entityid=idp, relay_state=relay_state, binding=BINDING_HTTP_REDIRECT,
                sign=True, sigalg=SIGN_ALG, digest_alg=DIGEST_ALG,
                **({"nameid_format": self.name_id_format} if self.name_id_format
                   else {"name_id_policy": None}))
        location = dict(info["headers"])["Location"]
        browser = self.browser_of(request) or new_token()
        self._outstanding.put(request_id, {"browser": browser, "relay_state": relay_state})
        response = redirect(location)
        self.remember_browser(response, browser)
        return response

    # -- receiving the Response ---------------------------------------------

    def acs(self, request: DemoRequest) -> Response:
        encoded = request.form.get("SAMLResponse", "")
        try:
            outer = response_from_string(post_xml(encoded))
        except (UndecodableMessage, Exception):  # noqa: BLE001 - hostile XML raises many types
            raise _invalid("reponse_illisible", "message illisible") from None
        if outer is None:
            raise _invalid("reponse_illisible", "ce n'est pas une réponse SAML")
        record = self._outstanding.take(outer.in_response_to) if outer.in_response_to else None
        if record is None:
            raise _invalid("reponse_inattendue", "elle ne répond à aucune demande en cours")
        if (self.browser_of(request) != record["browser"]
                or request.form.get("RelayState") != record["relay_state"]):
            raise _invalid("session_invalide", "elle répond à une demande d'un autre navigateur")
        if outer.destination != self.acs_url:
            raise _invalid("destination_invalide", "elle est adressée à un autre service")
        client, idp = self._client_for_idp()
        try:
            with self._lock:
                authn = client.parse_authn_request_response(
                    encoded, BINDING_HTTP_POST, outstanding={outer.in_response_to: "/"})
        except StatusError:  # reached only once the signature, if any, has been verified
            code = _status_name(outer)
            raise PeerError(code, "Connexion non aboutie",
                            "NC Connect n'a pas transmis votre identité : la connexion a été "
                            f"annulée ou refusée (statut SAML {code}).") from None
        except Exception:  # noqa: BLE001 - signature, schema, audience, time: all refusals
            raise _invalid("reponse_invalide",
                           "signature, audience ou validité incorrecte") from None
        if authn is None or authn.assertion is None:
            raise _invalid("reponse_invalide", "aucune assertion vérifiée")
        result = self._verified_result(authn, idp)
        self.last_result = result
        indexes = [s.session_index for s in authn.assertion.authn_statement if s.session_index]
        received = authn.name_id
        with self._lock:
            self._sessions[record["browser"]] = {
                "name_id": result["nameid"], "format": received.format,
                "name_qualifier": received.name_qualifier,
                "sp_name_qualifier": received.sp_name_qualifier,
                "session_index": indexes[0] if indexes else None}
            self.last_name_id = {"value": result["nameid"], "format": received.format}
        rows = [{"name": n, "label": urn_label(n), "value": result[n]}
                for n in ordered(list(result), URN_ORDER)]
        return self.page("resultat.html", rows=rows, protocol="SAML 2.0", logout_url="/logout")

    def has_session(self, browser: str) -> bool:
        """Whether the browser holding this cookie value is signed in here."""
        with self._lock:
            return browser in self._sessions

    # -- single logout ------------------------------------------------------

    def logout(self, request: DemoRequest) -> Response:
        """SP-initiated: forget our session, then ask NC Connect to end its own."""
        browser = self.browser_of(request)
        with self._lock:
            session = self._sessions.pop(browser, None) if browser else None
        if session is None:
            return self.page("accueil.html", protocol="Ce service utilise SAML 2.0.",
                             logged_out=True)
        client, idp = self._client_for_idp()
        binding = BINDING_HTTP_POST if request.args.get("binding") == "post" \
            else BINDING_HTTP_REDIRECT
        with self._lock:
            destination = client.metadata.single_logout_service(idp, binding, "idpsso")[0][
                "location"]
            # The NameID exactly as received (SAML Core §3.7.1).
            name_id = NameID(format=session["format"], text=session["name_id"],
                             name_qualifier=session["name_qualifier"],
                             sp_name_qualifier=session["sp_name_qualifier"])
            request_id, message = client.create_logout_request(
                destination, idp, name_id=name_id, reason=LOGOUT_REASON,
                session_indexes=[session["session_index"]] if session["session_index"] else None,
                sign=binding == BINDING_HTTP_POST and self.sign_logout_requests,
                sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG)
        relay_state = new_token()
        self._logouts.put(request_id, {"browser": browser, "relay_state": relay_state})
        return self._send(client, binding, destination, str(message), "SAMLRequest", relay_state,
                          sign=self.sign_logout_requests)

    def slo_redirect(self, request: DemoRequest) -> Response:
        return self._slo(request, BINDING_HTTP_REDIRECT, request.args)

    def slo_post(self, request: DemoRequest) -> Response:
        return self._slo(request, BINDING_HTTP_POST, request.form)

    def _slo(self, request: DemoRequest, binding: str, params: Any) -> Response:
        client, idp = self._client_for_idp()
        param = "SAMLRequest" if params.get("SAMLRequest") else "SAMLResponse"
        kind = "logout_request" if param == "SAMLRequest" else "logout_response"
        try:
            raw = redirect_xml(params.get(param, "")) if binding == BINDING_HTTP_REDIRECT \
                else post_xml(params.get(param, ""))
            xml = raw.decode("utf-8")
        except (UndecodableMessage, UnicodeDecodeError):
            raise _logout_invalid("message illisible") from None
        message = self._verified_logout_message(client, idp, binding, params, param, kind, xml)
        if message.destination != self.slo_urls[binding]:
            raise _logout_invalid("adressé à un autre service")
        if kind == "logout_response":
            return self._logout_answered(request, message, binding, params)
        return self._logout_asked(client, message, binding, params.get("RelayState") or "")

    def _verified_logout_message(self, client: Saml2Client, idp: str, binding: str,
                                 params: Any, param: str, kind: str, xml: str) -> Any:
        """The message, once its signature verified with the proxy's metadata key."""
        with self._lock:
            certs = [c for _n, c in client.metadata.certs(idp, "idpsso", "signing")]
            if binding == BINDING_HTTP_REDIRECT:
                fields = {k: params[k] for k in (param, "RelayState", "SigAlg", "Signature")
                          if params.get(k) is not None}
                if fields.get("SigAlg") != SIGN_ALG or "Signature" not in fields or not any(
                        _redirect_signed(fields, client, cert) for cert in certs):
                    raise _logout_invalid("signature absente ou invalide")
                reader = logout_request_from_string if kind == "logout_request" \
                    else logout_response_from_string
                message = reader(xml)
            else:
                try:
                    message = getattr(client.sec, f"correctly_signed_{kind}")(xml, must=True)
                except Exception:  # noqa: BLE001 - pysaml2 raises many types
                    raise _logout_invalid("signature absente ou invalide") from None
                if message.signature.signed_info.signature_method.algorithm != SIGN_ALG:
                    raise _logout_invalid("algorithme de signature refusé")
        if message is None or message.issuer is None or message.issuer.text.strip() != idp:
            raise _logout_invalid("émetteur inattendu")
        return message

    def _logout_asked(self, client: Saml2Client, message: Any, binding: str,
                      relay_state: str) -> Response:
        """NC Connect ends our session: the NameID and SessionIndex must be one we hold."""
        name_id = (message.name_id.text or "").strip() if message.name_id is not None else ""
        indexes = [(i.text or "").strip() for i in message.session_index]
        with self._lock:
            ended = [b for b, s in self._sessions.items() if s["name_id"] == name_id
                     and (not indexes or s["session_index"] in indexes)]
            for browser in ended:
                del self._sessions[browser]
            self.logout_requests.append({"name_id": name_id, "session_indexes": indexes,
                                         "binding": binding, "known": bool(ended),
                                         "reason": message.reason,
                                         "name_id_format": message.name_id.format
                                         if message.name_id is not None else None})
            response = client.create_logout_response(message, [binding], sign=False)
            text = str(client.sign(response, sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG)) \
                if binding == BINDING_HTTP_POST else str(response)
        return self._send(client, binding, response.destination, text, "SAMLResponse",
                          relay_state)

    def _logout_answered(self, request: DemoRequest, message: Any, binding: str,
                         params: Any) -> Response:
        record = self._logouts.take(message.in_response_to) if message.in_response_to else None
        if record is None or params.get("RelayState") != record["relay_state"]:
            raise _logout_invalid("elle ne répond à aucune déconnexion en cours")
        code = message.status.status_code
        with self._lock:
            self.logout_responses.append({
                "status": code.value, "binding": binding,
                "second": code.status_code.value if code.status_code is not None else None})
        return self.page("accueil.html", protocol="Ce service utilise SAML 2.0.",
                         logged_out=True)

    def _send(self, client: Saml2Client, binding: str, destination: str, xml: str,
              param: str, relay_state: str, sign: bool = True) -> Response:
        if binding == BINDING_HTTP_REDIRECT:
            with self._lock:
                info = client.apply_binding(binding, xml, destination, relay_state,
                                            response=param == "SAMLResponse", sign=sign,
                                            sigalg=SIGN_ALG)
            return redirect(dict(info["headers"])["Location"])
        fields = {param: base64.b64encode(xml.encode("utf-8")).decode("ascii")}
        if relay_state:
            fields["RelayState"] = relay_state
        return self.autopost(destination, fields)

    def _verified_result(self, authn: Any, idp: str) -> dict[str, str]:
        """Our own checks on what pysaml2 accepted, then NameID and attributes by ``Name``."""
        assertion = authn.assertion
        if authn.issuer() != idp or (assertion.issuer.text or "").strip() != idp:
            raise _invalid("reponse_invalide", "émetteur inattendu")
        if assertion.signature is None:
            raise _invalid("reponse_invalide", "assertion non signée")
        audiences = [a.text.strip() for r in assertion.conditions.audience_restriction
                     for a in r.audience if a.text] if assertion.conditions else []
        if self.entity_id not in audiences:
            raise _invalid("reponse_invalide", "assertion destinée à un autre service")
        if authn.name_id is None or not authn.name_id.text:
            raise _invalid("reponse_invalide", "identifiant de l'usager absent")
        result = {"nameid": authn.name_id.text.strip()}
        for statement in assertion.attribute_statement:
            for attribute in statement.attribute:
                values = [v.text for v in attribute.attribute_value if v.text is not None]
                if attribute.name and attribute.name != "nameid":
                    result[attribute.name] = ", ".join(values)
        return result


def _logout_invalid(why: str) -> PeerError:
    return PeerError("deconnexion_invalide", "Déconnexion refusée",
                     f"Le message de déconnexion de NC Connect a été refusé : {why}.")


def _redirect_signed(fields: dict[str, str], client: Saml2Client, cert: str) -> bool:
    try:
        return verify_redirect_signature(fields, client.sec.sec_backend, cert)
    except Exception:  # noqa: BLE001 - unsupported algorithm, broken key or signature
        return False


def make_demo_sp(base_url: str, key_path: Path, cert_path: Path, idp_metadata_url: str,
                 title: str, requested: list[str] | None = None,
                 slo_bindings: tuple[str, ...] = SLO_BINDINGS, **options: Any) -> DemoSP:
    """``options``: :class:`DemoSP`'s keyword options (``name_id_format``,
    ``sign_logout_requests``, ``encryption_keys``, ``crypto``)."""
    return DemoSP(base_url, key_path, cert_path, idp_metadata_url, title, requested,
                  slo_bindings, **options)
