"""Serving the proxy under gunicorn, configured in code rather than by a config file."""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from gunicorn.app.base import BaseApplication

from .assemble import config_path
from .partners.generation import Watcher
from .schema_errors import ConfigError
from .settings import Settings, load_settings
from .wsgi import make_app

logger = logging.getLogger("ncconnect.reload")


def _close_stores(_server: object, _worker: object) -> None:
    from .stores import close_all

    try:
        close_all()
    except Exception as exc:  # noqa: BLE001 - a worker exits whatever its store says
        logger.warning("stores not closed cleanly at worker exit",
                       extra={"problem": type(exc).__name__})


#: Set by ``bench/profile.py`` only: a folder where each worker writes its cProfile stats
#: (``worker-PID.prof``) when it exits, covering the requests served while the file ``on``
#: exists in that folder; ``NCC_PROFILE_CLOCK=wall`` for wall-clock instead of CPU time.
#: Unset (production), no profiler is ever created.
PROFILE_DIR_ENV = "NCC_PROFILE_DIR"


def _profile_worker(worker) -> None:
    """``post_worker_init`` when profiling: wraps the worker's WSGI callable so that each
    request is profiled while ``$NCC_PROFILE_DIR/on`` exists (the tool's warm-up is not)."""
    import cProfile
    import time

    folder = Path(os.environ[PROFILE_DIR_ENV])
    switch = folder / "on"
    # CPU time by default (what "CPU per login" measures); "wall" also counts waits on the
    # store and the sources.
    wall = os.environ.get("NCC_PROFILE_CLOCK") == "wall"
    profiler = cProfile.Profile(time.perf_counter if wall else time.process_time)
    app = worker.wsgi

    def profiled(environ, start_response):
        if not switch.exists():
            return app(environ, start_response)
        profiler.enable()
        try:
            return app(environ, start_response)
        finally:
            profiler.disable()

    worker.wsgi = profiled
    worker.ncc_profiler = profiler


def _child_exit(_server: object, worker) -> None:
    """A worker is gone (master side): its live gauges no longer count (prometheus-client's
    multiprocess files; its counters stay, they are the run's)."""
    from .metrics.multiprocess import worker_exited

    worker_exited(worker.pid)


def _worker_exit(server: object, worker: object) -> None:
    profiler = getattr(worker, "ncc_profiler", None)
    if profiler is not None:
        profiler.dump_stats(Path(os.environ[PROFILE_DIR_ENV]) / f"worker-{os.getpid()}.prof")
    _close_stores(server, worker)


class ProxyServer(BaseApplication):
    """gunicorn with our app factory; the federation is assembled once, before forking,
    so every worker serves the exact same registry and keys.

    SIGHUP re-assembles it (settings, dictionary, partner files, SAML metadata) in the
    master: gunicorn's ``Arbiter.reload`` calls our ``reload`` and then ``setup``, whose
    preload only builds a new app when ``callable`` is unset, and forks new workers from
    it while the old ones finish their requests. A configuration that does not assemble
    is logged and the previous app is kept, so the new workers serve what the old ones
    did. Logins in progress survive either way: their state is in the shared store.

    Hosts sharing a partner folder reload together: once the master is ready
    (``when_ready``), a :class:`~idp.partners.generation.Watcher` thread reads the registry
    generation in the shared store every ``registry.poll_seconds`` and sends SIGHUP to this
    master when another host (or the portal, or ``partenaires reload``) bumped it. Every
    reload, whatever sent it, first takes the generation current then as seen, so a host
    that bumped and reloaded itself does not reload a second time."""

    def __init__(self, config: Path, bind: str, workers: int, store: str | None = None,
                 log_level: str = "info", access_log: Path | None = None,
                 data_dir: Path | None = None, pid_file: Path | None = None) -> None:
        self.config_file = config
        self.store = store
        self.data_dir = data_dir
        self.pid_file = pid_file
        self.options = {
            "bind": bind,
            "workers": workers,
            "worker_class": "sync",
            "preload_app": True,
            "timeout": 30,
            "graceful_timeout": 5,
            "loglevel": log_level,
            "accesslog": str(access_log) if access_log else None,
            "access_log_format": '%(h)s "%(m)s %(U)s" %(s)s pid=%(p)s %(M)sms',
            # Bound request lines and headers: gunicorn's own guard against oversized input.
            "limit_request_line": 8190,
            "limit_request_fields": 100,
            "limit_request_field_size": 8190,
            # gunicorn >= 25 opens a control socket in $HOME shared by every instance;
            # several proxies (tests, benchmarks) on one machine must not fight over it.
            "control_socket_disable": True,
            # Written by the master at start, removed at exit: 'partenaires reload' reads it.
            "pidfile": str(pid_file) if pid_file else None,
            # Each worker closes its stores as it exits: the embedded store sweeps expired
            # rows a last time (its timer thread dies with the worker).
            "worker_exit": _worker_exit,
            "child_exit": _child_exit,
            "when_ready": self._start_watcher,
            "on_exit": self._stop_watcher,
        }
        self.watcher: Watcher | None = None
        if os.environ.get(PROFILE_DIR_ENV):  # bench/profile.py only
            self.options["post_worker_init"] = _profile_worker
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:
                self.cfg.set(key, value)

    def read_settings(self) -> Settings:
        """The settings as :func:`idp.wsgi.make_app` reads them (same overrides)."""
        return load_settings(config_path(self.config_file),
                             store=self.store or os.environ.get("NCC_STORE"),
                             data_dir=self.data_dir)

    def _start_watcher(self, _server: object) -> None:
        """``when_ready``: in the master, once, after the first assembly and before any worker
        is forked (the watcher's store is its own, opened in its thread)."""
        if self.watcher is not None:
            return
        try:
            settings = self.read_settings()
        except ConfigError as exc:  # edited since the app was assembled, a moment ago
            logger.error("registry watcher not started: this host reloads only on SIGHUP",
                         extra={"problem": str(exc)})
            return
        if settings.store_url.startswith("sqlite://"):
            # One host by nature: nobody else changes the registry unseen, a SIGHUP reloads
            # it; and no SQLite connection is held in the master across its workers' forks.
            logger.warning("registry watcher not needed: the embedded store has one host")
            return
        self.watcher = Watcher(settings.store_url, settings.registry.poll_seconds)
        self.watcher.start()

    def _stop_watcher(self, _server: object) -> None:
        if self.watcher is not None:
            self.watcher.stop()

    def load(self):
        return make_app(self.config_file, store=self.store, data_dir=self.data_dir,
                        pid_file=self.pid_file)

    def reload(self) -> None:
        super().reload()
        if self.watcher is not None:
            # Before the files are read: a change bumped after this moment reloads again.
            self.watcher.reloading()
        try:
            app = self.load()
        except Exception as exc:  # noqa: BLE001 - any failure keeps the running configuration
            logger.error("configuration reload refused: keeping the previous configuration",
                         extra={"problem": f"{type(exc).__name__}: {exc}"})
            return
        self.callable = app
        if self.watcher is not None:
            # They assembled: the store or the interval may be new (an edit since then keeps
            # the watcher's; the next reload reads them again).
            with contextlib.suppress(ConfigError):
                settings = self.read_settings()
                self.watcher.configure(settings.store_url, settings.registry.poll_seconds)
        # warning, not info: a configuration change is an audit event, kept at any log level.
        logger.warning("configuration reloaded: new workers serve it")
