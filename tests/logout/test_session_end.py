"""Ending a session in the store: once, everywhere, on both stores; and finding it again from the
session id a service knows."""

from __future__ import annotations

import threading
import time

import pytest

from idp import loa
from idp.sso.session import LINK_NAMESPACE, SessionStore, new_sid, service_sid
from idp.stores import open_store


@pytest.fixture(params=["embedded", "redis"])
def sessions(request, tmp_path, redis_server) -> SessionStore:
    url = redis_server.url if request.param == "redis" else f"sqlite:///{tmp_path}/store.db"
    return SessionStore(open_store(url), idle=600, absolute=3600)


def _with_services(sessions: SessionStore, *services: str):
    now = time.time()
    sid = new_sid()
    _, session = sessions.create(sid=sid, citizen=f"citoyen-{new_sid()}", source="src-op",
                                 subject="src-op:abc", attributes={}, auth_time=int(now),
                                 loa="substantial", acr=loa.URIS["substantial"],
                                 issuer="https://source.test", now=now)
    for service in services:
        sessions.note_service(sid, service, {"service_id": service, "protocol": "oidc",
                                             "sid": service_sid(sid, service),
                                             "subject": f"sub-{service}"}, 600,
                              citizen=session.citizen)
    return session


def test_a_services_session_id_leads_back_to_its_session(sessions):
    session = _with_services(sessions, "rp-a", "sp-a")

    found, service = sessions.by_service_sid(service_sid(session.sid, "sp-a"), time.time())

    assert found == session and service == "sp-a"
    assert sessions.by_service_sid("inconnu", time.time()) == (None, None)


def test_closing_a_session_gives_its_services_once_and_forgets_everything(sessions):
    session = _with_services(sessions, "rp-a", "sp-a")

    services = sessions.close(session)

    assert set(services) == {"rp-a", "sp-a"}
    assert sessions.close(session) is None
    assert sessions.store.get("sso-session", session.key) is None
    assert session.sid not in sessions.sessions_of(session.citizen)
    assert not sessions.services(session.sid)
    assert sessions.store.get(LINK_NAMESPACE, service_sid(session.sid, "rp-a")) is None


def test_of_concurrent_logouts_of_one_session_exactly_one_tells_its_services(sessions):
    session = _with_services(sessions, "rp-a", "rp-b", "sp-a")
    results: list[object] = []
    barrier = threading.Barrier(6)

    def end() -> None:
        barrier.wait()
        results.append(sessions.close(session))

    threads = [threading.Thread(target=end) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)

    told = [r for r in results if r is not None]
    assert len(results) == 6 and len(told) == 1 and set(told[0]) == {"rp-a", "rp-b", "sp-a"}
