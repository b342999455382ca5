"""From the identity source's answer to the grant a code stands for.

The service receives the pairwise ``sub`` derived by the pairwise micro-service
and only the claims it asked for among those minimisation released; ``auth_time``
and ``acr`` come from the source when it gave them.
"""

from __future__ import annotations

from satosa.attribute_mapping import AttributeMapper
from satosa.internal import InternalData

from idp.auth_instant import auth_time_of
from plugins.micro_services.pairwise import pairwise_subject_of

from .authorize import PendingAuthorization
from .claims import release
from .grants import CodeGrant

MAX_ACR = 256


def code_grant(pending: PendingAuthorization, internal_resp: InternalData,
               converter: AttributeMapper) -> CodeGrant:
    subject = pairwise_subject_of(internal_resp)
    attributes = internal_resp.attributes if isinstance(internal_resp.attributes, dict) else {}
    external = converter.from_internal("openid", attributes)
    claims = release(external, pending.claims)
    auth_info = internal_resp.auth_info
    acr = getattr(auth_info, "auth_class_ref", None) if auth_info is not None else None
    stamp = getattr(auth_info, "timestamp", None) if auth_info is not None else None
    return CodeGrant(
        client_id=pending.client_id,
        redirect_uri=pending.redirect_uri,
        nonce=pending.nonce,
        code_challenge=pending.code_challenge,
        sub=subject,
        claims=claims,
        id_token_claims=list(pending.id_token_claims),
        auth_time=auth_time_of(stamp),
        acr=acr if isinstance(acr, str) and 0 < len(acr) <= MAX_ACR else None,
    )
