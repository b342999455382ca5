"""Real servers for tests, on free loopback ports: redis-server and the proxy under gunicorn."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, timeout: float = 30, proc: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            if requests.get(url, timeout=1).status_code < 500:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


class RedisServer:
    """A throw-away redis-server (Debian package) without persistence."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        """``port``: a given one (a store started again where the proxy expects it)."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server not found: apt-get install redis-server")
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("redis-server did not start")

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


class GunicornProxy:
    """``ncconnect serve`` as a subprocess: the real production entry point."""

    def __init__(self, config: Path, port: int, workers: int, store: str | None = None,
                 env: dict[str, str] | None = None, log: Path | None = None,
                 pid_file: Path | None = None) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{self.port}"
        cmd = [sys.executable, "-m", "idp.cli", "serve", "--config", str(config),
               "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers)]
        if store:
            cmd += ["--store", store]
        if pid_file:
            cmd += ["--pid-file", str(pid_file)]
        self.log = open(log or os.devnull, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(cmd, env={**os.environ, **(env or {})},
                                     stdout=self.log, stderr=self.log, start_new_session=True)
        wait_for(f"{self.url}/healthz", timeout=60, proc=self.proc)

    def worker_pids(self) -> list[int]:
        out = subprocess.run(["pgrep", "-P", str(self.proc.pid)], capture_output=True, text=True)
        return [int(p) for p in out.stdout.split()]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
        self.log.close()
