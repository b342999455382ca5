"""Where a login's time goes in the proxy: the top costs of one path, and its store traffic.

    python bench/profile.py oidc->oidc -n 30 -c 2 --workers 2 --store redis
    python bench/profile.py saml->saml --clock wall --top 30 --save /tmp/saml.prof

Starts the same federation as ``bench/logins.py`` (demo peers, the proxy under gunicorn
via ``ncconnect serve``, a throw-away redis-server), with ``NCC_PROFILE_DIR`` set: each
proxy worker then runs cProfile over the requests it serves while the tool's switch is on
(``idp/gunicorn_app.py``), and writes its stats when it exits. One warm-up login (metadata,
JWKS, connections) is not profiled; then N logins of the named path are, and the tool
prints, per login:

* the proxy workers' CPU time (from ``/proc``; under the profiler, so inflated: see below),
  their RSS;
* own time by group (pysaml2, schema validation, XML signature, XML parsing, redis client,
  socket I/O, jinja, json, HTTP client to sources, sealing, JOSE, SATOSA, NC Connect's code,
  other), the time of stdlib functions and builtins counted in the group of their callers;
* the top functions by own time and by cumulative time;
* with ``--trace``, the Redis commands of one more login in order (namespaces only);
* with ``--store redis``, every Redis command the proxy sent (``INFO commandstats`` deltas)
  and the round trips (``total_reads_processed``: a pipeline or a ``MULTI/EXEC`` block sent
  at once is one).

``--clock cpu`` (default) profiles CPU time, the figure the benchmarks target;
``--clock wall`` also counts waiting (on Redis, on the sources). cProfile slows Python
code down (roughly 1.5-2x), C code (lxml, xmlsec, OpenSSL) much less: read the groups as
shares, and the CPU ms per login of ``bench/logins.py`` as the absolute figure.
``--save FILE`` keeps the merged stats for ``python -m pstats FILE`` or snakeviz.
Bounded: at most 500 logins and --max-seconds.
"""

from __future__ import annotations

import argparse
import pstats
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis as redis_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from logins import (  # noqa: E402
    FIRST_LOGIN,
    PATHS,
    add_peer_crypto_option,
    cpu_ms,
    one_login,
    rss_kib,
    run_path,
)

from idp.testbed.federation import build_federation  # noqa: E402
from idp.testbed.servers import RedisServer  # noqa: E402

#: (group, markers in the file name or, for C functions, in the function's name); first
#: match wins, so specific groups come before general ones.
GROUPS: list[tuple[str, tuple[str, ...]]] = [
    ("XML signature/encryption (xmlsec)", ("plugins/saml2/crypto", "xmlsec")),
    ("sealing at rest", ("idp/stores/sealing",)),
    ("redis client", ("/redis/",)),
    ("embedded store (sqlite)", ("sqlite3", "idp/stores/sqlite")),
    ("HTTP client to sources (requests/urllib3)", ("/requests/", "/urllib3/", "http/client",
                                                   "ssl.py", "_ssl.")),
    ("socket I/O", ("socket", "select", "poll")),
    ("pysaml2 (parse, objects, checks)", ("/saml2/",)),
    ("schema validation (xmlschema, via pysaml2)", ("xmlschema", "saml2/xml/schema")),
    ("XML parsing (lxml, ElementTree, defusedxml)", ("lxml", "xml/etree", "xml/dom",
                                                     "defusedxml", "pyexpat", "elementtree")),
    ("jinja templates", ("jinja2", "markupsafe")),
    ("JOSE / OIDC libraries", ("cryptojwt", "jwkest", "/oic/", "pyop", "idpyoidc", "jwt")),
    ("cryptography (OpenSSL)", ("cryptography", "_hashlib", "hashlib", "hmac")),
    ("json", ("json",)),
    ("SATOSA", ("/satosa/",)),
    ("gunicorn", ("/gunicorn/",)),
    ("NC Connect code (idp/, plugins/)", ("/idp/", "/plugins/")),
]


def group_of(func: tuple[str, int, str]) -> str:
    filename, _line, name = func
    where = filename if filename != "~" else name
    for group, markers in GROUPS:
        if any(m in where for m in markers):
            return group
    return OTHER


OTHER = "other (stdlib, builtins)"
#: How far up the callers the own time of a stdlib function or builtin is carried, to the
#: first caller in a named group (``isinstance`` called by xmlschema counts as xmlschema).
ATTRIBUTION_DEPTH = 6


