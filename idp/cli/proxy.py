"""Running the proxy and checking its configuration: ``keys``, ``check``, ``serve``, ``demo``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from ..assemble import assemble
from ..keys import init_keys
from ..schema_errors import ConfigError
from ..settings import load_settings
from .base import PID_FILE, config_option, fail, main, settings_file


@main.group()
def keys() -> None:
    """Signing keys and secrets of the proxy (kept in the data folder, never committed):
    'init' creates them, 'list', 'add', 'activate' and 'retire' rotate them without an
    outage (README, "Key rotation")."""


@keys.command("init")
@config_option("Settings file (or folder holding proxy.yaml) whose data_dir receives the keys.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Write into DATA_DIR/keys instead of the settings' data_dir.")
@click.option("--force", is_flag=True,
              help="Replace every existing key at once (invalidates issued tokens and breaks "
                   "every partner until it refreshes; without an outage: 'keys add').")
def keys_init(config: str, data_dir: Path | None, force: bool) -> None:
    """Create the OIDC and SAML signing keys and the pairwise, CSRF and at-rest secrets (the
    missing ones), and the keyring listing them (DATA_DIR/keys/keyring.json)."""
    try:
        folder = (data_dir / "keys") if data_dir \
            else load_settings(settings_file(config)).keys.folder
    except ConfigError as exc:
        fail(exc)
    written = init_keys(folder, force=force)
    if written:
        for path in written:
            click.echo(f"wrote {path}")
    else:
        click.echo(f"keys already present in {folder} (use --force to replace them)")


@main.command()
@config_option()
def check(config: str) -> None:
    """Validate settings, dictionary and partner files, and fetch SAML metadata, without serving."""
    try:
        settings = load_settings(settings_file(config))
        fed = assemble(settings, dict(os.environ))
    except ConfigError as exc:
        fail(exc)
    click.echo(f"ok: {len(fed.registry.services)} services, {len(fed.registry.sources)} "
               f"identity sources, {len(fed.dictionary.attributes)} attributes")


@main.command()
@config_option()
@click.option("--bind", default=None, help="host:port to listen on (default: settings' bind).")
@click.option("--workers", type=int, default=None, help="gunicorn workers (default: settings).")
@click.option("--store", default=None,
              help="Store URL overriding the settings: redis://host:port/0 or 'embedded'.")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Data folder (keys, embedded store) overriding the settings' data_dir.")
@click.option("--pid-file", type=click.Path(path_type=Path), default=None,
              help=f"Where to write the master's pid, for 'ncconnect partenaires reload' "
                   f"(default: DATA_DIR/{PID_FILE}; removed on exit).")
def serve(config: str, bind: str | None, workers: int | None, store: str | None,
          data_dir: Path | None, pid_file: Path | None) -> None:
    """Run the proxy under gunicorn; every worker can serve every step of a login.

    SIGHUP (ncconnect partenaires reload) re-reads settings, dictionary and partner files
    and replaces the workers; logins in progress continue, their state is in the store."""
    path = settings_file(config)
    try:
        data_dir = data_dir.resolve() if data_dir else None
        settings = load_settings(path, store=store, data_dir=data_dir)
    except ConfigError as exc:
        fail(exc)
    from ..metrics.multiprocess import prepare

    # Before the application (and prometheus-client) is imported: every worker's metrics
    # go to files in this folder, added up at each scrape.
    prepare(settings.metrics_dir)
    from ..gunicorn_app import ProxyServer
    access_log = settings.path(settings.access_log) if settings.access_log else None
    server = ProxyServer(path, bind or settings.bind, workers or settings.workers, store=store,
                         log_level=settings.log_level.lower(), access_log=access_log,
                         data_dir=data_dir,
                         pid_file=(pid_file or settings.data / PID_FILE).resolve())
    try:
        server.run()
    except ConfigError as exc:
        fail(exc)


@main.command()
@click.option("--data-dir", type=click.Path(path_type=Path), default=Path("data/demo"),
              show_default=True, help="Where the demo keeps its generated keys and store.")
@click.option("--workers", type=int, default=2, show_default=True, help="Proxy workers.")
def demo(data_dir: Path, workers: int) -> None:
    """Start the demo federation on 127.0.0.1: proxy, two identity sources, NC Connect's own
    accounts and the Province Sud's directory on a real slapd, two services."""
    from ..demo.run import run_demo

    run_demo(data_dir.resolve(), workers)
