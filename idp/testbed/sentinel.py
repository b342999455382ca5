"""A throw-away Redis Sentinel cluster for tests and benchmarks, on free loopback ports.

One primary, two replicas and three sentinels (Debian's ``redis-server`` and
``redis-sentinel``), each with its own folder and configuration file, bound to 127.0.0.1,
without persistence, stopped by PID. Two replicas, not one: the one-time writes of
:class:`idp.stores.redis.SentinelStore` wait for one replica, so after the primary is
killed the promoted replica needs another replica for logins to go on — as in production,
where three hosts each run a Redis and a sentinel. Sentinel timeouts are small
(``down-after-milliseconds`` 1000, ``failover-timeout`` 3000) so a failover takes seconds.
"""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import redis

from .servers import free_port

MASTER = "ncc"
DOWN_AFTER_MS = 1000
FAILOVER_TIMEOUT_MS = 3000


def _binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        package = "redis-sentinel" if name == "redis-sentinel" else "redis-server"
        raise RuntimeError(f"{name} not found: apt-get install {package} (scripts/setup.sh)")
    return path


def _wait_listening(port: int, proc: subprocess.Popen, what: str) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"{what} did not listen on 127.0.0.1:{port}")


class SentinelCluster:
    """``url()`` is the ``redis+sentinel://`` store URL; ``kill_primary()`` kills the primary
    by PID (SIGKILL: a crash, nothing flushed to the replicas); ``wait_promoted()`` waits for
    the sentinels to name another primary."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.procs: dict[int, subprocess.Popen] = {}  # port -> process
        self.killed: list[int] = []
        try:
            self.primary_port = self._redis("primary")
            self.replica_ports = [self._redis(f"replica{i}", replica_of=self.primary_port)
                                  for i in (1, 2)]
            self._wait(self._replicas_online, "replicas to attach")
            self.sentinel_ports = [self._sentinel(f"sentinel{i}") for i in (1, 2, 3)]
            self._wait(self._sentinels_ready, "sentinels to see each other and both replicas")
        except BaseException:
            self.stop()  # nothing left running when the cluster cannot start
            raise

    # -- processes -----------------------------------------------------------------------

    def _redis(self, name: str, replica_of: int | None = None) -> int:
        port = free_port()
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        cmd = [_binary("redis-server"), "--bind", "127.0.0.1", "--port", str(port),
               "--save", "", "--appendonly", "no", "--dir", str(folder),
               # a replica's first sync starts at once, not after the 5 s default delay
               "--repl-diskless-sync-delay", "0"]
        if replica_of is not None:
            cmd += ["--replicaof", "127.0.0.1", str(replica_of)]
        self._start(cmd, port, folder, f"redis-server {name}")
        return port

    def _sentinel(self, name: str) -> int:
        port = free_port()
        folder = self.folder / name
        folder.mkdir(exist_ok=True)
        conf = folder / "sentinel.conf"  # sentinel rewrites it: one writable file each
        conf.write_text(
            f"bind 127.0.0.1\nport {port}\ndir {folder}\n"
            f"sentinel monitor {MASTER} 127.0.0.1 {self.primary_port} 2\n"
            f"sentinel down-after-milliseconds {MASTER} {DOWN_AFTER_MS}\n"
            f"sentinel failover-timeout {MASTER} {FAILOVER_TIMEOUT_MS}\n"
            f"sentinel parallel-syncs {MASTER} 2\n", encoding="utf-8")
        self._start([_binary("redis-sentinel"), str(conf)], port, folder, f"sentinel {name}")
        return port

    def _start(self, cmd: list[str], port: int, folder: Path, what: str) -> None:
        log = open(folder / "log.txt", "ab")  # noqa: SIM115 - the child holds it
        try:
            proc = subprocess.Popen(cmd, stdout=log, stderr=log, cwd=folder)
        finally:
            log.close()
        self.procs[port] = proc
        try:
            _wait_listening(port, proc, what)
        except Exception:
            self.stop()
            raise

    def _wait(self, ready, what: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if ready():
                    return
            except redis.RedisError:
                pass
            time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"sentinel cluster: waited {timeout}s for {what}")

    def _replicas_online(self) -> bool:
        info = self.client(self.primary_port).info("replication")
        return [info.get(f"slave{i}", {}).get("state") for i in (0, 1)] == ["online"] * 2

    def _sentinels_ready(self) -> bool:
        for port in self.sentinel_ports:
            state = self.client(port).sentinel_master(MASTER)
            if state["num-slaves"] != 2 or state["num-other-sentinels"] != 2:
                return False
        return True

    # -- what tests use ------------------------------------------------------------------

    @staticmethod
    def client(port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=2,
                           socket_connect_timeout=1, retry=None)

    def url(self, **options: int) -> str:
        hosts = ",".join(f"127.0.0.1:{p}" for p in self.sentinel_ports)
        query = "&".join(f"{k}={v}" for k, v in options.items())
        return f"redis+sentinel://{hosts}/{MASTER}/0" + (f"?{query}" if query else "")

    def primary(self) -> int:
        """The primary's port as the first sentinel that answers names it."""
        for port in self.sentinel_ports:
            try:
                _host, primary = self.client(port).sentinel_get_master_addr_by_name(MASTER)
                return int(primary)
            except redis.RedisError:
                continue
        raise RuntimeError("no sentinel answers")

    def kill_primary(self) -> int:
        """SIGKILL the primary (by PID) and return its port."""
        port = self.primary_port
        proc = self.procs[port]
        proc.send_signal(signal.SIGKILL)
        proc.wait(5)
        self.killed.append(port)
        return port

    def cut_replication(self) -> None:
        """Make the replicas miss what the primary writes next, as a lagging network would:
        freeze them (SIGSTOP) and have the primary drop their links, so nothing written now
        reaches them, even later. :meth:`resume_replicas` lets them run again."""
        for port in self.replica_ports:
            self.procs[port].send_signal(signal.SIGSTOP)
        self.client(self.primary_port).client_kill_filter(_type="replica")

    def resume_replicas(self) -> None:
        for port in self.replica_ports:
            self.procs[port].send_signal(signal.SIGCONT)

    def wait_promoted(self, timeout: float = 20) -> int:
        """Wait until every sentinel names another primary than the one killed; return its
        port."""
        old = self.primary_port

        def promoted() -> bool:
            names = {int(self.client(p).sentinel_get_master_addr_by_name(MASTER)[1])
                     for p in self.sentinel_ports}
            return len(names) == 1 and old not in names

        self._wait(promoted, "a replica to be promoted", timeout)
        self.primary_port = self.primary()
        self.replica_ports = [p for p in self.replica_ports if p != self.primary_port]
        return self.primary_port

    def stop(self) -> None:
        """Stop every process this cluster started, by PID."""
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGCONT)  # a frozen replica would not see SIGTERM
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
