"""This proxy against vanilla SATOSA, in one run, on the four paths, at concurrency 1 and 4.

    .venv/bin/python bench/compare.py -n 60 --out bench/results/

Starts (all on 127.0.0.1, free ports) the testbed federation of ``bench/logins.py``: the
demo OIDC identity source and demo SAML IdP, this proxy via ``ncconnect serve`` (Redis
store, every plugin on: its information screen is passed at every login), and vanilla
SATOSA of the same version in its own venv (``bench/vanilla_satosa.py``; created once and
cached) under gunicorn with as many workers, its SAML and OIDC frontends and backends
registered at the same sources. Both proxies are driven by the same client: the testbed
browser and the demo services (OIDC relying parties and SAML SPs of ``idp/demo``), which
verify every answer — ID token signature (RS256, the proxy's JWKS), ``iss``, ``aud``,
``nonce``, ``at_hash``, userinfo ``sub``; SAML Response and assertion signature, audience,
destination, ``InResponseTo`` — before showing the attributes; the benchmark then checks
each expected attribute's value for the citizen. A login failing any of these is an error.

Per path x proxy x concurrency: logins/s, p50/p95/p99, proxy CPU per login (gunicorn
master, workers and all their children, from ``/proc``, before and after the block), RSS of
the master and of each worker, the master's own memory (USS) and the PSS of all of them,
errors, ratios to vanilla. Writes ``compare-<UTC>.json`` and
``.md`` into ``--out`` and prints the table. Bounded: at most N logins and --max-seconds
per block.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib.metadata
import json
import os
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

from logins import PATHS as SERVICE_OF_PATH  # noqa: E402 - bench/ is not a package
from logins import add_peer_crypto_option, pct, rss_kib  # noqa: E402
from vanilla_satosa import BACKEND_OF_SOURCE, VanillaSatosa, ensure_venv  # noqa: E402

from idp.demo.attributes import ATTRIBUTES  # noqa: E402
from idp.demo.citizens import CITIZENS  # noqa: E402
from idp.demo.rp import make_demo_rp  # noqa: E402
from idp.demo.saml_sp import make_demo_sp  # noqa: E402
from idp.keys import write_key_pair  # noqa: E402
from idp.testbed.browser import Browser, attributes_of, error_code_of  # noqa: E402
from idp.testbed.federation import DEFAULT_SERVICES, build_federation  # noqa: E402
from idp.testbed.login import login  # noqa: E402
from idp.testbed.servers import RedisServer, free_port  # noqa: E402

#: The four paths: service protocol -> source protocol.
PATHS = ["oidc->oidc", "oidc->saml", "saml->oidc", "saml->saml"]
#: What every login must deliver to the service, checked against the citizen's claims.
EXPECTED = ["given_name", "family_name", "birthdate"]
TARGETS = {"cpu_ms_per_login": 8.0, "rss_worker_mib": 100.0, "rss_master_mib": 60.0}
CLK_TCK = os.sysconf("SC_CLK_TCK")


# -- /proc ----------------------------------------------------------------------------


def _stat(pid: int) -> tuple[int, int]:
    """(ppid, utime+stime+cutime+cstime in ticks) of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[1]), sum(int(v) for v in fields[11:15])


