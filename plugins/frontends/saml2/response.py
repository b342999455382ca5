"""Signed SAML Responses, built by pysaml2's ``Server``: success and protocol errors.

Both the Assertion and the Response carry an enveloped RSA-SHA256 signature with
SHA-256 digests, whatever pysaml2's defaults are. The NameID is the persistent
pairwise identifier for the SP, qualified by both entity ids.
"""

from __future__ import annotations

import base64
from typing import Any

from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server

from idp.auth_instant import auth_time_of

from .idp_config import DIGEST_ALG, SIGN_ALG

#: AuthnContextClassRef when the source did not say how the usager authenticated.
UNSPECIFIED_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"


class ResponseBuildError(RuntimeError):
    """pysaml2 did not return a signed document (never expected; never a partial answer)."""


def persistent_name_id(value: str, idp_entity_id: str, sp: str) -> NameID:
    return NameID(format=NAMEID_FORMAT_PERSISTENT, text=value, name_qualifier=idp_entity_id,
                  sp_name_qualifier=sp)


def _signed_text(result: Any) -> str:
    if not isinstance(result, str):
        raise ResponseBuildError(f"pysaml2 returned {type(result).__name__}, not a signed text")
    return result


def success_response(server: Server, *, request_id: str, acs: str, sp: str, name_id: NameID,
                     identity: dict[str, list[str]], auth_class_ref: str | None,
                     authn_instant: Any) -> str:
    """The signed ``<Response>`` XML carrying one signed ``<Assertion>``."""
    authn = {"class_ref": auth_class_ref or UNSPECIFIED_CONTEXT,
             "authn_instant": auth_time_of(authn_instant)}
    result = server.create_authn_response(
        identity=identity, in_response_to=request_id, destination=acs, sp_entity_id=sp,
        name_id=name_id, authn=authn, sign_response=True, sign_assertion=True,
        encrypt_assertion=False, sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG)
    return _signed_text(result)


def error_response(server: Server, *, request_id: str, acs: str, status_code: str) -> str:
    """A signed ``<Response>`` with top-level Responder and ``status_code`` as second level."""
    result = server.create_error_response(
        request_id, acs, (status_code, None), sign=True, sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG)
    return _signed_text(result)


def encode(xml: str) -> str:
    """``SAMLResponse`` form value (HTTP-POST binding: base64, no deflate)."""
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")
