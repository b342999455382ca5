"""Complete logins per protocol path against the proxy under gunicorn, measured.

    python bench/logins.py -n 200 -c 8 --workers 3 --store redis
    python bench/logins.py -n 100 -c 8 --store sentinel --wait-replicas 1   # or 0: no wait

Starts (all on 127.0.0.1, free ports) a whole federation — demo identity sources
and services, NC Connect's LDAP account source on a real slapd seeded with the same
citizens, the proxy via ``ncconnect serve`` — runs N logins per path at
concurrency C, checks every login's result page, and prints logins/s, latency
percentiles, errors, the proxy workers' CPU time per login and the RSS of every proxy
worker. Bounded: at most N logins
per path and --max-seconds per path. ``--store sentinel`` runs the proxy on a Redis Sentinel
cluster it starts itself (a primary, two replicas, three sentinels, loopback) and also prints
the ``WAIT`` commands the primary ran per login.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit

import requests
import yaml

from idp.demo.citizens import CITIZENS
from idp.demo.directory import accounts_ldif
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.federation import DEFAULT_SERVICES, Federation, build_federation
from idp.testbed.login import choose, decide, login, on_consent_screen, start
from idp.testbed.sentinel import SentinelCluster
from idp.testbed.servers import RedisServer
from idp.testbed.slapd import ACCOUNTS_SUFFIX, Slapd

PATHS = {  # path name -> service id in the testbed federation
    "oidc->oidc": "rp-op",
    "oidc->saml": "rp-idp",
    "saml->oidc": "sp-op",
    "saml->saml": "sp-idp",
    # A SAML service in a browser already signed in at an OIDC service: answered from the
    # SSO session (no choice page, no source), the service's information screen included.
    "sso->saml": "sp-op",
    # NC Connect's own accounts: the proxy's login form, the password checked against slapd.
    "ldap->oidc": "rp-ldap",
    "ldap->saml": "sp-ldap",
}
#: The account source of the ldap paths, and the services that accept only it.
LDAP_SOURCE = "src-ldap"
LDAP_SERVICES: dict[str, tuple] = {
    "rp-ldap": ("oidc", [LDAP_SOURCE], ["given_name", "family_name", "birthdate"]),
    "sp-ldap": ("saml2", [LDAP_SOURCE], ["given_name", "family_name", "birthdate"]),
}
#: Where the browser signs in first (not measured) for the SSO paths.
FIRST_LOGIN = {"sso->saml": "rp-op"}


def cpu_ms(pids: list[int]) -> float:
    """CPU time of the proxy's workers so far, their waited-for children (``xmlsec1`` with
    ``saml.crypto: xmlsec1``) included, in milliseconds."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += sum(int(v) for v in fields[11:15])  # utime stime cutime cstime
    return total * 1000 / os.sysconf("SC_CLK_TCK")


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def add_ldap_source(fed: Federation, folder: Path) -> Slapd:
    """A slapd seeded with the testbed citizens (password ``demo``) and its partner file; the
    rate limit per address is raised: every benchmark browser comes from 127.0.0.1."""
    slapd = Slapd(folder)
    slapd.seed(accounts_ldif(CITIZENS))
    slapd.start()
    fed.env["NCC_BENCH_LDAP_PASSWORD"] = slapd.admin_password
    partner = {
        "kind": "source", "id": LDAP_SOURCE, "display_name": "Compte NC Connect",
        "loa": "substantial", "protocol": "ldap",
        "loa_mapping": {"values": {"TRUE": "substantial", "FALSE": "low"}},
        "ldap": {"url": slapd.url, "base_dn": f"ou=personnes,{ACCOUNTS_SUFFIX}",
                 "bind_dn": slapd.admin_dn(), "bind_password_env": "NCC_BENCH_LDAP_PASSWORD",
                 "loa_attribute": "ncIdentiteVerifiee",
                 "rate_limit": {"attempts": 10000, "minutes": 1}},
        "attributes": {"given_name": {"from": "givenName"},
                       "family_name": {"from": "ncNomNaissance"},
                       "preferred_username": {"from": "sn"},
                       "birthdate": {"from": "ncDateNaissance", "date_format": "%Y%m%d"},
                       "gender": {"from": "ncSexe", "values": {"F": "female", "M": "male"}},
                       "birthplace": {"from": "ncCommuneNaissance"},
                       "birthcountry": {"from": "ncPaysNaissance"}, "email": {"from": "mail"},
                       "phone_number": {"from": "mobile"}}}
    (fed.folder / "partenaires" / f"{LDAP_SOURCE}.yaml").write_text(
        yaml.safe_dump(partner, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return slapd


def account_login(browser: Browser, service_url: str, citizen) -> requests.Response:
    """Like :func:`login`, but the form is the proxy's own (the account source's)."""
    page = start(browser, service_url)
    if urlsplit(page.url).path == "/choix":
        page = choose(browser, page, LDAP_SOURCE)
    page = browser.submit(page, {"identifiant": citizen.username,
                                 "mot_de_passe": citizen.password},
                          form_selector="form#form-connexion")
    return decide(browser, page) if on_consent_screen(page) else page


def one_login(service_url: str, i: int, first_url: str | None = None,
              account: bool = False) -> tuple[float, str | None]:
    citizen = CITIZENS[i % len(CITIZENS)]
    browser = Browser()
    if first_url is not None:
        login(browser, first_url, citizen)
    started = time.perf_counter()
    try:
        if account:
            page = account_login(browser, service_url, citizen)
        elif first_url is None:
            page = login(browser, service_url, citizen)
        else:
            page = start(browser, service_url)
            if on_consent_screen(page):
                page = decide(browser, page)
        attrs = attributes_of(page)
        if attrs.get("given_name", attrs.get("urn:oid:2.5.4.42")) != citizen.claims["given_name"]:
            return time.perf_counter() - started, "wrong attributes"
    except Exception as exc:  # a failed login is a measured error, not a crash
        return time.perf_counter() - started, type(exc).__name__
    return time.perf_counter() - started, None


def wait_calls(cluster: SentinelCluster | None) -> int:
    """``WAIT`` commands the cluster's primary has run so far (0 without a cluster); for
    sso->saml, the unmeasured first login's are counted too."""
    if cluster is None:
        return 0
    stats = cluster.client(cluster.primary()).info("commandstats")
    return int(stats.get("cmdstat_wait", {}).get("calls", 0))


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] if len(
        values) > 1 else values[0]


def run_path(name: str, service_url: str, n: int, c: int, max_seconds: float,
             first_url: str | None = None) -> dict:
    account = name.startswith("ldap->")
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.monotonic() + max_seconds
    started = time.perf_counter()
    with ThreadPoolExecutor(c) as pool:
        futures = []
        for i in range(n):
            futures.append(pool.submit(
                lambda i=i: one_login(service_url, i, first_url, account)
                if time.monotonic() < deadline
                else (0.0, "skipped: time bound")))
        for f in futures:
            latency, err = f.result()
            if err is None:
                latencies.append(latency)
            else:
                errors[err] = errors.get(err, 0) + 1
    elapsed = time.perf_counter() - started
    return {"path": name, "ok": len(latencies), "errors": errors, "seconds": elapsed,
            "rate": len(latencies) / elapsed if elapsed else 0.0,
            "p50": pct(latencies, 50) * 1000, "p95": pct(latencies, 95) * 1000,
            "p99": pct(latencies, 99) * 1000}


def add_peer_crypto_option(ap: argparse.ArgumentParser) -> None:
    """``--peer-crypto``: what the demo SAML peers sign and verify with (every benchmark)."""
    ap.add_argument("--peer-crypto", choices=("in_process", "xmlsec1"), default="in_process",
                    help="the demo SAML peers' XML security: in_process (default: their "
                    "cost, on the same cores, is not what is measured) or xmlsec1 (pysaml2's "
                    "subprocesses)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=100, help="logins per path (max 5000)")
    ap.add_argument("-c", type=int, default=4, help="concurrent browsers (max 64)")
    ap.add_argument("--workers", type=int, default=3)
    add_peer_crypto_option(ap)
    ap.add_argument("--store", choices=["embedded", "redis", "sentinel"], default="redis")
    ap.add_argument("--wait-replicas", type=int, choices=[0, 1, 2], default=1,
                    help="sentinel store: replicas each one-time write waits for (0: none)")
    ap.add_argument("--paths", default=",".join(PATHS), help="comma-separated subset")
    ap.add_argument("--max-seconds", type=float, default=120, help="time bound per path")
    args = ap.parse_args()
    n, c = min(args.n, 5000), min(args.c, 64)
    paths = args.paths.split(",")
    with_ldap = any(name.startswith("ldap->") for name in paths)

    with tempfile.TemporaryDirectory(prefix="ncc-bench-") as tmp:
        folder = Path(tmp)
        redis = RedisServer(folder / "redis") if args.store == "redis" else None
        cluster = SentinelCluster(folder / "sentinel") if args.store == "sentinel" else None
        store = redis.url if redis else None
        if cluster:
            store = cluster.url(wait_replicas=args.wait_replicas)
        fed = build_federation(folder / "fed",
                               {**DEFAULT_SERVICES, **LDAP_SERVICES} if with_ldap else None,
                               peer_crypto=args.peer_crypto)
        slapd = add_ldap_source(fed, folder / "slapd") if with_ldap else None
        try:
            proxy = fed.start_proxy(workers=args.workers, store=store)
            for name in paths:  # warm-up: metadata caches, JWKS, directory connections
                one_login(fed.url(PATHS[name]), 0, account=name.startswith("ldap->"))
            print(f"proxy: {args.workers} gunicorn workers, store {args.store}"
                  + (f" (wait_replicas={args.wait_replicas})" if cluster else "")
                  + f"; {n} logins per path, concurrency {c}")
            print(f"{'path':<12} {'ok':>6} {'err':>5} {'logins/s':>9} {'p50 ms':>8} "
                  f"{'p95 ms':>8} {'p99 ms':>8} {'CPU ms':>7}"
                  + (f" {'WAIT':>5}" if cluster else ""))
            workers = proxy.worker_pids()
            for name in paths:
                first = fed.url(FIRST_LOGIN[name]) if name in FIRST_LOGIN else None
                cpu_before = cpu_ms(workers)
                waits_before = wait_calls(cluster)
                r = run_path(name, fed.url(PATHS[name]), n, c, args.max_seconds, first)
                done = r["ok"] + sum(r["errors"].values())
                cpu = (cpu_ms(workers) - cpu_before) / done if done else float("nan")
                waits = (wait_calls(cluster) - waits_before) / done if done else float("nan")
                print(f"{r['path']:<12} {r['ok']:>6} {sum(r['errors'].values()):>5} "
                      f"{r['rate']:>9.1f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f}"
                      f" {cpu:>7.1f}" + (f" {waits:>5.1f}" if cluster else "")
                      + (f"  errors: {r['errors']}" if r["errors"] else ""))
            rss = [rss_kib(pid) for pid in proxy.worker_pids()]
            print("RSS per proxy worker (MiB): " + ", ".join(f"{k / 1024:.0f}" for k in rss))
            print("note: latency is a whole login (service, proxy, source login form, NC Connect's "
                  "information screen, back), peers included; for sso->saml the second service "
                  "only; for ldap->* the proxy's own login form and a bind to slapd instead of "
                  "a source; all on one 2-core machine; CPU ms: proxy workers' CPU per login "
                  "(their child processes included; for sso->saml, the unmeasured first "
                  "login too)")
        finally:
            fed.stop()
            if slapd:
                slapd.stop()
            if redis:
                redis.stop()
            if cluster:
                cluster.stop()


if __name__ == "__main__":
    main()