def tree(root: int) -> list[int]:
    """``root`` and all its live descendants (workers, their ``xmlsec1`` children...)."""
    children: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                ppid, _ = _stat(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(children.get(pid, []))
    return out


def tree_cpu_ms(root: int) -> float:
    """CPU of the master, its workers and every child: each live process's own time plus
    its reaped children's (cutime/cstime), in milliseconds."""
    total = 0
    for pid in tree(root):
        try:
            total += _stat(pid)[1]
        except (OSError, ValueError, IndexError):  # exited between the scan and the read
            continue
    return total * 1000 / CLK_TCK


# -- one verified login -----------------------------------------------------------------


def expected_of(protocol: str, citizen) -> dict[str, str]:
    """The attribute table a demo service must show: OIDC claim names, or SAML urn:oid."""
    if protocol == "oidc":
        return {name: citizen.claims[name] for name in EXPECTED}
    return {ATTRIBUTES[name][0]: citizen.claims[name] for name in EXPECTED}


def verified_login(service_url: str, protocol: str, i: int) -> tuple[float, str | None]:
    """One complete login in a fresh browser; the demo service has verified the tokens or
    the SAML Response (else it shows an error page), and here every expected attribute."""
    citizen = CITIZENS[i % len(CITIZENS)]
    browser = Browser()
    started = time.perf_counter()
    try:
        page = login(browser, service_url, citizen)
        elapsed = time.perf_counter() - started
        code = error_code_of(page)
        if code is not None:
            return elapsed, f"error page: {code}"
        attrs = attributes_of(page)
        for name, value in expected_of(protocol, citizen).items():
            if attrs.get(name) != value:
                return elapsed, f"wrong or missing attribute {name}"
    except Exception as exc:  # a failed login is a measured error, not a crash
        where = ""
        if browser.history:
            last = browser.history[-1]
            code = error_code_of(last) if "html" in last.headers.get("Content-Type", "") else None
            where = f" (last page {last.status_code} {last.url.split('?')[0]}: {code})"
        return time.perf_counter() - started, f"{type(exc).__name__}{where}"
    return elapsed, None


# -- proxies ------------------------------------------------------------------------------


class Measured:
    """A proxy under gunicorn as the benchmark sees it: its master pid and its services."""

    def __init__(self, name: str, master: int, services: dict[str, str]) -> None:
        self.name, self.master, self.services = name, master, services

    def workers(self) -> list[int]:
        return [pid for pid in tree(self.master) if pid != self.master
                and _stat(pid)[0] == self.master]

    def rss(self) -> tuple[float, list[float]]:
        return rss_kib(self.master) / 1024, [rss_kib(p) / 1024 for p in self.workers()]

    def shared_view(self) -> dict[str, float]:
        """Memory as the kernel shares it: the master's own pages (USS: not shared with any
        worker) and the PSS of master and workers together (each shared page counted once
        across them). A preloaded master's RSS is mostly pages its workers use too."""
        master = smaps_kib(self.master)
        workers = [smaps_kib(p) for p in self.workers()]
        return {"uss_master_mib": master["uss"] / 1024,
                "pss_total_mib": (master["pss"] + sum(w["pss"] for w in workers)) / 1024}


def smaps_kib(pid: int) -> dict[str, int]:
    """PSS and USS (private clean + private dirty) of ``pid``, in KiB, from smaps_rollup."""
    fields: dict[str, int] = {}
    try:
        text = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return {"pss": 0, "uss": 0}
    for line in text.splitlines():
        name, _, rest = line.partition(":")
        if rest.strip().endswith("kB"):
            fields[name] = int(rest.split()[0])
    return {"pss": fields.get("Pss", 0),
            "uss": fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)}


def run_block(proxy: Measured, path: str, n: int, c: int, max_seconds: float) -> dict:
    protocol = "oidc" if path.startswith("oidc") else "saml2"
    url = proxy.services[path]
    latencies: list[float] = []
    errors: dict[str, int] = {}
    deadline = time.monotonic() + max_seconds
    cpu_before = tree_cpu_ms(proxy.master)
    started = time.perf_counter()
    with ThreadPoolExecutor(c) as pool:
        futures = [pool.submit(lambda i=i: verified_login(url, protocol, i)
                               if time.monotonic() < deadline else None) for i in range(n)]
        results = [f.result() for f in futures]
    elapsed = time.perf_counter() - started
    cpu = tree_cpu_ms(proxy.master) - cpu_before
    for result in results:
        if result is None:
            continue  # not started: time bound
        latency, err = result
        if err is None:
            latencies.append(latency)
        else:
            errors[err] = errors.get(err, 0) + 1
    master_rss, worker_rss = proxy.rss()
    shared = proxy.shared_view()
    ok = len(latencies)
    return {"path": path, "proxy": proxy.name, "concurrency": c, "ok": ok,
            "errors": sum(errors.values()), "error_kinds": errors,
            "not_started": sum(r is None for r in results), "seconds": round(elapsed, 2),
            "logins_per_s": ok / elapsed if elapsed else 0.0,
            "p50_ms": pct(latencies, 50) * 1000, "p95_ms": pct(latencies, 95) * 1000,
            "p99_ms": pct(latencies, 99) * 1000,
            "cpu_ms_per_login": cpu / ok if ok else float("nan"),
            "rss_master_mib": master_rss, "rss_workers_mib": worker_rss, **shared}


