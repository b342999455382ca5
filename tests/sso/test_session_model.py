"""The session record, its lifetimes and the reuse decision, on the real stores; the level
rules on their own."""

from __future__ import annotations

import time

import pytest
from saml2.saml import AuthnContextClassRef, AuthnContextDeclRef
from saml2.samlp import AuthnRequest, RequestedAuthnContext

from idp import loa
from idp.authn_requirements import LevelNotMet, Requirements
from idp.errors import FlowError
from idp.sso.session import (
    INDEX_NAMESPACE,
    NAMESPACE,
    SessionStore,
    cookie_header,
    digest,
    new_sid,
    service_sid,
)
from idp.stores import open_store
from plugins.frontends.saml2.sso import requirements_of_request
from plugins.micro_services.session import why_not_reused

SERVICE = {"service_id": "svc", "sources": ["src-op"], "loa_min": "low"}


@pytest.fixture(params=["embedded", "redis"])
def backing(request, tmp_path, redis_server):
    if request.param == "redis":
        return open_store(redis_server.url)
    return open_store(f"sqlite:///{tmp_path}/store.db")


def new_session(sessions: SessionStore, now: float, auth_time: int | None = None,
                level: str = "substantial"):
    return sessions.create(sid=new_sid(), citizen=f"citoyen-{new_sid()}", source="src-op",
                           subject="src-op:abc", attributes={"given_name": ["Léa"]},
                           auth_time=auth_time or int(now), loa=level, acr=loa.URIS[level],
                           issuer="https://source.test", now=now)


def test_a_session_is_found_by_its_cookie_and_stored_only_under_its_hash(backing):
    sessions = SessionStore(backing, idle=600, absolute=3600)
    now = time.time()
    cookie, session = new_session(sessions, now)

    assert sessions.find(cookie, now) == session
    assert session.key == digest(cookie) and cookie not in str(session.to_record(sessions.at_rest))
    assert backing.get(NAMESPACE, cookie) is None
    assert sessions.sessions_of(session.citizen)[session.sid]["key"] == session.key
    assert sessions.find("x" * 43, now) is None


def test_a_late_use_never_brings_back_a_session_that_was_logged_out(backing):
    sessions = SessionStore(backing, idle=600, absolute=3600)
    now = time.time()
    cookie, session = new_session(sessions, now)
    found = sessions.find(cookie, now)  # a request read the session...
    sessions.close(session)  # ...a logout ended it...
    assert sessions.touch(found, now + 1) is None  # ...and the request's update is refused
    assert sessions.find(cookie, now + 2) is None
    assert session.sid not in sessions.sessions_of(session.citizen)


def test_an_unused_session_ends_after_the_idle_lifetime(backing):
    sessions = SessionStore(backing, idle=600, absolute=3600)
    now = time.time()
    cookie, _ = new_session(sessions, now)

    assert sessions.find(cookie, now + 599) is not None
    assert sessions.find(cookie, now + 601) is None


def test_use_renews_the_idle_lifetime_but_never_the_absolute_one(backing):
    sessions = SessionStore(backing, idle=600, absolute=1000)
    now = int(time.time())
    cookie, session = new_session(sessions, now)

    sessions.touch(session, now + 500)

    assert sessions.find(cookie, now + 900) is not None
    assert sessions.find(cookie, now + 1001) is None
    assert sessions.ttl(session, now + 900) == 100


def test_the_store_itself_forgets_an_idle_session(backing):
    sessions = SessionStore(backing, idle=1, absolute=300)
    cookie, session = new_session(sessions, time.time())

    time.sleep(2.1)

    assert backing.get(NAMESPACE, digest(cookie)) is None
    assert backing.items(INDEX_NAMESPACE, session.citizen) == {}


def test_ending_a_session_forgets_the_record_the_index_and_its_services(backing):
    sessions = SessionStore(backing, idle=600, absolute=3600)
    now = time.time()
    cookie, session = new_session(sessions, now)
    sessions.note_service(session.sid, "svc", {"service_id": "svc"}, 3600)

    sessions.end(session)

    assert sessions.find(cookie, now) is None
    assert sessions.sessions_of(session.citizen) == {}
    assert sessions.services(session.sid) == {}


def test_each_service_sees_its_own_stable_session_id():
    sid = new_sid()

    assert service_sid(sid, "a") == service_sid(sid, "a")
    assert service_sid(sid, "a") != service_sid(sid, "b")
    assert service_sid(sid, "a") != service_sid(new_sid(), "a")
    assert sid not in service_sid(sid, "a")


def test_the_cookie_is_host_wide_secure_httponly_and_cross_site():
    assert cookie_header("v" * 43, 28800) == ("__Host-ncc_session=" + "v" * 43 + "; Path=/; "
                                              "Max-Age=28800; HttpOnly; Secure; SameSite=None")


# -- the reuse decision ---------------------------------------------------------------


@pytest.fixture
def session(tmp_path):
    sessions = SessionStore(open_store(f"sqlite:///{tmp_path}/d.db"), idle=600, absolute=3600)
    return new_session(sessions, time.time(), auth_time=int(time.time()) - 100)[1]


def test_a_session_answers_a_request_that_demands_nothing_special(session):
    assert why_not_reused(session, SERVICE, Requirements(), time.time()) is None


