"""One peer process: found on the machine, started on loopback, stopped by its PID.

The interop peers are real programs (``php``, ``apache2``), not threads of the test
process, so a hung or crashed peer must not outlive the test: each is started in its own
session (a ^C in pytest does not reach it half-way), waited for with a bound, and
stopped by its own PID, SIGTERM first, SIGKILL if it does not go.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import requests

SETUP_HINT = "run scripts/setup.sh (it installs the Debian packages the interop tests use)"


class MissingSoftware(RuntimeError):
    """A Debian package the interop tests need is not installed."""


def require_executable(name: str, package: str) -> str:
    """The path of ``name``, or :class:`MissingSoftware` naming the package and the fix."""
    path = shutil.which(name, path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
    if path is None:
        raise MissingSoftware(f"{name} not found (Debian package {package}): {SETUP_HINT}")
    return path


def require_file(path: Path, package: str) -> Path:
    if not path.exists():
        raise MissingSoftware(f"{path} not found (Debian package {package}): {SETUP_HINT}")
    return path


def tail(path: Path, lines: int = 30) -> str:
    """The end of a log file, to put in a failure message."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(text.splitlines()[-lines:]) or f"(empty log {path})"


class PeerProcess:
    """A child process serving ``url`` on 127.0.0.1; its output goes to ``log``."""

    def __init__(self, name: str, cmd: list[str], url: str, log: Path,
                 env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
        self.name = name
        self.url = url
        self.log = log
        log.parent.mkdir(parents=True, exist_ok=True)
        with open(log, "ab") as out:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
                                         env={**os.environ, **(env or {})}, cwd=cwd,
                                         start_new_session=True)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_until_serving(self, path: str = "/", timeout: float = 30,
                           logs: tuple[Path, ...] = ()) -> None:
        """Until ``url + path`` answers below 500; a clear error with the logs otherwise."""
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self._failure(f"exited with {self.proc.returncode}", logs))
            try:
                status = requests.get(self.url + path, timeout=2, allow_redirects=False)
                if status.status_code < 500:
                    return
                last = f"HTTP {status.status_code}"
            except requests.RequestException as exc:
                last = type(exc).__name__
            time.sleep(0.1)
        raise TimeoutError(self._failure(f"did not answer {path} within {timeout}s ({last})",
                                         logs))

    def _failure(self, what: str, logs: tuple[Path, ...]) -> str:
        parts = [f"{self.name} ({self.url}, pid {self.pid}) {what}"]
        parts += [f"--- {path}:\n{tail(path)}" for path in (self.log, *logs)]
        return "\n".join(parts)

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM to our PID, SIGKILL after ``timeout``; reaped either way."""
        if self.proc.poll() is not None:
            return
        os.kill(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(5)
