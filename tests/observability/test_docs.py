"""What operators read matches what the proxy exposes: every metric is listed in
``docs/exploitation/metriques.md``, and the Grafana dashboard uses only metrics that exist."""

from __future__ import annotations

import json
import re
from pathlib import Path

from idp.metrics import definitions

DOCS = Path(__file__).resolve().parents[2] / "docs" / "exploitation"


def exposed_names() -> set[str]:
    names = {m.name + ("_total" if m.kind == "Counter" else "") for m in vars(definitions).values()
             if isinstance(m, definitions.Lazy)}
    return names | {"ncc_key_age_seconds"}


def test_every_metric_is_listed_in_the_operators_page():
    text = (DOCS / "metriques.md").read_text(encoding="utf-8")
    for name in exposed_names():
        assert f"`{name}`" in text, name


def test_the_dashboard_uses_only_metrics_that_exist():
    dashboard = json.loads((DOCS / "grafana-ncconnect.json").read_text(encoding="utf-8"))
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    used = {re.sub(r"_(bucket|count|sum)$", "", name)
            for expr in exprs for name in re.findall(r"\bncc_[a-z_]+", expr)}
    assert used and used <= exposed_names(), used - exposed_names()
    assert {"ncc_logins_completed_total", "ncc_step_seconds", "ncc_source_errors_total",
            "ncc_key_age_seconds"} <= used
