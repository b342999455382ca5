"""``/metrics``: counters and histograms move as logins run, added up over both gunicorn
workers (prometheus-client's multiprocess files), with label values from the registry and
fixed lists only, and no citizen's value anywhere in the text."""

from __future__ import annotations

import itertools

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from idp.demo.citizens import CITIZENS
from idp.keyring import PURPOSES
from idp.login_trail import FRONTEND_PROTOCOLS
from idp.messages import MESSAGES
from idp.metrics.labels import OTHER, PROTOCOLS, STEPS
from idp.refusals import REASONS
from idp.sso.logout import LOGOUT_REASONS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.federation import DEFAULT_SERVICES
from idp.testbed.login import decide, login, on_consent_screen
from plugins.backends.oidc.fetch import CALLS

MARIE = CITIZENS[0]
#: service -> path label: the service's protocol, then the source's.
PATHS = {"rp-op": "oidc->oidc", "rp-idp": "oidc->saml2", "sp-op": "saml2->oidc",
         "sp-idp": "saml2->saml2"}


def scrape(fed, token: str) -> dict[tuple[str, tuple], float]:
    resp = requests.get(f"{fed.proxy_url}/metrics", timeout=10,
                        headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200, resp.text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(resp.text) for s in family.samples}


def value(samples, name: str, **labels: str) -> float:
    """Sum of ``name``'s samples whose labels include ``labels``."""
    return sum(v for (n, ls), v in samples.items()
               if n == name and set(labels.items()) <= set(ls))


@pytest.fixture(scope="module")
def moved(fed, token):
    """(before, after, worker pids seen): one login of each path, a consent refusal and an
    unknown client, between two scrapes."""
    before = scrape(fed, token)
    mark = fed.access_log_mark()
    for service in PATHS:
        assert attributes_of(login(Browser(), fed.url(service), MARIE))
    browser = Browser()
    screen = login(browser, fed.url("rp-op"), CITIZENS[1], consent=False)
    assert on_consent_screen(screen)
    decide(browser, screen, accept=False)
    unknown = requests.get(f"{fed.proxy_url}/oidc/authorize", timeout=10, params={
        "client_id": "inconnu", "response_type": "code", "scope": "openid",
        "redirect_uri": "https://ailleurs.example/cb", "state": "s", "nonce": "n"})
    assert unknown.status_code == 400
    pids = fed.worker_pids_seen(since=mark)
    return before, scrape(fed, token), pids


def delta(moved, name: str, **labels: str) -> float:
    before, after, _ = moved
    return value(after, name, **labels) - value(before, name, **labels)


def test_both_workers_served_and_their_counts_are_added_up(moved):
    assert len(moved[2]) == 2, "the logins were all served by one worker"
    assert delta(moved, "ncc_logins_started_total") == 5


@pytest.mark.parametrize("service", PATHS)
def test_a_login_of_each_path_is_counted_started_and_completed(moved, service):
    protocol = DEFAULT_SERVICES[service][0]
    source = DEFAULT_SERVICES[service][1][0]
    assert delta(moved, "ncc_logins_started_total", service=service, protocol=protocol) >= 1
    assert delta(moved, "ncc_logins_completed_total", service=service, source=source,
                 path=PATHS[service]) >= 1


def test_a_consent_refusal_is_counted_as_such_and_as_a_refused_login(moved):
    assert delta(moved, "ncc_consent_decisions_total", service="rp-op", decision="refused") == 1
    assert delta(moved, "ncc_logins_refused_total", service="rp-op",
                 reason="access_denied") == 1


def test_an_unknown_client_is_refused_under_no_name_of_its_own(moved):
    assert delta(moved, "ncc_logins_refused_total", service=OTHER,
                 reason="client_inconnu") == 1
    _, after, _ = moved
    assert not any("inconnu" == v for (_, ls) in after for k, v in ls if k == "service")


def test_each_step_and_each_source_call_is_timed(moved):
    for step in ("service_request", "source_answer", "screen", "token", "userinfo"):
        assert delta(moved, "ncc_step_seconds_count", step=step) >= 1, step
    for call in ("token", "userinfo"):
        assert delta(moved, "ncc_source_call_seconds_count", source="src-op", call=call) >= 1
    assert delta(moved, "ncc_source_answers_total", source="src-idp") >= 2


def test_the_keys_age_is_exposed_for_every_purpose(moved):
    _, after, _ = moved
    ages = {dict(ls)["purpose"]: v for (n, ls), v in after.items()
            if n == "ncc_key_age_seconds"}
    assert set(ages) == set(PURPOSES) and all(age >= 0 for age in ages.values())


def test_every_label_value_comes_from_the_registry_or_a_fixed_list(fed, moved):
    services = set(DEFAULT_SERVICES) | {"ncconnect:mon-compte", OTHER}
    sources = {"src-op", "src-idp", OTHER}
    allowed = {
        "service": services, "source": sources, "protocol": set(PROTOCOLS) | {OTHER},
        "path": {f"{a}->{b}" for a, b in itertools.product(
            (*FRONTEND_PROTOCOLS.values(), OTHER), ("oidc", "saml2", "ldap", OTHER))},
        "step": set(STEPS), "reason": set(MESSAGES) | set(REASONS) | {OTHER},
        "decision": {"given", "refused", "remembered", "required"},
        "loa": {"low", "substantial", "high", OTHER}, "call": set(CALLS) | {OTHER},
        "channel": {"back", "front"}, "outcome": {"reached", "failed"},
        "how": set(LOGOUT_REASONS) | {OTHER}, "purpose": set(PURPOSES), "directory": {OTHER},
    }
    _, after, _ = moved
    for (name, labels), _v in after.items():
        if not name.startswith("ncc_"):
            continue
        for key, label in labels:
            if key == "le":
                continue
            assert key in allowed, f"{name}: unexpected label {key}"
            assert label in allowed[key], f"{name}: {key}={label!r} is not a bounded value"


def test_the_exposition_holds_no_citizen_value(fed, token, moved):
    text = requests.get(f"{fed.proxy_url}/metrics", timeout=10,
                        headers={"Authorization": f"Bearer {token}"}).text
    for citizen in CITIZENS[:2]:
        for claim in ("given_name", "family_name", "birthdate", "email"):
            val = citizen.claims.get(claim)
            if isinstance(val, str) and len(val) > 3:
                assert val not in text, claim
        assert citizen.username not in text


def test_metrics_without_the_token_are_refused(fed):
    assert requests.get(f"{fed.proxy_url}/metrics", timeout=10).status_code == 401
    wrong = requests.get(f"{fed.proxy_url}/metrics", timeout=10,
                         headers={"Authorization": "Bearer pas-le-bon-jeton-du-tout"})
    assert wrong.status_code == 401