def grouped(entries: dict) -> dict[str, float]:
    """Own time per group, the time of stdlib functions and builtins carried to the group
    of their callers (split by the time spent for each caller)."""
    groups: dict[str, float] = {}
    for func, e in entries.items():
        shares = [(func, e[2])]
        for _ in range(ATTRIBUTION_DEPTH):
            pending = []
            for f, t in shares:
                group = group_of(f)
                callers = entries.get(f, (0, 0, 0, 0, {}))[4]
                if group != OTHER or not callers:
                    groups[group] = groups.get(group, 0.0) + t
                    continue
                weights = {c: (v[2] if isinstance(v, tuple) else 0) for c, v in callers.items()}
                total = sum(weights.values())
                if total <= 0:
                    weights = {c: 1.0 for c in callers}
                    total = float(len(callers))
                pending += [(c, t * w / total) for c, w in weights.items()]
            shares = pending
            if not shares:
                break
        for _f, t in shares:
            groups[OTHER] = groups.get(OTHER, 0.0) + t
    return groups


def label(func: tuple[str, int, str]) -> str:
    filename, line, name = func
    if filename == "~":
        return name
    for marker in ("site-packages/", "/work/main/", "/lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line}({name})"


def commandstats(client: redis_client.Redis) -> dict[str, int]:
    """Calls per command so far, and under ``__reads`` the read events the server processed
    (``total_reads_processed``: one per request or pipeline received, i.e. round trips)."""
    info = client.info("all")
    out = {name.removeprefix("cmdstat_"): int(v["calls"])
           for name, v in info.items() if name.startswith("cmdstat_")}
    out["__reads"] = int(info["total_reads_processed"])
    return out


def trace_one_login(client: redis_client.Redis, service: str, first: str | None
                    ) -> list[str]:
    """The Redis commands of one more login, in order, as ``COMMAND namespace``: keys cut
    after their namespace (no hash, no value is printed); a MULTI/EXEC block on one line."""
    seen: list[str] = []
    ready = threading.Event()
    done = threading.Event()

    def listen() -> None:
        with client.monitor() as monitor:
            ready.set()
            for event in monitor.listen():
                if done.is_set() and "ncc:" not in event["command"]:
                    break
                seen.append(event["command"])

    thread = threading.Thread(target=listen, daemon=True)
    thread.start()
    ready.wait(5)
    time.sleep(0.2)
    one_login(service, 1, first)
    done.set()
    client.ping()  # wakes the listener up
    thread.join(5)
    lines: list[str] = []
    in_block: list[str] | None = None
    for command in seen:
        words = command.split()
        name = words[0].strip('"').upper() if words else ""
        if name in ("PING", "INFO", "MONITOR"):
            continue
        key = words[1].strip('"') if len(words) > 1 else ""
        short = f"{name} {':'.join(key.split(':')[1:2])}".strip()
        if name == "MULTI":
            in_block = []
        elif name == "EXEC" and in_block is not None:
            lines.append("MULTI[" + ", ".join(in_block) + "]")
            in_block = None
        elif in_block is not None:
            in_block.append(short)
        else:
            lines.append(short)
    return lines


def wait_for_stats(folder: Path, count: int, timeout: float = 20) -> list[Path]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = sorted(folder.glob("worker-*.prof"))
        if len(files) >= count:
            return files
        time.sleep(0.2)
    return sorted(folder.glob("worker-*.prof"))


def report(stats: pstats.Stats, logins: int, top: int) -> None:
    entries = stats.stats  # func -> (cc, nc, tottime, cumtime, callers)
    total = sum(e[2] for e in entries.values())
    per = 1000 / max(logins, 1)
    groups = grouped(entries)
    print(f"\nprofiled time per login: {total * per:.1f} ms (under cProfile)")
    print("\nown time by group (stdlib and builtins counted in their callers' group):")
    for group, t in sorted(groups.items(), key=lambda kv: -kv[1]):
        print(f"  {t * per:8.2f} ms  {100 * t / total if total else 0:5.1f} %  {group}")
    print(f"\ntop {top} functions by own time (ms per login, calls per login):")
    for func, e in sorted(entries.items(), key=lambda kv: -kv[1][2])[:top]:
        print(f"  {e[2] * per:8.2f}  {e[1] / max(logins, 1):8.1f}  {label(func)}")
    print(f"\ntop {top} functions by cumulative time (ms per login, calls per login):")
    for func, e in sorted(entries.items(), key=lambda kv: -kv[1][3])[:top]:
        print(f"  {e[3] * per:8.2f}  {e[1] / max(logins, 1):8.1f}  {label(func)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("path", choices=sorted(PATHS), help="the login path to profile")
    ap.add_argument("-n", type=int, default=30, help="profiled logins (max 500)")
    ap.add_argument("-c", type=int, default=2, help="concurrent browsers (max 16)")
    ap.add_argument("--workers", type=int, default=2)
    add_peer_crypto_option(ap)
    ap.add_argument("--store", choices=["embedded", "redis"], default="redis")
    ap.add_argument("--clock", choices=["cpu", "wall"], default="cpu")
    ap.add_argument("--top", type=int, default=20, help="functions listed (max 200)")
    ap.add_argument("--save", type=Path, help="write the merged stats to this file")
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--trace", action="store_true",
                    help="with --store redis: list the Redis commands of one more login")
    args = ap.parse_args()
    n, c, top = min(args.n, 500), min(args.c, 16), min(args.top, 200)
    if args.path.startswith("ldap->"):
        ap.error("ldap paths need slapd: profile them with bench/logins.py's setup")

    with tempfile.TemporaryDirectory(prefix="ncc-profile-") as tmp:
        folder = Path(tmp)
        prof_dir = folder / "profiles"
        prof_dir.mkdir()
        red = RedisServer(folder / "redis") if args.store == "redis" else None
        fed = build_federation(folder / "fed", peer_crypto=args.peer_crypto)
        fed.env["NCC_PROFILE_DIR"] = str(prof_dir)
        fed.env["NCC_PROFILE_CLOCK"] = args.clock
        stopped = False
        try:
            proxy = fed.start_proxy(workers=args.workers, store=red.url if red else None)
            workers = proxy.worker_pids()
            service = fed.url(PATHS[args.path])
            first = fed.url(FIRST_LOGIN[args.path]) if args.path in FIRST_LOGIN else None
            one_login(service, 0, first)  # warm-up, not profiled
            client = redis_client.Redis.from_url(red.url) if red else None
            before = commandstats(client) if client else {}
            cpu_before = cpu_ms(workers)
            (prof_dir / "on").touch()
            result = run_path(args.path, service, n, c, args.max_seconds, first)
            (prof_dir / "on").unlink()
            cpu = cpu_ms(workers) - cpu_before
            after = commandstats(client) if client else {}
            rss = [rss_kib(pid) for pid in workers]
            trace = (trace_one_login(client, service, first)
                     if args.trace and client is not None else [])
            done = result["ok"] + sum(result["errors"].values())
            fed.stop()  # the workers write their stats as they exit
            stopped = True
            files = wait_for_stats(prof_dir, len(workers))
        finally:
            if not stopped:
                fed.stop()
            if red:
                red.stop()

        print(f"{args.path}: {result['ok']} logins ok, errors {result['errors'] or 0}; "
              f"{args.workers} workers, store {args.store}, clock {args.clock}")
        if not done:
            return
        print(f"proxy CPU per login (profiled, so inflated): {cpu / done:.1f} ms; RSS per "
              "worker (MiB): " + ", ".join(f"{k / 1024:.0f}" for k in rss))
        if client is not None:
            delta = {k: after[k] - before.get(k, 0) for k in after if k != "__reads"}
            delta = {k: v for k, v in delta.items() if v > 0 and k != "info"}
            commands = sum(v for k, v in delta.items() if k not in ("multi", "exec"))
            # One read event per request the server received: a pipeline's commands, or a
            # MULTI/EXEC block, arrive together (the INFO call itself is one).
            trips = after["__reads"] - before["__reads"] - 1
            print(f"\nRedis per login: {commands / done:.1f} commands, "
                  f"{trips / done:.1f} round trips"
                  + (" (sso->saml: the unmeasured first login of each browser included)"
                     if first else ""))
            for k, v in sorted(delta.items(), key=lambda kv: -kv[1]):
                print(f"  {v / done:6.1f}  {k.upper()}")
        if trace:
            print(f"\nRedis commands of one more login, in order ({len(trace)} round trips, "
                  "the first login of sso->saml included):")
            for line in trace:
                print(f"  {line}")
        if not files:
            print("no profile written (did the workers exit cleanly?)")
            return
        stats = pstats.Stats(*[str(f) for f in files])
        if args.save:
            stats.dump_stats(str(args.save))
        report(stats, done, top)


if __name__ == "__main__":
    main()
