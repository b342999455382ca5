"""``bench/compare.py`` end to end, tiny: both proxies, the four paths, every login verified.

Speed is measured in ``bench/``, not here: this only checks that one run of the comparison
works (vanilla SATOSA's venv created or reused, both proxies registered at the same sources,
every login verified) and writes what it promises.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_compare_runs_both_proxies_on_the_four_paths(tmp_path):
    run = subprocess.run(
        [sys.executable, "-W", "ignore", str(ROOT / "bench" / "compare.py"), "-n", "2",
         "--concurrency", "1,2", "--warmup", "1", "--out", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-4000:]

    [report_file] = tmp_path.glob("compare-*.json")
    report = json.loads(report_file.read_text())
    rows = report["results"]
    assert {(r["path"], r["proxy"], r["concurrency"]) for r in rows} == {
        (path, proxy, c) for path in ("oidc->oidc", "oidc->saml", "saml->oidc", "saml->saml")
        for proxy in ("ours", "vanilla") for c in (1, 2)}
    for r in rows:
        assert r["ok"] == 2 and r["errors"] == 0, r
        assert r["cpu_ms_per_login"] >= 0 and r["rss_master_mib"] > 0, r  # NaN fails too
        assert len(r["rss_workers_mib"]) == 2 and all(w > 0 for w in r["rss_workers_mib"]), r
    markdown = report_file.with_suffix(".md").read_text()
    assert markdown.startswith("| path | C | proxy |") and "| SAML→SAML | 2 | vanilla |" in markdown
    assert "| SAML→SAML | 2 | vanilla |" in run.stdout