@pytest.mark.parametrize(("requirements", "reason"), [
    (Requirements(force=True), "fresh_authentication_asked"),
    (Requirements(max_age=50), "older_than_max_age"),
    (Requirements(loa_min="high"), "level_too_low"),
    (Requirements(claimable=("low",), loa_min="low"), None),
    (Requirements(claimable=("high",), loa_min="high"), "level_too_low"),
])
def test_a_session_does_not_answer_what_it_cannot_satisfy(session, requirements, reason):
    assert why_not_reused(session, SERVICE, requirements, time.time()) == reason


def test_a_session_from_a_source_the_service_does_not_accept_is_not_reused(session):
    other = {**SERVICE, "sources": ["src-idp"]}

    assert why_not_reused(session, other, Requirements(), time.time()) == "source_not_accepted"


# -- levels -------------------------------------------------------------------------------


def test_a_source_is_believed_up_to_its_registered_level_never_above():
    assert loa.level_reached("s", "substantial", loa.URIS["high"]) == "substantial"
    assert loa.level_reached("s", "substantial", "eidas2") == "substantial"


@pytest.mark.parametrize("returned", [loa.URIS["low"], "eidas1"])
def test_a_source_stating_less_than_its_ceiling_reaches_what_it_states(returned):
    assert loa.level_reached("s", "substantial", returned) == "low"


@pytest.mark.parametrize("returned", [loa.URIS["low"], "eidas1"])
def test_a_level_below_what_the_login_requires_is_refused(returned):
    with pytest.raises(FlowError) as refused:
        loa.level_reached("s", "substantial", returned, required="substantial")
    assert refused.value.code == "niveau_insuffisant"
    assert "requires substantial" in refused.value.detail


@pytest.mark.parametrize("returned", [None, "",
                                      "urn:oasis:names:tc:SAML:2.0:ac:classes:unspecified"])
def test_a_source_stating_no_level_it_mapped_is_refused(returned):
    with pytest.raises(FlowError) as refused:
        loa.level_reached("s", "substantial", returned)
    assert refused.value.code == "niveau_insuffisant"
    assert "loa_mapping" in refused.value.detail


def test_a_mapped_source_value_reaches_its_mapped_level():
    mapping = {"values": {"loa-2": "substantial", "loa-1": "low"}}
    assert loa.level_reached("s", "substantial", "loa-2", mapping) == "substantial"
    assert loa.level_reached("s", "substantial", "loa-1", mapping) == "low"


def test_an_answer_stating_nothing_reaches_the_mapped_unstated_level():
    assert loa.level_reached("s", "substantial", None, {"unstated": "low"}) == "low"
    assert loa.level_reached("s", "low", "", {"unstated": "low"}) == "low"


def test_a_mapping_names_the_partner_file_setting_for_an_unmapped_value():
    with pytest.raises(FlowError) as refused:
        loa.level_reached("lemon", "substantial", "loa-5", {"values": {"loa-2": "substantial"}})
    assert "'loa-5'" in refused.value.detail and "loa_mapping.values" in refused.value.detail


def test_a_response_never_states_a_level_below_the_one_required():
    with pytest.raises(LevelNotMet):
        Requirements(loa_min="high").state_level(loa.URIS["substantial"])
    with pytest.raises(LevelNotMet):
        Requirements(loa_min="substantial").state_level("urn:autre:niveau")
    assert Requirements().state_level("urn:autre:niveau") == "urn:autre:niveau"


def _saml_request(refs=(), comparison=None, decl=False, force=False, passive=False):
    context = None
    if refs or decl:
        context = RequestedAuthnContext(
            authn_context_class_ref=[AuthnContextClassRef(text=r) for r in refs],
            authn_context_decl_ref=AuthnContextDeclRef(text="urn:decl") if decl else None,
            comparison=comparison)
    return AuthnRequest(requested_authn_context=context,
                        force_authn="true" if force else None,
                        is_passive="true" if passive else None)


def test_saml_force_and_passive_become_requirements():
    req = requirements_of_request(_saml_request(force=True, passive=True), True, True)
    assert req == Requirements(force=True, passive=True)


@pytest.mark.parametrize(("comparison", "refs", "loa_min", "claimable"), [
    (None, ["substantial"], "substantial", ("substantial",)),
    ("exact", ["high", "substantial"], "substantial", ("substantial", "high")),
    ("minimum", ["substantial"], "substantial", ("low", "substantial", "high")),
    ("better", ["low"], "substantial", ("low", "substantial", "high")),
    ("maximum", ["substantial"], "low", ("low", "substantial")),
])
def test_saml_requested_contexts_become_a_minimum_and_the_levels_that_may_be_stated(
        comparison, refs, loa_min, claimable):
    req = requirements_of_request(_saml_request([loa.URIS[r] for r in refs], comparison),
                                  False, False)
    assert req is not None
    assert (req.loa_min, req.claimable) == (loa_min, claimable)


@pytest.mark.parametrize("request_", [
    _saml_request(["urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"]),
    _saml_request(["eidas2"]),
    _saml_request(decl=True),
    _saml_request([loa.URIS["high"]], "better"),
])
def test_saml_contexts_nc_connect_cannot_provide_are_refused(request_):
    assert requirements_of_request(request_, False, False) is None


def test_exact_states_the_highest_listed_level_the_authentication_reaches():
    req = Requirements(loa_min="low", claimable=("low", "substantial"))
    assert req.state_level(loa.URIS["high"]) == loa.URIS["substantial"]
    assert Requirements(acr_style=loa.STYLE_EIDAS).state_level(loa.URIS["high"]) == "eidas3"
