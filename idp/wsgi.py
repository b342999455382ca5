"""Building the application from a config file; ``idp.wsgi:application`` for gunicorn."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

from .app import NCConnectApp
from .assemble import Federation, assemble, check_keys, config_path
from .audit.stream import setup_audit
from .health import Readiness
from .keyring import PURPOSES
from .keyring.loader import view_for
from .logs import setup_logging
from .pages import configure_help, preload_templates
from .settings import Settings, load_settings
from .stores import open_store


def make_app(config: str | Path, env: dict[str, str] | None = None,
             store: str | None = None, data_dir: Path | None = None,
             pid_file: Path | None = None) -> NCConnectApp:
    """The proxy as a WSGI application. ``pid_file``: where ``serve`` writes its master's
    pid (``--pid-file``), which portal approvals signal; ``DATA_DIR/ncconnect.pid`` if
    ``None``."""
    env = dict(os.environ) if env is None else env
    settings = load_settings(config_path(config), store=store or env.get("NCC_STORE"),
                             data_dir=data_dir)
    setup_logging(settings.log_level)
    federation = assemble(settings, env, pid_file=pid_file)
    setup_audit(settings.audit_dir, settings.audit_retention_days)
    configure_help(settings.help)  # the error pages' "Besoin d'aide ?"
    preload_templates()  # compiled once, before the workers fork
    return NCConnectApp(
        federation.satosa,
        store_url=settings.store_url,
        flow_ttl=settings.lifetimes.flow,
        max_body=settings.max_body_bytes,
        https=settings.https,
        readiness=_readiness(settings, federation),
        metrics_token_sha256=federation.satosa["NCC_OBSERVABILITY"]["metrics_token_sha256"],
        key_ages=lambda: _key_ages(settings),
    )


def _readiness(settings: Settings, federation: Federation) -> Readiness:
    """Store, keys and registry must be ready; sources are reported only (:mod:`.health`)."""
    store = open_store(settings.store_url)
    sources = federation.satosa["NCC_OBSERVABILITY"]["sources"]
    return Readiness(
        {"store": store.ping, "keys": lambda: check_keys(settings),
         # Assembled and validated before this worker existed; a broken reload is refused
         # and the previous registry kept (idp.gunicorn_app).
         "registry": lambda: None},
        {sid: s["address"] for sid, s in sources.items() if s.get("address")})


def _key_ages(settings: Settings) -> list[tuple[str, float]]:
    """Seconds since each purpose's active key became active (created, for the first)."""
    view = view_for(settings.keys.folder)
    now = dt.datetime.now(dt.UTC)
    ages = []
    for purpose in PURPOSES:
        record = view.refresh().active(purpose)
        if record is not None:
            ages.append((purpose, (now - (record.activated or record.created)).total_seconds()))
    return ages


def __getattr__(name: str):
    # Lazy, so importing this module (e.g. for make_app) does not need NCC_CONFIG.
    if name == "application":
        return make_app(os.environ.get("NCC_CONFIG", "config"))
    raise AttributeError(name)
