"""``ncconnect partenaires add``, ``disable``, ``enable``, ``new-secret`` and ``reload``:
changing the registry a running proxy serves, one validated, atomic step at a time."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click

from ..partners.edit import (
    MAX_OVERLAP_SECONDS,
    add_service,
    check_folder,
    disable_partner,
    enable_partner,
    new_client_secret,
)
from ..partners.registration import load_request
from ..schema_errors import ConfigError
from .base import PID_FILE, config_option, fail, partner_context
from .partners import SETTINGS_HELP, partenaires


@partenaires.command("add")
@click.argument("request_file", type=click.Path(path_type=Path, dir_okay=False))
@config_option(SETTINGS_HELP)
@click.option("--id", "partner_id", default=None,
              help="Partner id (default: derived from the request's service_name).")
@click.option("--inactive", is_flag=True,
              help="Write the service with active: false (enable it later with "
                   "'ncconnect partenaires enable').")
def partenaires_add(request_file: Path, config: str, partner_id: str | None,
                    inactive: bool) -> None:
    """Register a service from REQUEST_FILE, the registration request its organisation filled
    in (see idp/partners/registration.py): writes partenaires/<id>.yaml, validated with the
    whole registry first. A secret-based OIDC client gets a random secret, printed here once;
    only its SHA-256 is written."""
    ctx = partner_context(config)
    try:
        request = load_request(request_file)
        added = add_service(ctx.folder, request_file, request, ctx.dictionary,
                            ctx.allow_loopback_http, partner_id=partner_id, active=not inactive)
    except ConfigError as exc:
        fail(exc)
    click.echo(f"wrote {added.path} ({'inactive' if inactive else 'active'})")
    service = added.registry.services[added.partner_id]
    if service.oidc is not None:
        click.echo(f"client_id: {service.oidc.client_id}")
    if added.client_secret is not None:
        click.echo(f"client_secret: {added.client_secret}")
        click.echo("Store it now, it is not kept: give it to the partner over a safe channel; "
                   "only its SHA-256 is in the partner file.")
    click.echo("Run 'ncconnect partenaires reload' to serve it without a restart.")


def _switch(name: str, config: str, change, state: str, line: str):
    """Disable or enable NAME with ``change`` (:func:`disable_partner`,
    :func:`enable_partner`) and say what happened; ``None`` when nothing changed."""
    ctx = partner_context(config)
    try:
        done = change(ctx.folder, name, ctx.dictionary, ctx.allow_loopback_http)
    except ConfigError as exc:
        fail(exc)
    if not done.changed:
        click.echo(f"{name} is already {state} in {done.path}: nothing changed")
        return None
    click.echo(f"{state} {name}: {line} in {done.path}")
    return done


@partenaires.command("disable")
@click.argument("name")
@config_option(SETTINGS_HELP)
def partenaires_disable(name: str, config: str) -> None:
    """Set active: false in NAME's partner file (its comments and layout kept), after
    checking the registry stays valid. The file stays; 'ncconnect partenaires enable NAME'
    serves it again."""
    done = _switch(name, config, disable_partner, "disabled", "active: false")
    if done is None:
        return
    if name in done.registry.sources:
        for s in done.registry.services.values():
            if s.active and not any(done.registry.sources[x].active for x in s.sources):
                click.echo(f"warning: service {s.id} has no active identity source left",
                           err=True)
    click.echo("Run 'ncconnect partenaires reload' to apply it without a restart.")


@partenaires.command("enable")
@click.argument("name")
@config_option(SETTINGS_HELP)
def partenaires_enable(name: str, config: str) -> None:
    """Set active: true in NAME's partner file (its comments and layout kept), after checking
    the registry stays valid: the way back from 'ncconnect partenaires disable'."""
    done = _switch(name, config, enable_partner, "enabled", "active: true")
    if done is None:
        return
    service = done.registry.services.get(name)
    if service is not None and not any(done.registry.sources[x].active
                                       for x in service.sources):
        click.echo(f"warning: service {name} has no active identity source: enable one of "
                   f"{', '.join(service.sources)}", err=True)
    click.echo("Run 'ncconnect partenaires reload' to apply it without a restart.")


#: Longest overlap ``new-secret`` accepts, in hours (2160: 90 days).
MAX_OVERLAP_HOURS = MAX_OVERLAP_SECONDS // 3600


@partenaires.command("new-secret")
@click.argument("name")
@config_option(SETTINGS_HELP)
@click.option("--overlap-hours", type=click.IntRange(0, MAX_OVERLAP_HOURS), default=168,
              show_default=True,
              help="How long the current secret keeps working beside the new one, so the "
                   f"partner can switch without an outage (0: it stops at the next reload; "
                   f"at most {MAX_OVERLAP_HOURS}).")
def partenaires_new_secret(name: str, config: str, overlap_hours: int) -> None:
    """Give the secret-based OIDC service NAME a new client secret, printed here once; only
    its SHA-256 is written (one line of the file, validated with the whole registry). The
    current secret is kept as previous_client_secret until the overlap ends."""
    ctx = partner_context(config)
    try:
        made = new_client_secret(ctx.folder, name, ctx.dictionary, ctx.allow_loopback_http,
                                 overlap_seconds=overlap_hours * 3600)
    except ConfigError as exc:
        fail(exc)
    click.echo(f"wrote {made.path}: new client secret for {name}")
    service = made.registry.services[name]
    assert service.oidc is not None
    click.echo(f"client_id: {service.oidc.client_id}")
    click.echo(f"client_secret: {made.client_secret}")
    click.echo("Store it now, it is not kept: give it to the partner over a safe channel; "
               "only its SHA-256 is in the partner file.")
    if made.previous is not None:
        click.echo(f"The previous secret keeps working until {made.previous.expires_at_text} "
                   "(UTC), then is refused: the partner must switch before.")
    else:
        click.echo("The previous secret is refused once the proxy reloads.")
    click.echo("Run 'ncconnect partenaires reload' to apply it without a restart.")


def _read_pid(pid_file: Path) -> int:
    try:
        pid = int(pid_file.read_text().strip())
    except FileNotFoundError:
        fail(f"{pid_file}: no pid file: is the proxy running ('ncconnect serve' writes it)? "
             "Give its location with --pid-file")
    except (OSError, ValueError) as exc:
        fail(f"{pid_file}: not a pid file ({exc})")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        fail(f"{pid_file}: stale: no process {pid}: is the proxy running?")
    except PermissionError:
        fail(f"{pid_file}: process {pid} belongs to another user: run as the proxy's user")
    return pid


@partenaires.command("reload")
@config_option(SETTINGS_HELP)
@click.option("--pid-file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help=f"The running proxy's pid file (default: the settings' DATA_DIR/{PID_FILE}).")
@click.option("--store", default=None, envvar="NCC_STORE", show_envvar=True,
              help="Store URL overriding the settings (as for 'ncconnect serve --store'): "
                   "where the registry generation every host watches is bumped.")
def partenaires_reload(config: str, pid_file: Path | None, store: str | None) -> None:
    """Validate the partner registry, then make every proxy host reload it: bump the registry
    generation in the shared store (each host's master watches it and reloads within its
    registry.poll_seconds) and send SIGHUP to this host's gunicorn master, if one runs here.
    New workers serve the new configuration, logins in progress continue. An invalid
    registry is refused here and nothing is sent. If a proxy cannot assemble the new
    configuration (SAML metadata, secrets from its environment), it logs an error and keeps
    serving the previous one."""
    from ..partners.generation import bump_url
    from ..stores import StoreUnavailable

    ctx = partner_context(config)
    try:
        reg = check_folder(ctx.folder, ctx.dictionary, ctx.allow_loopback_http)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            click.echo(f"error: {line}", err=True)
        fail("the registry is invalid: nothing was sent to the proxy")
    counts = f"{len(reg.services)} services, {len(reg.sources)} identity sources"
    # Bumped before the local SIGHUP: the local reload then takes this generation as seen
    # and its watcher does not reload a second time.
    try:
        url = ctx.settings.model_copy(update={"store": store}).store_url if store \
            else ctx.settings.store_url  # 'embedded' is DATA_DIR/store.db, as for serve
        generation: int | None = bump_url(url)
    except (StoreUnavailable, ValueError, OSError) as exc:
        generation = None
        click.echo(f"warning: registry generation not bumped ({exc}): other hosts reload "
                   "only when signalled", err=True)
    pid_file = pid_file or ctx.settings.data / PID_FILE
    if generation is None or pid_file.exists():
        pid = _read_pid(pid_file)  # without a store, the local proxy is the only one told
        os.kill(pid, signal.SIGHUP)
        click.echo(f"sent SIGHUP to the proxy (pid {pid}): {counts}; new workers take over "
                   "as the old ones finish their requests")
    else:
        click.echo(f"no proxy runs here ({pid_file} absent): {counts}")
    if generation is not None:
        click.echo(f"registry generation {generation}: every host sharing the store reloads "
                   f"within its registry.poll_seconds ({ctx.settings.registry.poll_seconds} s "
                   "in these settings)")
