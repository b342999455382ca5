"""Pairwise subject identifiers: one stable pseudonym per citizen and per service (or sector).

SATOSA's OIDC frontend salts ``sub`` with a value regenerated at each start; ours
is an HMAC under a secret kept in the data folder, so it survives restarts and is
the same on every worker and host. It is computed from the identity pivot when the
source gives it complete, so a citizen keeps one identifier at a service whichever
source they use; otherwise from the source's own subject (see
:mod:`idp.dictionary.pivot`). It runs before minimisation, which may withhold the
very attributes the pivot is made of.

Frontends accept only a subject this service marked ``pairwise``: if the chain were
ever misconfigured, they refuse rather than leak a source's identifier.

It also derives the citizen's *account key*, NC Connect's own pairwise identifier
(sector ``ncconnect:compte``), under which consents, connection history and
sessions are filed. It is kept in the server-side flow state, never sent out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import ResponseMicroService
from satosa.response import Response

from idp import correlation, login_trail
from idp.dictionary.pivot import subject_basis
from idp.errors import FlowError
from idp.keys import read_secret
from idp.pairwise import pairwise_id

logger = logging.getLogger("ncconnect.pairwise")

SUBJECT_TYPE = "pairwise"
#: Sector of NC Connect's own identifier for a citizen (consents, history, /mon-compte).
ACCOUNT_SECTOR = "ncconnect:compte"
#: Flow-state key holding the account key of the citizen being logged in (the application
#: binds it to the audit lines of the login's next steps).
CITIZEN_STATE_KEY = login_trail.CITIZEN_STATE_KEY


class PairwiseSubject(ResponseMicroService):
    def __init__(self, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: requester -> pairwise sector ("service:<id>" or "sector:<name>").
        self.sectors: dict[str, str] = dict(config["sectors"])
        self.secret = read_secret(Path(config["pairwise_secret_path"]))

    def process(self, context: Context, data: InternalData) -> Response:
        sector = self.sectors.get(data.requester)
        if sector is None:
            raise FlowError("service_non_autorise", 403, "pairwise: requester not in the registry")
        subject = data.subject_id
        if not isinstance(subject, str) or not subject:
            raise FlowError("reponse_source_invalide", detail="identity source gave no subject")
        attributes = data.attributes if isinstance(data.attributes, dict) else {}
        basis = subject_basis(attributes, subject)
        data.subject_id = pairwise_id(self.secret, sector, basis)
        data.subject_type = SUBJECT_TYPE
        context.state[CITIZEN_STATE_KEY] = pairwise_id(self.secret, ACCOUNT_SECTOR, basis)
        correlation.bind_citizen(context.state[CITIZEN_STATE_KEY])
        logger.info("pairwise subject derived",
                    extra={"from_pivot": basis.startswith("pivot\x1f")})
        return super().process(context, data)


def pairwise_subject_of(data: InternalData) -> str:
    """The subject a frontend may send: only one derived by :class:`PairwiseSubject`."""
    if data.subject_type != SUBJECT_TYPE or not isinstance(data.subject_id, str) \
            or not data.subject_id:
        raise FlowError("erreur_interne", 500, "response without a pairwise subject")
    return data.subject_id


def citizen_of(context: Context) -> str:
    """The account key :class:`PairwiseSubject` derived for this flow's citizen."""
    key = context.state.get(CITIZEN_STATE_KEY) if context.state is not None else None
    if not isinstance(key, str) or not key:
        raise FlowError("session_expiree", detail="no citizen account key in the flow")
    return key
