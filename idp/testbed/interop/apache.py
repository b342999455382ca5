"""A private Apache httpd (Debian's ``apache2``) for the Apache-module partners.

Debian's own configuration (/etc/apache2, its service, port 80) is never used: this
instance runs ``apache2 -f <our httpd.conf> -DFOREGROUND`` with only the modules it
names, listening on one 127.0.0.1 port, and is stopped by its PID.

Started as root, httpd insists on switching its children to an unprivileged user
(``User www-data``), and the children must then read what they serve (a CGI script, a
page). pytest's folders are private to root (0700), so the instance lives in a folder
of its own under the system temp dir, readable by all, that holds nothing secret beyond
the test's throw-away keys and is removed on stop (its logs are copied back to the
test's folder first, for failure messages).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

from ..servers import free_port
from .process import PeerProcess, require_executable, require_file, tail

MODULES_DIR = Path("/usr/lib/apache2/modules")

#: (module identifier, file, Debian package) of every module an instance may load.
MODULES: dict[str, tuple[str, str]] = {
    "mpm_prefork": ("mod_mpm_prefork.so", "apache2-bin"),
    "authn_core": ("mod_authn_core.so", "apache2-bin"),
    "authz_core": ("mod_authz_core.so", "apache2-bin"),
    "authz_user": ("mod_authz_user.so", "apache2-bin"),
    "alias": ("mod_alias.so", "apache2-bin"),
    "mime": ("mod_mime.so", "apache2-bin"),
    "cgi": ("mod_cgi.so", "apache2-bin"),
    "auth_openidc": ("mod_auth_openidc.so", "libapache2-mod-auth-openidc"),
    "auth_mellon": ("mod_auth_mellon.so", "libapache2-mod-auth-mellon"),
}

#: Modules every instance loads: a process model, AuthType/Require, static pages, CGI.
BASE_MODULES = ("mpm_prefork", "authn_core", "authz_core", "authz_user", "alias", "mime", "cgi")


def _readable_by_all(root: Path) -> None:
    """Directories 0755, files 0644 (scripts 0755): what ``User www-data`` needs."""
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        executable = path.is_dir() or mode & stat.S_IXUSR
        path.chmod(0o755 if executable else 0o644)


class PrivateApache:
    """One httpd: ``site`` is the configuration of what it serves (server level, ``@ROOT@``
    standing for the instance's root folder); ``files`` are written under that root
    (relative path -> content; ``.cgi`` files executable)."""

    ROOT = "@ROOT@"

    def __init__(self, logs: Path, modules: tuple[str, ...], site: str,
                 files: dict[str, str], port: int | None = None,
                 log_level: str = "warn") -> None:
        self.binary = require_executable("apache2", "apache2")
        for name in (*BASE_MODULES, *modules):
            so, package = MODULES[name]
            require_file(MODULES_DIR / so, package)
        self.logs = logs
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.root = Path(tempfile.mkdtemp(prefix="ncc-interop-httpd-"))
        for sub in ("htdocs", "cgi-bin", "run", "logs"):
            (self.root / sub).mkdir()
        # mod_mime reads ServerRoot/mime.types; the types are set below (AddType).
        (self.root / "mime.types").write_text("", encoding="utf-8")
        for relative, content in files.items():
            path = self.root / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(content, encoding="utf-8")
            if path.suffix == ".cgi":
                path.chmod(0o755)
        self.conf = self.root / "httpd.conf"
        self.conf.write_text(self._httpd_conf((*BASE_MODULES, *modules), site, log_level),
                             encoding="utf-8")
        _readable_by_all(self.root)
        self.process: PeerProcess | None = None

    @property
    def error_log(self) -> Path:
        return self.root / "logs" / "error.log"

    def _httpd_conf(self, modules: tuple[str, ...], site: str, log_level: str) -> str:
        load = "\n".join(f"LoadModule {name}_module {MODULES_DIR / MODULES[name][0]}"
                         for name in modules)
        # Started as root, httpd refuses to serve as root: its children become www-data.
        user = "User www-data\nGroup www-data\n" if os.geteuid() == 0 else ""
        return f"""\
ServerRoot "{self.root}"
ServerName 127.0.0.1
Listen 127.0.0.1:{self.port}
PidFile "{self.root}/run/httpd.pid"
DefaultRuntimeDir "{self.root}/run"
ErrorLog "{self.error_log}"
LogLevel {log_level}
{load}
{user}StartServers 2
MinSpareServers 1
MaxSpareServers 4
MaxRequestWorkers 16
Timeout 30
KeepAlive Off
AddType text/html .html
AddHandler cgi-script .cgi
DocumentRoot "{self.root}/htdocs"
<Directory "{self.root}/htdocs">
    Require all granted
</Directory>
<Directory "{self.root}/cgi-bin">
    Options +ExecCGI
    Require all granted
</Directory>
{site.replace(self.ROOT, str(self.root))}
"""

    def start(self, ready_path: str = "/", timeout: float = 30) -> PrivateApache:
        """``apache2 -t`` first (a configuration error says which line), then serve; on
        failure everything is stopped and removed before the error is raised."""
        try:
            self.check_config()
            self.process = PeerProcess("Apache httpd", [self.binary, "-f", str(self.conf),
                                                        "-DFOREGROUND"],
                                       self.url, self.root / "logs" / "stdout.log")
            self.process.wait_until_serving(ready_path, timeout, logs=(self.error_log,))
        except BaseException:
            self.stop()
            raise
        return self

    def check_config(self) -> None:
        """``apache2 -t``: a configuration error raises, naming the file and line."""
        done = subprocess.run([self.binary, "-t", "-f", str(self.conf)], capture_output=True,
                              text=True, timeout=30, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"apache2 -t refused {self.conf}: {done.stderr.strip()}")

    def error_log_tail(self, lines: int = 40) -> str:
        return f"--- {self.error_log}:\n{tail(self.error_log, lines)}"

    def stop(self) -> None:
        """Stop by PID (httpd's parent stops its children), keep the logs, remove the root."""
        try:
            if self.process is not None:
                self.process.stop()
        finally:
            if self.root.exists():
                self.logs.mkdir(parents=True, exist_ok=True)
                for log in (self.root / "logs").iterdir():
                    shutil.copy(log, self.logs / log.name)
                shutil.copy(self.conf, self.logs / "httpd.conf")
                shutil.rmtree(self.root, ignore_errors=True)
