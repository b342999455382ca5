"""``ncconnect ldap check``: test every LDAP directory of the registry, step by step.

Connecting a directory fails in many places (address, TLS, service account, base, filter,
attribute names); the command names the step and the fix, one line each, so an administrator
does not read ldap3 tracebacks. Passwords and citizens' values are never printed.
"""

from __future__ import annotations

import os

import click

from ..ldap_checks import run_checks, targets
from .base import config_option, main, partner_context, terminal_safe
from .partners import SETTINGS_HELP, load


@main.group()
def ldap() -> None:
    """LDAP directories: NC Connect's account source and administrations' directories."""


@ldap.command("check")
@config_option(SETTINGS_HELP)
@click.option("--login", default=None,
              help="A login to look up in each account source (default: any entry the login "
                   "filter finds).")
def ldap_check(config: str, login: str | None) -> None:
    """Connect, bind, read the base, look up a sample entry and check the attributes each
    partner file declares, for every LDAP source and directory; exit 1 if anything failed."""
    ctx = partner_context(config)
    found = targets(load(ctx), ctx.dictionary, login)
    if not found:
        click.echo("no LDAP source or directory in the registry")
        return
    failed = 0
    for target in found:
        for check in run_checks(target, os.environ):
            failed += not check.ok
            click.echo(terminal_safe(check.line()))
    if failed:
        click.echo(f"{failed} check(s) failed", err=True)
        raise SystemExit(1)
    click.echo(f"ok: {len(found)} directories")
