"""prometheus-client's multiprocess mode under gunicorn.

Each worker writes its counters and histograms to memory-mapped files in one folder, and
the scrape (any worker) adds them up. prometheus-client chooses the mode when it is first
imported, from ``PROMETHEUS_MULTIPROC_DIR``: :func:`prepare` must run in the master before
the application (and so prometheus-client) is imported. The folder is emptied at each
start (the counters of a previous run are not this one's) and is ``DATA_DIR/metrics``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(folder: Path) -> Path:
    """Point prometheus-client at ``folder``, emptied; before it is imported."""
    if "prometheus_client" in sys.modules and os.environ.get(ENV) != str(folder):
        raise RuntimeError("prometheus_client was imported before the metrics folder was set")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    for file in folder.glob("*.db"):
        file.unlink(missing_ok=True)
    os.environ[ENV] = str(folder)
    return folder


def enabled() -> bool:
    return bool(os.environ.get(ENV))


def worker_exited(pid: int) -> None:
    """gunicorn ``child_exit``: a dead worker's live gauges no longer count."""
    if enabled():
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)