def add_vanilla_services(fed, vanilla: VanillaSatosa, peer_crypto: str) -> dict[str, str]:
    """Demo services of the same kinds as the testbed's (the same ``peer_crypto``),
    registered at vanilla SATOSA."""
    urls = {}
    for path in PATHS:
        sid = SERVICE_OF_PATH[path]  # rp-op, rp-idp, sp-op, sp-idp
        protocol, sources, *_ = DEFAULT_SERVICES[sid]
        backend = BACKEND_OF_SOURCE[sources[0]]
        vid = f"vanilla-{sid}"
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        if protocol == "oidc":
            secret = os.urandom(18).hex()
            app = make_demo_rp(base, vanilla.base, vid, secret, f"RP {vid}")
            vanilla.add_oidc_service(vid, secret, f"{base}/callback", backend)
            fed.add(vid, app, port)
        else:
            keys = fed.folder / "peers"
            write_key_pair(keys / f"{vid}.pem", keys / f"{vid}.crt", vid)
            app = make_demo_sp(base, keys / f"{vid}.pem", keys / f"{vid}.crt",
                               vanilla.frontend_entity, f"SP {vid}", crypto=peer_crypto)
            fed.add(vid, app, port)
            xml = requests.get(f"{base}/metadata", timeout=10).text
            vanilla.add_saml_service(f"{base}/metadata", xml, backend)
        urls[path] = base
    return urls


# -- report -------------------------------------------------------------------------------


def _f(value: float, digits: int = 1) -> str:
    return "—" if value != value else f"{value:.{digits}f}"  # NaN -> dash


def markdown(rows: list[dict], meta: dict) -> str:
    head = ("| path | C | proxy | logins/s | p50 ms | p95 ms | p99 ms | CPU ms/login "
            "| RSS/worker MiB | master MiB (own) | PSS total MiB | errors "
            "| ratio to vanilla (logins/s, p50, CPU) |")
    lines = [head, "|" + " --- |" * 13]
    index = {(r["path"], r["concurrency"], r["proxy"]): r for r in rows}
    for r in rows:
        v = index.get((r["path"], r["concurrency"], "vanilla"))
        ratio = "—"
        if r["proxy"] != "vanilla" and v:
            ratio = (f"{_ratio(r['logins_per_s'], v['logins_per_s'])}, "
                     f"{_ratio(r['p50_ms'], v['p50_ms'])}, "
                     f"{_ratio(r['cpu_ms_per_login'], v['cpu_ms_per_login'])}")
        workers = "/".join(f"{w:.0f}" for w in r["rss_workers_mib"])
        lines.append(
            f"| {r['path'].replace('->', '→').upper()} | {r['concurrency']} "
            f"| {r['proxy']} | {_f(r['logins_per_s'])} | {_f(r['p50_ms'], 0)} "
            f"| {_f(r['p95_ms'], 0)} | {_f(r['p99_ms'], 0)} | {_f(r['cpu_ms_per_login'])} "
            f"| {workers} | {r['rss_master_mib']:.0f} ({r['uss_master_mib']:.0f}) "
            f"| {r['pss_total_mib']:.0f} | {r['errors']} | {ratio} |")
    lines += ["", "Targets (ours): " + "; ".join(
        f"{k}: {'not measured' if ok is None else 'met' if ok else 'NOT met'}"
        for k, ok in meta["targets"].items()), ""]
    lines += [f"- {note}" for note in meta["notes"]]
    return "\n".join(lines) + "\n"


