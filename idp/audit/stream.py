"""The audit stream's files: JSON lines, one file per day, kept ``retention_days``.

The lines carry the citizen's account key, a pseudonym: personal data under the RGPD, hence
a stream of its own, with its own retention (by default the connection history's, the
longest a citizen's trace is kept anywhere), and never in the general logs (the
``ncconnect.audit`` logger does not propagate to them once the stream is set up).

Every worker of a host appends to the same day's file, ``audit-YYYY-MM-DD.jsonl`` (UTC), in
the audit folder (``DATA_DIR/audit`` by default; folder 0700, files 0600). Each line is one
``write`` on a descriptor opened with ``O_APPEND``, so lines of several processes never
interleave. When a worker opens a new day's file it deletes the files older than the
retention: nothing is kept longer than said, without a cleanup job. Several hosts write
their own folders; ``ncconnect audit citizen`` reads the files of all of them.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import re
import threading
from pathlib import Path

from ..correlation import citizen, login_id
from .events import AUDIT_LOGGER

FILE_PATTERN = re.compile(r"^audit-(\d{4}-\d{2}-\d{2})\.jsonl$")


def day_file(folder: Path, day: dt.date) -> Path:
    return folder / f"audit-{day.isoformat()}.jsonl"


class AuditFilter(logging.Filter):
    """Adds the login id and the citizen's account key bound to the request being served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "login_id", None) is None:
            record.login_id = login_id()
        if getattr(record, "citizen", None) is None:
            record.citizen = citizen()
        return True


class AuditFileHandler(logging.Handler):
    def __init__(self, folder: Path, retention_days: int) -> None:
        super().__init__(logging.INFO)
        self.folder = folder
        self.retention_days = retention_days
        self._day: dt.date | None = None
        self._fd: int | None = None
        self._lock_day = threading.Lock()
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        self.addFilter(AuditFilter())

    def line(self, record: logging.LogRecord) -> bytes:
        entry = {
            "ts": dt.datetime.fromtimestamp(record.created, dt.UTC)
                  .strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
            "event": getattr(record, "event", record.getMessage()),
            "login_id": record.login_id,
            "citizen": record.citizen,
        }
        fields = getattr(record, "audit", None)
        if isinstance(fields, dict):
            # An event about someone else than the request's citizen (a session ended from
            # another channel) names them itself.
            entry.update({k: v for k, v in fields.items()
                          if k not in entry or entry[k] is None})
        return (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")

    def _descriptor(self, now: dt.datetime) -> int:
        day = now.date()
        with self._lock_day:
            if self._fd is None or day != self._day:
                if self._fd is not None:
                    os.close(self._fd)
                self._fd = os.open(day_file(self.folder, day),
                                   os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                self._day = day
                self.prune(day)
            return self._fd

    def prune(self, today: dt.date) -> list[Path]:
        """Delete the day files older than the retention; returns what was deleted."""
        oldest = today - dt.timedelta(days=self.retention_days)
        gone = []
        for file in self.folder.iterdir():
            match = FILE_PATTERN.match(file.name)
            if match and dt.date.fromisoformat(match.group(1)) < oldest:
                file.unlink(missing_ok=True)
                gone.append(file)
        return gone

    def emit(self, record: logging.LogRecord) -> None:
        try:
            data = self.line(record)
            os.write(self._descriptor(dt.datetime.fromtimestamp(record.created, dt.UTC)), data)
        except Exception:  # noqa: BLE001 - logging must never break a login
            self.handleError(record)

    def close(self) -> None:
        with self._lock_day:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        super().close()


def setup_audit(folder: Path, retention_days: int) -> AuditFileHandler:
    """Send ``ncconnect.audit`` to its files only (no longer to the general logs)."""
    logger = logging.getLogger(AUDIT_LOGGER)
    for old in logger.handlers:
        old.close()
    handler = AuditFileHandler(folder, retention_days)
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler
