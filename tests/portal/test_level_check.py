"""The portal checks the level of the answer itself, whatever the steps before it did.

The backends already refuse an answer below the level the portal requested (see
test_enrolment); this calls the frontend's answer handler in process, with the proxy's real
store and configuration, on answers the chain should never let through."""

from __future__ import annotations

import pytest
from satosa.context import Context
from satosa.internal import AuthenticationInformation, InternalData
from satosa.state import State

from idp import loa
from idp.assemble import ADMIN_REQUESTER, _admin_frontend
from idp.settings import load_settings
from plugins.frontends.admin import enrolment
from plugins.frontends.admin.frontend import AdminFrontend
from plugins.frontends.admin.roles import Roles
from plugins.micro_services.pairwise import CITIZEN_STATE_KEY

ACCOUNT = "cle-de-compte-de-test-niveau"


@pytest.fixture
def frontend(portal) -> AdminFrontend:
    conf = _admin_frontend(load_settings(portal.fed.config))
    return AdminFrontend(lambda *a: None, {"attributes": {}}, conf["config"], portal.url,
                         conf["name"])


def _answer(frontend: AdminFrontend, class_ref: str | None, invitation: str):
    context = Context()
    context.state = State()
    context.state[CITIZEN_STATE_KEY] = ACCOUNT
    context.state[frontend.name] = {"requester": ADMIN_REQUESTER, "lang": "fr",
                                    "back": "accueil", "invitation": invitation}
    answer = InternalData(auth_info=AuthenticationInformation(auth_class_ref=class_ref),
                          requester=ADMIN_REQUESTER)
    return frontend.handle_authn_response(context, answer)


@pytest.mark.parametrize("class_ref", [loa.URIS[loa.LOW], "eidas1", None,
                                       "urn:oasis:names:tc:SAML:2.0:ac:classes:Password"])
def test_an_answer_below_substantial_binds_nothing_and_keeps_the_invitation(
        portal, frontend, class_ref):
    invitation = enrolment.invite(portal.store, "admin", 600)
    resp = _answer(frontend, class_ref, invitation.key)
    assert resp.status.startswith("403")
    assert "Niveau de sécurité insuffisant" in resp.message
    assert "niveau substantiel ou élevé" in resp.message
    assert enrolment.pending(portal.store, invitation.key)
    assert Roles(portal.store, 395).roles_of(ACCOUNT) == []
    assert not any(h.startswith("__Secure-ncc_admin=") for _, h in resp.headers
                   if _ == "Set-Cookie")


def test_an_answer_at_high_binds_the_role(portal, frontend):
    invitation = enrolment.invite(portal.store, "dpo", 600)
    resp = _answer(frontend, loa.URIS[loa.HIGH], invitation.key)
    assert resp.status.startswith("303")
    assert [h.role for h in Roles(portal.store, 395).roles_of(ACCOUNT)] == ["dpo"]
    assert not enrolment.pending(portal.store, invitation.key)
