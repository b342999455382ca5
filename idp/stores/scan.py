"""Scan a store, as an attacker with a copy of it would, for given strings.

    python -m idp.stores.scan --store sqlite:///srv/ncconnect/data/store.db "Wamytan" "1987-05-14"
    python -m idp.stores.scan --store redis://127.0.0.1:6379/0 "Wamytan"

The embedded store is read as bytes: ``store.db`` and every file SQLite may leave next to
it (``-wal``, ``-journal``, ``-shm``). Redis is read key by key: ``DUMP`` (what a backup or a
replica holds) and the value itself (``DUMP`` may compress it). Each string is looked for as
typed, JSON-quoted (how a record would hold it, ``\\u`` escapes included) and, for a date
``YYYY-MM-DD``, as ``DD/MM/YYYY`` and ``YYYYMMDD``. Strings shorter than
:data:`MIN_BARE` characters are looked for quoted only: bare, they occur by chance in
hashes and sealed blobs. Exit status 1 when anything is found.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

#: Below this length a string is looked for JSON-quoted only.
MIN_BARE = 6
SQLITE_SUFFIXES = ("", "-wal", "-journal", "-shm")
_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def forms(value: str) -> set[bytes]:
    """The byte strings that would betray ``value`` in a store."""
    texts = {value}
    date = _DATE.match(value)
    if date:
        y, m, d = date.groups()
        texts |= {f"{d}/{m}/{y}", f"{y}{m}{d}"}
    found: set[bytes] = set()
    for text in texts:
        found.add(json.dumps(text).encode("ascii"))
        found.add(json.dumps(text, ensure_ascii=False).encode("utf-8"))
        if len(text) >= MIN_BARE:
            found.add(text.encode("utf-8"))
            found.add(json.dumps(text)[1:-1].encode("ascii"))
    return found


@dataclass
class ScanReport:
    """What was scanned and what was found (``place`` -> the strings found there)."""

    places: dict[str, int] = field(default_factory=dict)
    found: dict[str, list[str]] = field(default_factory=dict)
    strings: int = 0

    def add(self, place: str, data: bytes, needles: dict[bytes, str]) -> None:
        self.places[place] = self.places.get(place, 0) + len(data)
        hits = sorted({value for form, value in needles.items() if form in data})
        if hits:
            self.found.setdefault(place, []).extend(hits)

    @property
    def clean(self) -> bool:
        return not self.found

    def summary(self) -> str:
        lines = [f"scanned {len(self.places)} places, {sum(self.places.values())} bytes, "
                 f"for {self.strings} strings: "
                 + ("nothing found" if self.clean else f"FOUND in {len(self.found)} places")]
        for place, hits in sorted(self.found.items()):
            lines.append(f"  {place}: {', '.join(sorted(set(hits)))}")
        return "\n".join(lines)


def _needles(values: Iterable[str]) -> dict[bytes, str]:
    return {form: value for value in values if value for form in forms(value)}


def scan_sqlite(db_path: str | Path, values: Iterable[str],
                report: ScanReport | None = None) -> ScanReport:
    report = report or ScanReport()
    needles = _needles(values)
    report.strings = len(set(needles.values()))
    for suffix in SQLITE_SUFFIXES:
        path = Path(f"{db_path}{suffix}")
        if path.is_file():
            report.add(path.name, path.read_bytes(), needles)
    return report


def scan_redis(url: str, values: Iterable[str], pattern: str = "*",
               report: ScanReport | None = None) -> ScanReport:
    import redis

    report = report or ScanReport()
    needles = _needles(values)
    report.strings = len(set(needles.values()))
    if urlparse(url).scheme == "redis+sentinel":
        # The primary the sentinels name (replicas hold the same records).
        from . import build_store

        client = build_store(url).client  # type: ignore[attr-defined]
    else:
        client = redis.Redis.from_url(url)
    try:
        for key in client.scan_iter(match=pattern, count=500):
            name = key.decode("utf-8", "replace")
            dumped = client.dump(key)
            if dumped is None:  # expired meanwhile
                continue
            kind = client.type(key)
            if kind == b"hash":
                plain = b"\n".join(k + b"=" + v for k, v in client.hgetall(key).items())
            elif kind == b"string":
                plain = client.get(key) or b""
            else:
                plain = b""
            report.add(f"redis {name}", dumped + b"\n" + plain, needles)
    finally:
        client.close()
    return report


def scan_store(url: str, values: Iterable[str]) -> ScanReport:
    if urlparse(url).scheme == "sqlite":
        return scan_sqlite(url[len("sqlite://"):].split("?", 1)[0], values)
    return scan_redis(url, values)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--store", required=True,
                    help="sqlite:///path/store.db, redis://… or redis+sentinel://…")
    ap.add_argument("strings", nargs="+", help="values that must not be found")
    args = ap.parse_args(argv)
    report = scan_store(args.store, args.strings)
    print(report.summary())
    return 0 if report.clean else 1


if __name__ == "__main__":
    sys.exit(main())
