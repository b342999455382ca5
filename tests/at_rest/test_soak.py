"""Soak: real logins through the whole federation (proxy under gunicorn, demo sources and
services), then the store read as a copy of it would be — nothing of the citizens found.

Per store (the embedded SQLite file, a Redis database): three citizens each sign in at an
OIDC service through the OIDC source and then at a SAML service through the SSO session (two
information screens, one choice remembered), sign in at a SAML service through the SAML
source and then at an OIDC one through that session, choose a source on the choice page,
open *Mon espace NC Connect*; one of them logs out everywhere from an OIDC service. Then
every file of the embedded store (``store.db``, ``-wal``, ``-journal``, ``-shm``) and every
Redis key (``DUMP`` and value) is scanned for every demo citizen's values
(:mod:`idp.stores.scan`: names, birth date in three forms, email, phone, birthplace…).
"""

from __future__ import annotations

import sqlite3
import time
from urllib.parse import urlsplit

import pytest
import redis

from idp.demo.citizens import CITIZENS
from idp.stores.scan import scan_redis, scan_sqlite
from idp.stores.sqlite import CHECKPOINT_DELAY
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.federation import build_federation
from idp.testbed.login import choose, decide, login, on_consent_screen, sign_in, start

#: Sweep interval of the proxy's embedded store in this soak (seconds).
SWEEP = 2
SOAKED = [CITIZENS[0], CITIZENS[1], CITIZENS[3]]


def personal_values() -> list[str]:
    """Every value of every demo citizen (those who did not sign in too: cheap, and a leak
    of a fixture would show)."""
    values: set[str] = set()
    for citizen in CITIZENS:
        values |= {v for v in citizen.claims.values() if v}
        values.add(citizen.username)
    return sorted(values)


def _through_sso(browser: Browser, service_url: str, remember: bool = False):
    page = start(browser, service_url)
    assert on_consent_screen(page), f"no SSO screen at {service_url}: {page.url}"
    memorise = remember and 'name="memoriser"' in page.text
    return decide(browser, page, remember=memorise)


def _soak(fed) -> dict[str, int]:
    done = {"logins": 0, "sso": 0, "account": 0, "logout": 0}
    for n, citizen in enumerate(SOAKED):
        oidc_first = Browser()
        got = attributes_of(login(oidc_first, fed.url("rp-op"), citizen))
        assert got.get("family_name") == citizen.claims["family_name"], got
        got = attributes_of(_through_sso(oidc_first, fed.url("sp-op"), remember=True))
        assert got, "nothing received through the SSO session at sp-op"
        saml_first = Browser()
        assert attributes_of(login(saml_first, fed.url("sp-idp"), citizen))
        assert attributes_of(_through_sso(saml_first, fed.url("rp-idp")))
        chooser = Browser()
        assert attributes_of(login(chooser, fed.url("rp-choix"), citizen, source="src-idp"))
        done["logins"] += 3
        done["sso"] += 2
        space = oidc_first.get(f"{fed.proxy_url}/mon-compte")
        if urlsplit(space.url).path == "/choix":
            space = sign_in(oidc_first, choose(oidc_first, space, "src-op"), citizen)
        assert urlsplit(space.url).path == "/mon-compte" and space.status_code == 200
        done["account"] += 1
        if n == 0:
            out = oidc_first.get(f"{fed.url('rp-op')}/logout")
            assert out.status_code == 200, out.url
            done["logout"] += 1
    return done


@pytest.fixture(scope="module")
def embedded(tmp_path_factory):
    folder = tmp_path_factory.mktemp("soak-embedded")
    fed = build_federation(folder)
    db = folder / "data" / "store.db"
    try:
        fed.start_proxy(workers=2, store=f"sqlite://{db}?sweep_seconds={SWEEP}")
        done = _soak(fed)
        yield fed, db, done
    finally:
        fed.stop()


@pytest.fixture(scope="module")
def on_redis(tmp_path_factory, redis_server):
    url = redis_server.url.rsplit("/", 1)[0] + "/9"  # a database of its own on the server
    redis.Redis.from_url(url).flushdb()
    fed = build_federation(tmp_path_factory.mktemp("soak-redis"))
    try:
        fed.start_proxy(workers=2, store=url)
        done = _soak(fed)
        yield fed, url, done
    finally:
        fed.stop()


def _rows(db) -> dict[str, int]:
    with sqlite3.connect(db) as conn:
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]  # noqa: S608
                for t in ("records", "items", "counters")}


def test_the_embedded_store_files_hold_no_personal_value_after_a_soak(embedded):
    _fed, db, done = embedded
    time.sleep(CHECKPOINT_DELAY + 1.5)  # the checkpoint that follows the last writes

    report = scan_sqlite(db, personal_values())
    print(f"\nsoak on the embedded store: {done}; rows {_rows(db)}")
    print(report.summary())

    assert report.places.get("store.db", 0) > 0 and _rows(db)["records"] > 0
    assert report.clean, report.summary()


def test_every_redis_key_holds_no_personal_value_after_a_soak(on_redis):
    _fed, url, done = on_redis

    report = scan_redis(url, personal_values())
    print(f"\nsoak on redis: {done}")
    print(report.summary())

    assert len(report.places) > 10
    assert report.clean, report.summary()


def test_every_redis_key_expires(on_redis):
    _fed, url, _ = on_redis
    client = redis.Redis.from_url(url)

    ttls = {key: client.ttl(key) for key in client.scan_iter(count=500)}

    assert ttls and all(ttl > 0 for ttl in ttls.values()), \
        [k for k, t in ttls.items() if t <= 0]


def test_expired_rows_leave_the_embedded_store_with_no_request_and_no_write(embedded):
    fed, db, _ = embedded
    # Written behind the proxy's back, already expired-to-be: only a worker's timer can
    # remove it, since nothing is written or requested meanwhile.
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO records VALUES ('flow', 'soak-expiring', ?, ?)",
                     (b'{"v":"Wamytan-expiring"}', time.time() + 1))

    time.sleep(1 + SWEEP + CHECKPOINT_DELAY + 1.5)

    with sqlite3.connect(db) as conn:
        left = conn.execute("SELECT count(*) FROM records WHERE expires <= ?",
                            (time.time(),)).fetchone()[0]
    assert left == 0
    assert scan_sqlite(db, ["Wamytan-expiring"]).clean


def test_stopping_the_proxy_leaves_no_wal_and_no_expired_row(embedded):
    fed, db, _ = embedded
    with sqlite3.connect(db) as conn:
        conn.execute("INSERT INTO records VALUES ('flow', 'soak-at-exit', ?, ?)",
                     (b'{"v":"x"}', time.time() + 0.5))
    time.sleep(0.6)

    fed.proxy.stop()

    wal = db.with_name("store.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM records WHERE expires <= ?",
                            (time.time(),)).fetchone()[0] == 0
