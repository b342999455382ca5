"""Each kind of record keyed by a bearer secret, on both real stores: nothing readable in the
store, nothing opened with another secret, a record of an older version fails closed."""

from __future__ import annotations

import json
import time

from idp.sso.logout_plan import NAMESPACE as PLAN_NAMESPACE
from idp.sso.logout_plan import LogoutPlan
from idp.sso.session import NAMESPACE, SERVICES_NAMESPACE, SessionStore, digest, new_sid
from plugins.frontends.account.session import NAMESPACE as ACCOUNT_NAMESPACE
from plugins.frontends.account.session import AccountSessions, store_key
from plugins.frontends.oidc.grants import CODE_NS, TOKEN_NS, CodeGrant, GrantStore
from plugins.frontends.oidc.settings import Lifetimes

GIVEN, FAMILY, BIRTH, EMAIL = "Marie-Claire", "Wamytan", "1987-05-14", "marie.wamytan@example.nc"
VALUES = (GIVEN, FAMILY, BIRTH, EMAIL)
SOURCE_NAME_ID = "nameid-issued-by-the-source-42"
LIFETIMES = Lifetimes(code=60, access_token=600, id_token=600)


class Context:
    """Only what :meth:`AccountSessions.current` reads."""

    def __init__(self, cookie: str) -> None:
        self.cookie = cookie


def _readable(record: object) -> list[str]:
    text = json.dumps(record, ensure_ascii=False)
    return [v for v in (*VALUES, SOURCE_NAME_ID) if v in text]


def _session(store, at_rest):
    sessions = SessionStore(store, idle=600, absolute=3600, at_rest=at_rest)
    cookie, session = sessions.create(
        sid=new_sid(), citizen="citizen-key", source="src-idp", subject=f"src-idp:{EMAIL}",
        attributes={"given_name": [GIVEN], "family_name": [FAMILY], "birthdate": [BIRTH]},
        auth_time=int(time.time()), loa="substantial", acr="acr", issuer="https://idp.test",
        now=time.time(), source_session={"name_id": {"value": SOURCE_NAME_ID}})
    return sessions, cookie, session


def test_the_sso_session_record_holds_no_attribute_subject_or_source_name_id(store, at_rest):
    _, cookie, session = _session(store, at_rest)

    record = store.get(NAMESPACE, digest(cookie))

    assert record is not None and _readable(record) == []
    assert record["source"] == "src-idp" and record["loa"] == "substantial"


def test_the_sso_session_opens_with_its_cookie_only(store, at_rest):
    sessions, cookie, session = _session(store, at_rest)
    other_cookie = sessions.create(
        sid=new_sid(), citizen="someone", source="src-op", subject="src-op:x", attributes={},
        auth_time=int(time.time()), loa="low", acr="acr", issuer=None, now=time.time())[0]

    found = sessions.find(cookie, time.time())
    assert found is not None and found.attributes["family_name"] == [FAMILY]
    assert found.subject == f"src-idp:{EMAIL}"
    # The record moved under another cookie's key: that cookie does not open it.
    store.put(NAMESPACE, digest(other_cookie), store.get(NAMESPACE, session.key), 600)
    assert sessions.find(other_cookie, time.time()) is None


def test_without_the_cookie_a_session_gives_logout_what_it_needs_and_no_attribute(store,
                                                                                 at_rest):
    sessions, _, session = _session(store, at_rest)

    found = sessions.by_sid("citizen-key", session.sid, time.time())

    assert found is not None and found.attributes == {} and found.subject == ""
    assert found.source_session == {"name_id": {"value": SOURCE_NAME_ID}}


def test_the_source_name_id_does_not_open_with_another_at_rest_key(store, at_rest,
                                                                  other_at_rest):
    _, _, session = _session(store, at_rest)
    elsewhere = SessionStore(store, idle=600, absolute=3600, at_rest=other_at_rest)

    assert elsewhere.by_sid("citizen-key", session.sid, time.time()) is None


def test_a_session_record_of_an_older_version_fails_closed(store, at_rest):
    sessions, cookie, session = _session(store, at_rest)
    old = {k: v for k, v in store.get(NAMESPACE, session.key).items() if k != "sealed"}
    store.put(NAMESPACE, session.key, {**old, "subject": "src-idp:x", "attributes": {},
                                       "source_session": None}, 600)

    assert sessions.find(cookie, time.time()) is None
    assert sessions.by_sid("citizen-key", session.sid, time.time()) is None


