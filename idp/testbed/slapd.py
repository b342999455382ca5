"""A private OpenLDAP ``slapd`` (Debian's package) on a free loopback port.

The tests, the benchmark and ``ncconnect demo`` need a real directory: NC Connect's citizen
accounts and an administration's directory. Each :class:`Slapd` writes its own
``slapd.conf`` (the schemas Debian ships plus :file:`ldap/ncconnect.schema`), one MDB
database per suffix in its own folder, is seeded offline with ``slapadd`` (fast, even for
120,000 entries), and runs in the foreground (``-d 0``) so that it is stopped by its PID.
Nothing under /etc/ldap or /var/lib/ldap is read for data or written.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from .servers import free_port

SCHEMA_DIR = Path("/etc/ldap/schema")
OUR_SCHEMA = Path(__file__).resolve().parent / "ldap" / "ncconnect.schema"
MODULE_DIR = Path("/usr/lib/ldap")
#: NC Connect's own accounts, and a Province's user-relations directory (tests and demo).
ACCOUNTS_SUFFIX = "dc=comptes,dc=nc-connect,dc=nc"
PROVINCE_SUFFIX = "dc=province-sud,dc=nc"


def _require(program: str) -> str:
    found = shutil.which(program) or (f"/usr/sbin/{program}"
                                      if Path(f"/usr/sbin/{program}").exists() else None)
    if found is None:
        raise RuntimeError(f"{program} not found: it comes with Debian's slapd package; "
                           "run scripts/setup.sh")
    return found


class Slapd:
    """A directory with one database per suffix; :meth:`seed` before :meth:`start`."""

    def __init__(self, folder: Path, suffixes: Sequence[str] = (ACCOUNTS_SUFFIX,),
                 port: int | None = None, global_conf: str = "",
                 database_conf: Mapping[str, str] | None = None) -> None:
        self.slapd = _require("slapd")
        self.slapadd = _require("slapadd")
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"ldap://127.0.0.1:{self.port}"
        self.suffixes = list(suffixes)
        #: The directory manager's password (rootpw), one for every database here.
        self.admin_password = secrets.token_urlsafe(18)
        self.conf = folder / "slapd.conf"
        self.log = folder / "slapd.log"
        self.proc: subprocess.Popen | None = None
        self._write_conf(global_conf, dict(database_conf or {}))

    def admin_dn(self, suffix: str | None = None) -> str:
        return f"cn=admin,{suffix or self.suffixes[0]}"

    def _write_conf(self, global_conf: str, database_conf: dict[str, str]) -> None:
        schemas = [SCHEMA_DIR / f"{n}.schema" for n in ("core", "cosine", "nis", "inetorgperson")]
        lines = [f"include {s}" for s in [*schemas, OUR_SCHEMA]]
        lines += [f"pidfile {self.folder / 'slapd.pid'}", f"argsfile {self.folder / 'slapd.args'}",
                  f"modulepath {MODULE_DIR}", "moduleload back_mdb", global_conf]
        for i, suffix in enumerate(self.suffixes):
            db = self.folder / f"db{i}"
            db.mkdir(mode=0o700, exist_ok=True)
            lines += ["", "database mdb", f'suffix "{suffix}"', f'rootdn "{self.admin_dn(suffix)}"',
                      f"rootpw {self.admin_password}", f"directory {db}", "maxsize 1073741824",
                      "index objectClass eq", "index uid eq", "index sn,givenName eq",
                      database_conf.get(suffix, "")]
        # 0600: it holds the manager's password in clear (slapd runs as this same user).
        fd = os.open(self.conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as conf:
            conf.write("\n".join(lines) + "\n")

    def seed(self, ldif: str, suffix: str | None = None) -> None:
        """Load entries offline (``slapadd``): before :meth:`start`, or while stopped."""
        source = self.folder / f"seed-{secrets.token_hex(4)}.ldif"
        source.write_text(ldif, encoding="utf-8")
        done = subprocess.run([self.slapadd, "-q", "-f", str(self.conf), "-b",
                               suffix or self.suffixes[0], "-l", str(source)],
                              capture_output=True, text=True, timeout=600, check=False)
        source.unlink()
        if done.returncode != 0:
            raise RuntimeError(f"slapadd failed ({done.returncode}): {done.stderr.strip()[-2000:]}")

    def start(self, timeout: float = 15) -> Slapd:
        log = open(self.log, "ab")  # noqa: SIM115 - handed to the process, closed in stop()
        self.proc = subprocess.Popen(
            [self.slapd, "-d", "0", "-f", str(self.conf), "-h", f"{self.url}/"],
            stdout=log, stderr=log, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"slapd exited with {self.proc.returncode}: "
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"slapd did not listen on {self.url} within {timeout}s")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    def __enter__(self) -> Slapd:
        return self.start() if self.proc is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
