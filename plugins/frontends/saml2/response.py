"""Signed SAML Responses, built by pysaml2's ``Server``: success and protocol errors.

Both the Assertion and the Response carry an enveloped RSA-SHA256 signature with
SHA-256 digests, whatever pysaml2's defaults are. The NameID is the one
:mod:`.name_id` chose for the SP. For an SP that must get it encrypted, the signed
assertion travels as an ``EncryptedAssertion`` (:mod:`.encryption`), inside a signed
Response.

The AuthnStatement states when the citizen really authenticated at the source
(``AuthnInstant``, replayed from the SSO session), the eIDAS level reached
(``AuthnContextClassRef``) and, when the login belongs to an SSO session, the SP's
own ``SessionIndex`` (:func:`idp.sso.session.service_sid`), which single logout
will name; otherwise pysaml2's random one.
"""

from __future__ import annotations

import base64
from typing import Any

from saml2.assertion import authn_statement
from saml2.saml import NameID
from saml2.server import Server

from idp.auth_instant import auth_time_of

from .encryption import check_encrypted
from .idp_config import DIGEST_ALG, SIGN_ALG

#: AuthnContextClassRef when the source did not say how the usager authenticated.
UNSPECIFIED_CONTEXT = "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"


class ResponseBuildError(RuntimeError):
    """pysaml2 did not return a signed document (never expected; never a partial answer)."""


def _signed_text(result: Any) -> str:
    if not isinstance(result, str):
        raise ResponseBuildError(f"pysaml2 returned {type(result).__name__}, not a signed text")
    return result


def success_response(server: Server, *, request_id: str, acs: str, sp: str, name_id: NameID,
                     identity: dict[str, list[str]], auth_class_ref: str | None,
                     authn_instant: Any, session_index: str | None = None,
                     encrypt: bool = False) -> str:
    """The signed ``<Response>`` XML carrying one signed ``<Assertion>``, encrypted for the SP
    when ``encrypt``."""
    statement = authn_statement(authn_class=auth_class_ref or UNSPECIFIED_CONTEXT,
                                authn_instant=auth_time_of(authn_instant))
    if session_index:
        statement.session_index = session_index
    # pysaml2 7.5's create_authn_response drops ``authn_statement`` (and so our SessionIndex)
    # on its way to _authn_response: we make the same two calls it makes, passing it on.
    args = server.gather_authn_response_args(
        sp, None, None, name_id=name_id, sign_response=True, sign_assertion=True,
        encrypt_assertion=encrypt, encrypt_assertion_self_contained=True, pefim=False)
    result = server._authn_response(  # noqa: SLF001 - see above
        request_id, acs, sp, identity, authn_statement=statement, sign_alg=SIGN_ALG,
        digest_alg=DIGEST_ALG, **args)
    text = _signed_text(result)
    if encrypt:
        check_encrypted(text)
    return text


def error_response(server: Server, *, request_id: str, acs: str, status_code: str) -> str:
    """A signed ``<Response>`` with top-level Responder and ``status_code`` as second level."""
    result = server.create_error_response(
        request_id, acs, (status_code, None), sign=True, sign_alg=SIGN_ALG, digest_alg=DIGEST_ALG)
    return _signed_text(result)


def encode(xml: str) -> str:
    """``SAMLResponse`` form value (HTTP-POST binding: base64, no deflate)."""
    return base64.b64encode(xml.encode("utf-8")).decode("ascii")
