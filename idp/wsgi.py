"""Building the application from a config file; ``idp.wsgi:application`` for gunicorn."""

from __future__ import annotations

import os
from pathlib import Path

from .app import NCConnectApp
from .assemble import assemble, config_path
from .logs import setup_logging
from .pages import configure_help, preload_templates
from .settings import load_settings


def make_app(config: str | Path, env: dict[str, str] | None = None,
             store: str | None = None, data_dir: Path | None = None) -> NCConnectApp:
    env = dict(os.environ) if env is None else env
    settings = load_settings(config_path(config), store=store or env.get("NCC_STORE"),
                             data_dir=data_dir)
    setup_logging(settings.log_level)
    federation = assemble(settings, env)
    configure_help(settings.help)  # the error pages' "Besoin d'aide ?"
    preload_templates()  # compiled once, before the workers fork
    return NCConnectApp(
        federation.satosa,
        store_url=settings.store_url,
        flow_ttl=settings.lifetimes.flow,
        max_body=settings.max_body_bytes,
        https=settings.https,
    )


def __getattr__(name: str):
    # Lazy, so importing this module (e.g. for make_app) does not need NCC_CONFIG.
    if name == "application":
        return make_app(os.environ.get("NCC_CONFIG", "config"))
    raise AttributeError(name)
