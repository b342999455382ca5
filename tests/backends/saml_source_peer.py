"""A real SAML IdP (pysaml2 ``Server``) behind a small WSGI app, playing an identity source.

GET ``/sso/redirect`` verifies the proxy's signed AuthnRequest and answers with
an HTTP-POST form carrying a correctly signed response. Hostile tests build
their own responses for the recorded request with :meth:`SamlSourcePeer.response`
(pysaml2 options) and :meth:`SamlSourcePeer.resign` (edit the parsed response,
then sign the assertion again with the IdP's key).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from saml2 import BINDING_HTTP_REDIRECT, class_name, samlp
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
from saml2.config import IdPConfig
from saml2.metadata import create_metadata_string
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server
from saml2.sigver import get_xmlsec_binary, pre_signature_part, signed_instance_factory
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

NAME_ID = "nc-pers-0042"
#: The user as the IdP knows it (friendly names); sent as urn:oid names, NameFormat uri.
IDENTITY = {
    "givenName": ["Marie Louise"],
    "sn": ["Wamytan"],
    "dateOfBirth": ["1990-04-12"],
    "mail": ["marie@example.nc"],
}
#: The same user as SATOSA's internal attributes (attributs/dictionnaire.yaml).
INTERNAL = {
    "given_name": ["Marie Louise"],
    "family_name": ["Wamytan"],
    "birthdate": ["1990-04-12"],
    "email": ["marie@example.nc"],
}


@dataclass(frozen=True)
class SeenRequest:
    request_id: str
    acs_url: str
    sp_entity_id: str
    relay_state: str


class SamlSourcePeer:
    def __init__(self, base_url: str, key_path: Path, cert_path: Path) -> None:
        self.base_url = base_url
        self.entity_id = f"{base_url}/metadata"
        self.key_path = key_path
        self.cert_path = cert_path
        self.server: Server | None = None
        self.last_request: SeenRequest | None = None

    def _config(self, sp_metadata: str | None) -> IdPConfig:
        conf: dict[str, Any] = {
            "entityid": self.entity_id,
            "key_file": str(self.key_path),
            "cert_file": str(self.cert_path),
            "xmlsec_binary": get_xmlsec_binary(),
            "service": {"idp": {
                "endpoints": {"single_sign_on_service": [
                    (f"{self.base_url}/sso/redirect", BINDING_HTTP_REDIRECT)]},
                "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                "want_authn_requests_signed": True,
                "policy": {"default": {"lifetime": {"minutes": 5},
                                       "attribute_restrictions": None,
                                       "name_form": NAME_FORMAT_URI}},
            }},
        }
        if sp_metadata is not None:
            conf["metadata"] = {"inline": [sp_metadata]}
        return IdPConfig().load(conf)

    def metadata_xml(self) -> str:
        data = create_metadata_string(None, config=self._config(None))
        return data.decode() if isinstance(data, bytes) else data

    def trust_sp(self, sp_metadata: str) -> None:
        self.server = Server(config=self._config(sp_metadata))

    # -- responses -------------------------------------------------------------

    def response(self, seen: SeenRequest | None = None, *, identity: dict | None = None,
                 sign_assertion: bool = True, sign_alg: str = SIG_RSA_SHA256,
                 digest_alg: str = DIGEST_SHA256, **overrides: Any) -> str:
        """An authn response (XML) to ``seen`` (default: the last request received)."""
        assert self.server is not None
        seen = seen or self.last_request
        assert seen is not None
        args: dict[str, Any] = {
            "in_response_to": seen.request_id, "destination": seen.acs_url,
            "sp_entity_id": seen.sp_entity_id,
            "name_id": NameID(format=NAMEID_FORMAT_PERSISTENT, text=NAME_ID),
            "authn": {"class_ref": PASSWORDPROTECTEDTRANSPORT},
        }
        args.update(overrides)
        return str(self.server.create_authn_response(
            dict(IDENTITY if identity is None else identity), sign_assertion=sign_assertion,
            sign_response=False, sign_alg=sign_alg, digest_alg=digest_alg, **args))

    def error_response(self, status: str, seen: SeenRequest | None = None) -> str:
        assert self.server is not None
        seen = seen or self.last_request
        assert seen is not None
        return str(self.server.create_error_response(
            seen.request_id, seen.acs_url, (status, "refused by the test IdP"), sign=False))

    def resign(self, xml: str, edit: Callable[[samlp.Response], None],
               sign_alg: str = SIG_RSA_SHA256, digest_alg: str = DIGEST_SHA256) -> str:
        """Apply ``edit`` to the parsed response, then sign its assertion again (IdP key)."""
        assert self.server is not None
        response = samlp.response_from_string(xml)
        assertion = response.assertion[0]
        assertion.signature = None
        edit(response)
        assertion.signature = pre_signature_part(assertion.id, self.server.sec.my_cert, 1,
                                                 digest_alg=digest_alg, sign_alg=sign_alg)
        return signed_instance_factory(response, self.server.sec,
                                       [(class_name(assertion), assertion.id)])

    # -- WSGI ------------------------------------------------------------------

    def __call__(self, environ: dict, start_response) -> list[bytes]:
        if environ.get("PATH_INFO") != "/sso/redirect" or self.server is None:
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"not found"]
        query = dict(parse_qsl(environ.get("QUERY_STRING", "")))
        request = self.server.parse_authn_request(
            query["SAMLRequest"], BINDING_HTTP_REDIRECT, relay_state=query.get("RelayState"),
            sigalg=query.get("SigAlg"), signature=query.get("Signature"))
        message = request.message
        self.last_request = SeenRequest(
            request_id=message.id, acs_url=message.assertion_consumer_service_url,
            sp_entity_id=message.issuer.text, relay_state=query.get("RelayState", ""))
        return self._post_form(start_response, self.last_request.acs_url, {
            "SAMLResponse": base64.b64encode(self.response().encode()).decode(),
            "RelayState": self.last_request.relay_state})

    @staticmethod
    def _post_form(start_response, action: str, fields: dict[str, str]) -> list[bytes]:
        inputs = "".join(f'<input type="hidden" name="{html.escape(k)}" '
                         f'value="{html.escape(v)}">' for k, v in fields.items())
        body = (f'<html><body><form method="post" action="{html.escape(action)}">{inputs}'
                '<button>Continuer</button></form></body></html>').encode()
        start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                  ("Content-Length", str(len(body)))])
        return [body]

