"""The signed AuthnRequest we send to the IdP over HTTP-Redirect.

Signed with RSA-SHA256 over the query string (the Redirect binding's detached
signature), asking for the response at our single ACS with HTTP-POST.
"""

from __future__ import annotations

from dataclasses import dataclass

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256


@dataclass(frozen=True)
class OutgoingRequest:
    request_id: str
    location: str


def redirect_request(client: Saml2Client, idp_entity_id: str, acs_url: str,
                     relay_state: str) -> OutgoingRequest:
    request_id, info = client.prepare_for_authenticate(
        entityid=idp_entity_id,
        relay_state=relay_state,
        binding=BINDING_HTTP_REDIRECT,
        response_binding=BINDING_HTTP_POST,
        sign=True,
        sigalg=SIG_RSA_SHA256,
        digest_alg=DIGEST_SHA256,
        assertion_consumer_service_url=acs_url,
    )
    location = dict(info["headers"])["Location"]
    return OutgoingRequest(str(request_id), location)
