"""A Redis Sentinel failover under the real proxy (gunicorn, two workers): the primary is
killed by PID (SIGKILL, a crash) while citizens sign in and while replays arrive.

Each test prints what it measured (``pytest -s``): logins failed, time to promotion and to
recovery.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import Counter
from dataclasses import dataclass

import requests

from idp.app import FLOW_COOKIE, FLOW_NAMESPACE, flow_key
from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of, autopost_form, error_code_of
from idp.testbed.federation import Federation
from idp.testbed.login import decide, login, on_consent_screen, sign_in, start
from idp.testbed.sentinel import SentinelCluster
from tests.e2e.test_one_time_use import _code_for, redeem_request

#: What a login may end on while the store fails over: signed in, the French 503 page, the
#: service refusing because the token or userinfo endpoint said 503 (or, the access token
#: being lost with the primary, that it is unknown), or the flow lost (the login starts
#: again). Nothing else — never a 500, never another citizen's or a partial result.
ALLOWED = {"ok", "unavailable", "refused:jeton_refuse", "refused:userinfo_invalide",
           "refused:session_expiree"}
#: Logins started this long after the promotion must all succeed.
RECOVERY_BOUND = 5.0
SERVICES = ("rp-op", "sp-idp")  # OIDC -> OIDC and SAML -> SAML


@dataclass
class Login:
    started: float
    ended: float
    outcome: str


def _one_login(fed: Federation, service: str, i: int) -> str:
    citizen = CITIZENS[i % len(CITIZENS)]
    browser = Browser()
    try:
        page = login(browser, fed.url(service), citizen)
    except AssertionError:  # a page without the form the citizen expected: see history
        page = None
    except requests.RequestException as exc:
        return f"exception:{type(exc).__name__}"
    if page is not None and page.status_code == 200 and 'id="attributs"' in page.text:
        attrs = attributes_of(page)
        given = attrs.get("given_name", attrs.get("urn:oid:2.5.4.42"))
        return "ok" if given == citizen.claims["given_name"] else "WRONG CITIZEN"
    if any(r.status_code == 503 and error_code_of(r) == "service_indisponible"
           for r in browser.history):
        return "unavailable"
    if page is not None and error_code_of(page):
        return f"refused:{error_code_of(page)}"
    last = browser.history[-1] if browser.history else None
    return f"other:{last.status_code if last is not None else '-'}"


class _Promotion(threading.Thread):
    """Waits for the sentinels to name a new primary and notes when."""

    def __init__(self, cluster: SentinelCluster) -> None:
        super().__init__(daemon=True)
        self.cluster, self.at = cluster, None

    def run(self) -> None:
        self.cluster.wait_promoted()
        self.at = time.monotonic()


def test_primary_killed_under_concurrent_logins_fails_some_releases_none_recovers(
        fed: Federation, cluster: SentinelCluster):
    """Six browsers sign in without pause (OIDC and SAML); the primary is killed. Logins in
    flight may end on the 503 page; none ends otherwise; every login started 5 s after the
    promotion succeeds."""
    logins: list[Login] = []
    stop = threading.Event()
    lock = threading.Lock()

    def browse(n: int) -> None:
        i = n
        while not stop.is_set():
            started = time.monotonic()
            outcome = _one_login(fed, SERVICES[i % 2], i)
            with lock:
                logins.append(Login(started, time.monotonic(), outcome))
            i += 6

    threads = [threading.Thread(target=browse, args=(n,), daemon=True) for n in range(6)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while sum(x.outcome == "ok" for x in logins) < 12 and time.monotonic() < deadline:
        time.sleep(0.05)
    killed_at = time.monotonic()
    cluster.kill_primary()
    promotion = _Promotion(cluster)
    promotion.start()
    promotion.join(30)
    assert promotion.at is not None, "no replica promoted within 30 s"
    time.sleep(RECOVERY_BOUND + 2)
    stop.set()
    for t in threads:
        t.join(60)

    outcomes = Counter(x.outcome for x in logins)
    after_kill = [x for x in logins if x.ended >= killed_at]
    failed = [x for x in after_kill if x.outcome != "ok"]
    last_failure = max(failed, key=lambda x: x.started, default=None)
    late = [x for x in logins if x.started >= promotion.at + RECOVERY_BOUND]
    print(f"\nfailover: {len(logins)} logins ({dict(outcomes)}); "
          f"{len(failed)} failed of {len(after_kill)} ended after the kill; "
          f"promotion {promotion.at - killed_at:.1f} s after the kill; "
          + (f"last failed login started {last_failure.started - promotion.at:+.1f} s and "
             f"ended {last_failure.ended - promotion.at:+.1f} s from the promotion; "
             if last_failure else "no login failed; ")
          + f"{len(late)} logins started >= {RECOVERY_BOUND:.0f} s after it, all ok: "
          f"{all(x.outcome == 'ok' for x in late)}")
    assert set(outcomes) <= ALLOWED, outcomes
    assert len(late) >= 5
    assert [x.outcome for x in late] == ["ok"] * len(late)


def _replays_across_failover(cluster: SentinelCluster, send) -> tuple[list, float]:
    """Kill the primary, then send ``send()`` every 100 ms, from inside the failover window
    until 2 s after the promotion; return [(time, result)] and the promotion time."""
    cluster.kill_primary()
    promotion = _Promotion(cluster)
    promotion.start()
    results = []
    while promotion.at is None or time.monotonic() < promotion.at + 2:
        results.append((time.monotonic(), send()))
        time.sleep(0.1)
        assert results[0][0] + 30 > time.monotonic(), "no replica promoted within 30 s"
    return results, promotion.at


def test_code_redeemed_just_before_the_kill_cannot_be_redeemed_on_the_new_primary(
        fed: Federation, cluster: SentinelCluster):
    """The code is redeemed (tokens issued), the primary killed at once, and the same
    redemption sent again every 100 ms from inside the failover window: 503
    ``temporarily_unavailable`` while no primary answers, ``invalid_grant`` from the new
    primary — never tokens a second time."""
    citizen = CITIZENS[0]
    verifier = secrets.token_urlsafe(48)
    code = _code_for(fed, Browser(), citizen, verifier)
    token_url, form, auth = redeem_request(fed, code, verifier)
    first = requests.post(token_url, data=form, auth=auth, timeout=10)
    assert first.status_code == 200, first.text

    def replay() -> tuple[int, str]:
        resp = requests.post(token_url, data=form, auth=auth, timeout=10)
        return resp.status_code, resp.json().get("error", "")

    results, promoted_at = _replays_across_failover(cluster, replay)
    print(f"\ncode replays: {Counter(r for _t, r in results)}; "
          f"{sum(t < promoted_at for t, _r in results)} sent before the promotion")
    assert results[0][0] < promoted_at, "the first replay is sent inside the failover window"
    assert {r for _t, r in results} <= {(503, "temporarily_unavailable"),
                                        (400, "invalid_grant")}
    assert results[-1][1] == (400, "invalid_grant")


def test_saml_response_posted_twice_across_the_failover_is_refused(
        fed: Federation, cluster: SentinelCluster):
    """The identity source's response is posted once (the login completes), the primary is
    killed, and the same response is posted again with the browser's cookies as they were
    before the first post. Worst case for the plain writes: once a replica is promoted, the
    flow state is put back as it was before the first post (a failover may lose a plain
    write), so the replay reaches the one-time checks — which must hold: the outstanding
    request was taken, and acknowledged by a replica."""
    citizen = CITIZENS[1]
    acs = f"{fed.proxy_url}/src-idp/saml2/acs"
    browser = Browser()
    page = sign_in(browser, start(browser, fed.url("sp-idp")), citizen, stop_at=acs)
    action, fields = autopost_form(page) or ("", {})
    assert action == acs
    replayer = Browser()
    replayer.session.cookies = browser.session.cookies.copy()
    flow = f"ncc:{FLOW_NAMESPACE}:{flow_key(browser.session.cookies[FLOW_COOKIE])}"
    primary = cluster.client(cluster.primary_port)
    before = primary.get(flow), primary.ttl(flow)
    assert before[0] is not None
    done = browser.post(action, fields)
    if on_consent_screen(done):
        done = decide(browser, done)
    assert attributes_of(done)

    restored: list[float] = []

    def replay() -> tuple[int, str | None, bool, bool]:
        if promotion_seen() and not restored:
            cluster.client(cluster.primary_port).set(flow, before[0], ex=before[1])
            restored.append(time.monotonic())
        resp = replayer.post_form_data(acs, fields)
        return resp.status_code, error_code_of(resp), "Location" in resp.headers, bool(restored)

    def promotion_seen() -> bool:  # wait_promoted (in _Promotion) moves primary_port
        return cluster.primary_port not in cluster.killed

    results, promoted_at = _replays_across_failover(cluster, replay)
    print(f"\nSAML replays: {Counter(r for _t, r in results)}; "
          f"{sum(t < promoted_at for t, _r in results)} sent before the promotion")
    assert results[0][0] < promoted_at, "the first replay is sent inside the failover window"
    before_restore = {r[:3] for _t, r in results if not r[3]}
    after_restore = {r[:3] for _t, r in results if r[3]}
    assert before_restore <= {(503, "service_indisponible", False),
                              (400, "session_expiree", False)}
    assert after_restore == {(400, "reponse_rejouee", False)}
