"""``ncconnect partenaires add``, ``disable`` and ``reload``: changing the registry a running
proxy serves, one validated, atomic step at a time."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import click

from ..partners.edit import add_service, check_folder, disable_partner
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
              help="Write the service with active: false (enable it later by editing the file).")
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


@partenaires.command("disable")
@click.argument("name")
@config_option(SETTINGS_HELP)
def partenaires_disable(name: str, config: str) -> None:
    """Set active: false in NAME's partner file (its comments and layout kept), after
    checking the registry stays valid. The file stays; edit it back to true to re-enable."""
    ctx = partner_context(config)
    try:
        done = disable_partner(ctx.folder, name, ctx.dictionary, ctx.allow_loopback_http)
    except ConfigError as exc:
        fail(exc)
    if not done.changed:
        click.echo(f"{name} is already disabled in {done.path}: nothing changed")
        return
    click.echo(f"disabled {name}: active: false in {done.path}")
    if name in done.registry.sources:
        for s in done.registry.services.values():
            if s.active and not any(done.registry.sources[x].active for x in s.sources):
                click.echo(f"warning: service {s.id} has no active identity source left",
                           err=True)
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
def partenaires_reload(config: str, pid_file: Path | None) -> None:
    """Validate the partner registry, then make the running proxy reload it (SIGHUP to the
    gunicorn master): new workers serve the new configuration, logins in progress continue.
    An invalid registry is refused here and nothing is sent. If the proxy cannot assemble
    the new configuration (SAML metadata, secrets from its environment), it logs an error
    and keeps serving the previous one."""
    ctx = partner_context(config)
    try:
        reg = check_folder(ctx.folder, ctx.dictionary, ctx.allow_loopback_http)
    except ConfigError as exc:
        for line in str(exc).splitlines():
            click.echo(f"error: {line}", err=True)
        fail("the registry is invalid: nothing was sent to the proxy")
    pid_file = pid_file or ctx.settings.data / PID_FILE
    pid = _read_pid(pid_file)
    os.kill(pid, signal.SIGHUP)
    click.echo(f"sent SIGHUP to the proxy (pid {pid}): {len(reg.services)} services, "
               f"{len(reg.sources)} identity sources; new workers take over as the old ones "
               "finish their requests")
