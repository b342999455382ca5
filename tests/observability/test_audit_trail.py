"""The login id ties every line of one login, on every host that served a step of it; the
audit stream names the citizen by account key and attributes by name; ``ncconnect audit
citizen`` answers one citizen's RGPD request from two hosts' files, with none of another's."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import login
from tests.sso.clients import OidcClient, sign_in_at_source

MARIE, JEAN = CITIZENS[0], CITIZENS[1]
PIVOT = ("family_name", "given_name", "birthdate", "gender", "birthplace", "birthcountry")


def cli(fed, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "idp.cli", *args, "--config", str(fed.config)],
                          capture_output=True, text=True, timeout=60, env=None)


def key_of(fed, citizen) -> str:
    out = cli(fed, "audit", "key", *[a for name in PIVOT for a in (
        f"--{name.replace('_', '-')}", citizen.claims[name])])
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def host_dirs(fed):
    return fed.folder / "data" / "audit", fed.folder / "second-host" / "data" / "audit"


@pytest.fixture(scope="module")
def logins(fed, second_host):
    """Marie through host 2 (the service's request and its token call) and host 1 (the
    source's answer, the screen); then Jean, then Marie again, on host 1. Returns the log
    and audit positions before Marie's first login, and its login id."""
    log_mark = len(fed.log_lines())
    audit_mark = {d: len(fed.audit_lines(d)) for d in host_dirs(fed)}
    browser = Browser()
    client = OidcClient(fed, "rp-op", proxy_url=second_host.url)
    req = client.request(scope="openid profile birth")
    page = client.start(browser, req)
    claims = client.tokens(req, sign_in_at_source(browser, page, MARIE, client.redirect_uri))
    assert claims["sub"]
    first = [x for d in host_dirs(fed) for x in fed.audit_lines(d)[audit_mark[d]:]]
    assert attributes_of(login(Browser(), fed.url("rp-idp"), JEAN))
    assert attributes_of(login(Browser(), fed.url("sp-op"), MARIE))
    return {"log_mark": log_mark, "first": first,
            "login_id": next(x["login_id"] for x in first if x["event"] == "login_started")}


def test_the_audit_lines_of_one_login_come_from_both_hosts_under_one_login_id(fed, logins):
    host1, host2 = host_dirs(fed)
    ours = logins["login_id"]
    events = {x["event"] for d in (host2,) for x in fed.audit_lines(d) if x["login_id"] == ours}
    assert {"login_started", "source_chosen"} <= events  # the service's request: host 2
    events = {x["event"] for x in fed.audit_lines(host1) if x["login_id"] == ours}
    assert {"source_answered", "attributes_released", "consent_given",
            "login_completed"} <= events


def test_every_line_logged_while_the_login_ran_carries_its_login_id(fed, logins,
                                                                    second_host):
    ours = logins["login_id"]
    window = [x for x in fed.log_lines()[logins["log_mark"]:]
              if x.get("logger", "").startswith("ncconnect")]
    mine = [x for x in window if x.get("login_id") == ours]
    assert mine, "no line of the login carries its id"
    # The token and userinfo calls, on host 2, log under the login their code belongs to.
    host2 = [json.loads(line) for line in (fed.folder / "second-host" / "proxy.log")
             .read_text(encoding="utf-8").splitlines() if line.startswith("{")]
    assert any(x.get("login_id") == ours for x in host2)
    assert all(x.get("login_id") for x in window if x.get("path")), \
        [x for x in window if x.get("path") and not x.get("login_id")]


def test_the_general_log_never_holds_the_account_key_nor_a_value(fed, logins):
    marie = key_of(fed, MARIE)
    text = (fed.folder / "proxy.log").read_text(encoding="utf-8")
    assert marie not in text
    for value in (MARIE.claims["family_name"], MARIE.claims["given_name"], "1987-05-14"):
        assert value not in text


def test_audit_lines_name_attributes_never_their_values(fed, logins):
    text = "\n".join(f.read_text(encoding="utf-8") for d in host_dirs(fed)
                     for f in d.glob("audit-*.jsonl"))
    for citizen in (MARIE, JEAN):
        for claim in ("family_name", "given_name", "birthdate", "email"):
            assert citizen.claims[claim] not in text, claim
    released = [x for x in fed.audit_lines() if x["event"] == "attributes_released"]
    assert released and all(set(x["released"]) <= {"given_name", "family_name", "birthdate"}
                            for x in released)


def test_the_account_key_from_the_identity_is_the_one_the_audit_lines_name(fed, logins):
    marie = key_of(fed, MARIE)
    assert any(x["citizen"] == marie for x in logins["first"])


def test_audit_citizen_returns_exactly_that_citizens_logins_from_two_hosts(fed, logins):
    marie, jean = key_of(fed, MARIE), key_of(fed, JEAN)
    out = cli(fed, "audit", "citizen", marie, *map(str, host_dirs(fed)), "--format", "json")
    assert out.returncode == 0, out.stderr
    answer = json.loads(out.stdout)
    ids = [x["login_id"] for x in answer["logins"]]
    assert logins["login_id"] in ids and len(ids) == len(set(ids)) >= 2
    first = next(x for x in answer["logins"] if x["login_id"] == logins["login_id"])
    assert first["service"] == "rp-op" and first["source"] == "src-op"
    assert first["outcome"] == "completed" and first["consent"] == "given"
    assert {"given_name", "family_name"} <= set(first["released"])
    assert jean not in out.stdout
    jeans = json.loads(cli(fed, "audit", "citizen", jean, *map(str, host_dirs(fed)),
                           "--format", "json").stdout)
    assert not set(ids) & {x["login_id"] for x in jeans["logins"]}


def test_audit_citizen_writes_a_french_answer_naming_services_and_data(fed, logins):
    out = cli(fed, "audit", "citizen", key_of(fed, MARIE), *map(str, host_dirs(fed)))
    assert out.returncode == 0, out.stderr
    assert "Réponse à une demande d'accès (RGPD, article 15)" in out.stdout
    assert "Données transmises" in out.stdout and "rp-op" in out.stdout
    assert MARIE.claims["family_name"] not in out.stdout


def test_audit_citizen_since_tomorrow_finds_nothing(fed, logins):
    out = cli(fed, "audit", "citizen", key_of(fed, MARIE), *map(str, host_dirs(fed)),
              "--since", "2999-01-01", "--format", "json")
    assert json.loads(out.stdout)["logins"] == []


def test_audit_citizen_refuses_what_is_no_key(fed):
    out = cli(fed, "audit", "citizen", "marie", str(fed.folder))
    assert out.returncode == 2 and "no account key" in out.stderr