def _no_nan(value):
    """NaN (no verified login in a block) as JSON null."""
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, dict):
        return {k: _no_nan(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_no_nan(v) for v in value]
    return value


def _ratio(a: float, b: float) -> str:
    return "—" if not b or a != a or b != b else f"{a / b:.2f}×"


def targets(rows: list[dict]) -> dict[str, bool | None]:
    """The issue's targets for ours, measured in this run (None: not measured here)."""
    ours = [r for r in rows if r["proxy"] == "ours"]
    van = {(r["path"], r["concurrency"]): r for r in rows if r["proxy"] == "vanilla"}
    pairs = [(r, van[(r["path"], 4)]) for r in ours
             if r["concurrency"] == 4 and (r["path"], 4) in van]
    return {
        "CPU per login <= 8 ms on every path": all(
            r["cpu_ms_per_login"] <= TARGETS["cpu_ms_per_login"] for r in ours),
        "p99 at C=4 below vanilla's p50 (same run)": all(
            r["p99_ms"] < v["p50_ms"] for r, v in pairs) if pairs else None,
        "RSS per worker <= 100 MiB": all(
            max(r["rss_workers_mib"] or [0]) <= TARGETS["rss_worker_mib"] for r in ours),
        "master RSS <= 60 MiB": all(
            r["rss_master_mib"] <= TARGETS["rss_master_mib"] for r in ours),
        "zero errors, every login verified": all(
            r["errors"] == 0 and r["not_started"] == 0 for r in ours),
    }


# -- main ---------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=60, help="logins per path, proxy and "
                    "concurrency (max 1000)")
    ap.add_argument("--concurrency", default="1,4", help="comma-separated, each max 16")
    ap.add_argument("--workers", type=int, default=2, help="gunicorn workers of ours")
    add_peer_crypto_option(ap)
    ap.add_argument("--vanilla-workers", type=int, default=2,
                    help="gunicorn workers of vanilla SATOSA (with more than 1, its SAML "
                    "backend runs with allow_unsolicited: its outstanding requests are "
                    "per process)")
    ap.add_argument("--paths", default=",".join(PATHS), help="comma-separated subset")
    ap.add_argument("--max-seconds", type=float, default=60, help="time bound per block")
    ap.add_argument("--warmup", type=int, default=2, help="unmeasured logins per path/proxy")
    ap.add_argument("--out", type=Path, default=Path("bench/results"))
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary folder (configurations, proxies' logs)")
    args = ap.parse_args(argv)
    n = max(1, min(args.n, 1000))
    levels = [max(1, min(int(c), 16)) for c in args.concurrency.split(",")]
    paths = [p for p in args.paths.split(",") if p]
    unknown = set(paths) - set(PATHS)
    if unknown:
        ap.error(f"unknown paths {sorted(unknown)}; choose among {PATHS}")

    venv = ensure_venv()
    rows: list[dict] = []
    folder_cm = (contextlib.nullcontext(tempfile.mkdtemp(prefix="ncc-compare-")) if args.keep
                 else tempfile.TemporaryDirectory(prefix="ncc-compare-"))
    with folder_cm as tmp:
        folder = Path(tmp)
        redis_ours = RedisServer(folder / "redis-ours")
        redis_vanilla = RedisServer(folder / "redis-vanilla")
        fed = build_federation(folder / "fed", peer_crypto=args.peer_crypto)
        vanilla = VanillaSatosa(venv, folder / "vanilla", free_port())
        try:
            # Register vanilla at the same sources: a client at the OIDC source, its SP
            # metadata at the SAML IdP (fetched by the IdP when vanilla first asks).
            op, idp = fed.apps["src-op"], fed.apps["src-idp"]
            op.provider.clients[vanilla.op_client_id] = {
                "client_secret": vanilla.op_client_secret,
                "redirect_uris": [vanilla.oidc_callback], "response_types": ["code"],
                "token_endpoint_auth_method": "client_secret_basic"}
            idp.sp_metadata_urls.append(vanilla.backend_entity)
            vanilla_urls = add_vanilla_services(fed, vanilla, args.peer_crypto)
            idp_xml = requests.get(f"{fed.url('src-idp')}/metadata", timeout=10).text
            vanilla.write_config(fed.url("src-op"), idp_xml, redis_vanilla.url,
                                 args.vanilla_workers)

            ours_proxy = fed.start_proxy(workers=args.workers, store=redis_ours.url)
            vanilla.start(args.vanilla_workers)
            proxies = [
                Measured("ours", ours_proxy.proc.pid,
                         {p: fed.url(SERVICE_OF_PATH[p]) for p in PATHS}),
                Measured("vanilla", vanilla.proc.pid, vanilla_urls)]
            for proxy in proxies:  # warm-up: metadata, JWKS, discovery, connections
                for path in paths:
                    protocol = "oidc" if path.startswith("oidc") else "saml2"
                    for i in range(args.warmup):
                        _, err = verified_login(proxy.services[path], protocol, i)
                        if err:
                            raise SystemExit(f"warm-up failed: {proxy.name} {path}: {err}"
                                             f" (logs in {folder})")
            print(f"gunicorn sync workers: ours {args.workers}, vanilla "
                  f"{args.vanilla_workers}; {n} logins per block; concurrency {levels}",
                  flush=True)
            for c in levels:
                for k, path in enumerate(paths):
                    order = proxies if k % 2 == 0 else proxies[::-1]  # alternate who goes first
                    for proxy in order:
                        r = run_block(proxy, path, n, c, args.max_seconds)
                        rows.append(r)
                        print(f"  {path:<11} C={c} {proxy.name:<8} {r['ok']:>4} ok "
                              f"{r['errors']:>3} err {r['logins_per_s']:>6.1f}/s "
                              f"p50 {r['p50_ms']:>6.0f} p99 {r['p99_ms']:>6.0f} ms "
                              f"CPU {r['cpu_ms_per_login']:>6.1f} ms/login"
                              + (f"  {r['error_kinds']}" if r["errors"] else ""), flush=True)
        finally:
            fed.stop()
            vanilla.stop()
            redis_ours.stop()
            redis_vanilla.stop()

    rows.sort(key=lambda r: (paths.index(r["path"]), r["concurrency"], r["proxy"] != "ours"))
    meta = {
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "cpus": os.cpu_count(), "n": n, "concurrency": levels, "workers": {"ours": args.workers,
                                                                  "vanilla": args.vanilla_workers},
        "versions": {name: importlib.metadata.version(name)
                     for name in ("SATOSA", "pysaml2", "pyop", "oic", "gunicorn")},
        "targets": targets(rows),
        "notes": [
            f"gunicorn sync workers: ours {args.workers}, vanilla {args.vanilla_workers}; all on "
            "the same cores as the driving client and the demo sources (in the benchmark's "
            f"process); the demo SAML peers' XML security: {args.peer_crypto}",
            "ours: `ncconnect serve`, Redis store, every plugin on (source choice, pairwise "
            "identifiers, minimisation, information screen passed at every login — one more "
            "round trip than vanilla); SAML crypto as configured (in-process by default)",
            "vanilla: SATOSA with SAMLFrontend, OpenIDConnectFrontend (pyop storage in "
            "Redis, so any worker serves any step), SAMLBackend, OpenIDConnectBackend, and "
            "only SATOSA's stock DecideBackendByRequester routing micro-service (its OIDC "
            "frontend cannot pick among two backends otherwise); pysaml2's default xmlsec1 "
            "subprocess for every signature and verification; no consent or information "
            "screen, no attribute minimisation (it releases all the source's attributes)",
            "vanilla, unavoidable: SATOSA 8.6.0's SAMLFrontend cannot verify signed "
            "Redirect-binding AuthnRequests (it parses them without SigAlg/Signature), so "
            "want_authn_requests_signed is off (ours verifies them)"
            + ("; its SAMLBackend keeps outstanding request ids per process, so with "
               f"{args.vanilla_workers} workers it runs with allow_unsolicited (InResponseTo "
               "not checked by the proxy; RelayState still bound to the state cookie)"
               if args.vanilla_workers > 1 else "; one worker: InResponseTo checked"),
            "vanilla shim (bench/vanilla_wsgi.py): oic's https-only issuer check accepts "
            "http://127.0.0.1 issuers, and pysaml2 honours the top-level signing_algorithm "
            "(RSA-SHA256, else its Redirect AuthnRequests are RSA-SHA1, refused by the demo "
            "source)",
            "verification: the demo services check ID token signature/iss/aud/nonce/at_hash "
            "and userinfo sub, or SAML Response+assertion signature, audience, destination, "
            "InResponseTo; then given_name, family_name, birthdate must equal the citizen's",
            "CPU ms/login: utime+stime+cutime+cstime of the gunicorn master, workers and "
            "live children, delta over the block, divided by verified logins",
            "ratio: ours / vanilla (logins/s higher is better; p50 and CPU lower is better)",
            "memory: RSS counts a page in every process that maps it; master (own) is the "
            "master's USS (pages no worker shares), PSS total the master and workers "
            "together with each shared page counted once (smaps_rollup)",
        ],
    }
    report = {"meta": meta, "results": rows}
    args.out.mkdir(parents=True, exist_ok=True)
    stamp = meta["generated"].replace(":", "").replace("-", "")
    (args.out / f"compare-{stamp}.json").write_text(json.dumps(_no_nan(report), indent=2))
    table = markdown(rows, meta)
    (args.out / f"compare-{stamp}.md").write_text(table)
    print()
    print(table)
    print(f"written: {args.out / f'compare-{stamp}.json'} and .md")
    return report


if __name__ == "__main__":
    main()