def test_the_subject_a_service_received_is_sealed_at_rest(store, at_rest, other_at_rest):
    sessions, _, session = _session(store, at_rest)
    sessions.note_service(session.sid, "sp-a", {"service_id": "sp-a", "protocol": "saml2",
                                                "sid": "index", "subject": EMAIL}, 600)

    stored = store.items(SERVICES_NAMESPACE, session.sid)["sp-a"]
    assert _readable(stored) == [] and stored["protocol"] == "saml2"
    assert sessions.services(session.sid)["sp-a"]["subject"] == EMAIL
    elsewhere = SessionStore(store, idle=600, absolute=3600, at_rest=other_at_rest)
    assert elsewhere.services(session.sid) == {}


def test_a_logout_plan_keeps_the_name_ids_sealed_at_rest(store, at_rest, other_at_rest):
    plan = LogoutPlan.new({"kind": "page"})
    plan.steps.append({"kind": "sp", "service_id": "sp-a", "name_id": EMAIL,
                       "session_index": "i"})
    plan.current = {"kind": "source", "source_id": "src-idp", "subject": f"src-idp:{EMAIL}",
                    "source_session": {"name_id": {"value": SOURCE_NAME_ID}}}
    plan.informed.append("rp-a")
    plan.save(store, at_rest)

    assert _readable(store.get(PLAN_NAMESPACE, plan.id)) == []
    loaded = LogoutPlan.load(store, plan.id, at_rest)
    assert loaded is not None and loaded.steps == plan.steps and loaded.current == plan.current
    assert loaded.informed == ["rp-a"]
    assert LogoutPlan.load(store, plan.id, other_at_rest) is None


def _grant() -> CodeGrant:
    return CodeGrant(client_id="rp-a", redirect_uri="https://rp.test/cb", nonce="n",
                     code_challenge=None, sub="pairwise-sub-123456",
                     claims={"given_name": GIVEN, "family_name": FAMILY, "birthdate": BIRTH,
                             "email": EMAIL},
                     id_token_claims=["given_name"], auth_time=int(time.time()), acr=None)


def test_an_authorization_code_record_holds_no_claim_and_opens_with_its_code_only(store):
    grants = GrantStore(store, LIFETIMES)
    code, other = grants.issue_code(_grant()), grants.issue_code(_grant())

    record = store.get(CODE_NS, digest(code))
    assert _readable(record) == [] and "pairwise-sub-123456" not in json.dumps(record)
    store.put(CODE_NS, digest(other), record, 60)  # moved under another code's key
    assert grants.redeem_code(other) is None
    assert grants.redeem_code(code) == _grant()


def test_an_access_token_record_holds_no_claim_and_opens_with_its_token_only(store):
    grants = GrantStore(store, LIFETIMES)
    code = grants.issue_code(_grant())
    grant = grants.redeem_code(code)
    token = grants.issue_access_token(code, grant)
    other = grants.issue_access_token(grants.issue_code(_grant()), grant)

    record = store.get(TOKEN_NS, digest(token))
    assert _readable(record) == [] and "pairwise-sub-123456" not in json.dumps(record)
    assert grants.access_grant(token).claims["family_name"] == FAMILY
    store.put(TOKEN_NS, digest(other), record, 60)
    assert grants.access_grant(other) is None


def test_a_grant_of_an_older_version_fails_closed(store):
    grants = GrantStore(store, LIFETIMES)
    code = grants.issue_code(_grant())
    store.put(CODE_NS, digest(code), {"client_id": "rp-a", "sub": "x", "claims": {}}, 60)

    assert grants.redeem_code(code) is None


def test_the_account_session_holds_no_name_and_no_usable_cookie(store):
    sessions = AccountSessions(store, ttl=600, secure=False)
    opened = sessions.open("citizen-key", f"{GIVEN} {FAMILY}")

    assert store.get(ACCOUNT_NAMESPACE, opened.id) is None
    record = store.get(ACCOUNT_NAMESPACE, store_key(opened.id))
    assert _readable(record) == [] and record["citizen"] == "citizen-key"
    current = sessions.current(Context(f"ncc_compte={opened.id}"))
    assert current is not None and current.greeting == f"{GIVEN} {FAMILY}"
    other = sessions.open("someone", "Other")
    store.put(ACCOUNT_NAMESPACE, store_key(other.id), record, 600)
    assert sessions.current(Context(f"ncc_compte={other.id}")) is None
