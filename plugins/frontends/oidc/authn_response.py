"""From the identity source's answer to the grant a code stands for.

The service receives the pairwise ``sub`` derived by the pairwise micro-service
and only the claims it asked for among those minimisation released. ``auth_time`` is
when the citizen really authenticated at the source (kept and replayed by the SSO
session). ``acr`` states the eIDAS level reached, as a URI or as ``eidasN`` when
the service asked in that style (:meth:`~idp.authn_requirements.Requirements.state_level`);
a response below the level the request required is never turned into a code.
"""

from __future__ import annotations

from satosa.attribute_mapping import AttributeMapper
from satosa.internal import InternalData

from idp.auth_instant import auth_time_of
from idp.authn_requirements import Requirements
from plugins.micro_services.pairwise import pairwise_subject_of

from .authorize import PendingAuthorization
from .claims import release
from .grants import CodeGrant


def code_grant(pending: PendingAuthorization, internal_resp: InternalData,
               converter: AttributeMapper, req: Requirements | None = None,
               sid: str | None = None) -> CodeGrant:
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
        acr=(req or Requirements()).state_level(acr),
        sid=sid,
    )
