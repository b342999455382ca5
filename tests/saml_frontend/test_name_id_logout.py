"""A transient NameID through single logout, with the demo peers under the real proxy: the SSO
session records the NameID the SP received, an SP-initiated logout naming it ends the session,
and a logout started elsewhere sends the SP exactly that NameID."""

from __future__ import annotations

from saml2.samlp import STATUS_SUCCESS

from idp.demo.citizens import CITIZENS
from idp.sso.session import NAMESPACE
from idp.testbed.browser import Browser
from tests.logout.steps import services_of, session_of, sign_in_to

from .conftest import TRANSIENT_FORMAT

CITIZEN = CITIZENS[2]


def _received(peers) -> dict:
    name_id = peers.apps["sp-transient"].last_name_id
    assert name_id is not None and name_id["format"] == TRANSIENT_FORMAT
    return name_id


def test_the_session_records_the_transient_name_id_the_sp_received(peers, peers_store):
    browser = Browser()
    sign_in_to(peers, browser, CITIZEN, ["sp-transient"])
    received = _received(peers)

    entry = services_of(peers_store, session_of(peers_store, browser)["sid"])["sp-transient"]

    assert (entry["subject"], entry["name_id_format"]) == (received["value"], TRANSIENT_FORMAT)


def test_each_login_gets_a_new_transient_name_id(peers):
    sign_in_to(peers, Browser(), CITIZEN, ["sp-transient"])
    first = _received(peers)["value"]
    sign_in_to(peers, Browser(), CITIZEN, ["sp-transient"])

    assert _received(peers)["value"] != first


def test_sp_initiated_logout_naming_the_transient_name_id_ends_the_session(peers, peers_store):
    browser = Browser()
    sign_in_to(peers, browser, CITIZEN, ["sp-transient", "rp-a"])
    record = session_of(peers_store, browser)
    sp, rp = peers.apps["sp-transient"], peers.apps["rp-a"]
    answered, told = len(sp.logout_responses), len(rp.backchannel_logouts)

    browser.get(f"{peers.url('sp-transient')}/logout")

    assert peers_store.get(NAMESPACE, record["key"]) is None
    assert len(rp.backchannel_logouts) == told + 1
    [response] = sp.logout_responses[answered:]
    assert response["status"] == STATUS_SUCCESS and response["second"] is None


def test_a_logout_started_at_another_service_sends_the_sp_its_transient_name_id(peers):
    browser = Browser()
    sign_in_to(peers, browser, CITIZEN, ["sp-transient", "rp-a"])
    received = _received(peers)
    sp = peers.apps["sp-transient"]
    asked = len(sp.logout_requests)

    browser.get(f"{peers.url('rp-a')}/logout")

    [request] = sp.logout_requests[asked:]
    assert (request["name_id"], request["name_id_format"]) == (received["value"],
                                                               TRANSIENT_FORMAT)
    assert request["known"]  # the demo SP held a session under exactly that NameID
