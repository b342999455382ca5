"""``ncconnect admin``: who may use the administration portal (``/admin/``).

``admin add --role admin|dpo`` (or ``--role partner --organisation ORG``) stores a one-time
enrolment link and prints it: the next person to open it and sign in through NC Connect at
level ``substantial`` or higher gets the role (:mod:`plugins.frontends.admin.enrolment`); a
partner organisation's member then uses ``/partenaires/``. A person may hold several roles (at
most one ``partner``): a link adds its role to theirs. ``admin list`` prints every role held, one
row each; ``admin revoke`` deletes one before it lapses.
Run them as the proxy's user, with the proxy's settings: they write to its store and to its
audit stream.
"""

from __future__ import annotations

import datetime as dt

import click

from plugins.frontends.admin import enrolment
from plugins.frontends.admin.roles import PARTNER, ROLES, Roles, check_role

from ..audit.events import audit_event
from ..audit.stream import setup_audit
from ..schema_errors import ConfigError
from ..settings import PortalSettings, Settings, load_settings
from ..stores import StoreUnavailable, open_store
from .base import KeyFirst, config_option, fail, key_argument, main, settings_file
from .table import render_table

_HOURS = PortalSettings.model_fields["invitation_hours"].metadata
HOURS_MIN = next(m.ge for m in _HOURS if hasattr(m, "ge"))
HOURS_MAX = next(m.le for m in _HOURS if hasattr(m, "le"))
STORE_HELP = "Store URL overriding the settings (as for 'ncconnect serve --store')."


@main.group()
def admin() -> None:
    """The administration portal (/admin/): enrolment links and role holders."""


def _settings(config: str, store: str | None) -> Settings:
    try:
        return load_settings(settings_file(config), store=store)
    except ConfigError as exc:
        fail(exc)


@admin.command("add")
@config_option()
@click.option("--role", "role", required=True, type=click.Choice(ROLES),
              help="admin: the federation's administrators; dpo: the data protection officer "
                   "(reads the diffusion report); partner: a member of a partner organisation "
                   "(/partenaires/, needs --organisation).")
@click.option("--organisation", "organisation", default=None,
              help="With --role partner: the organisation's id, as in the organisation_id of "
                   "its partner files (lowercase letters, digits, hyphens; e.g. commune-dumbea).")
@click.option("--hours", type=int, default=None,
              help=f"How long the link works, {HOURS_MIN} to {HOURS_MAX} hours (default: the "
                   "settings' portal.invitation_hours, 72).")
@click.option("--store", default=None, help=STORE_HELP)
def admin_add(config: str, role: str, organisation: str | None, hours: int | None,
              store: str | None) -> None:
    """Print a one-time enrolment link to ROLE. Give it to the person by a channel you trust:
    whoever opens it first and signs in at level substantial or higher gets the role (for
    portal.role_days, renewed at each sign-in). The store keeps only the link's SHA-256."""
    try:
        check_role(role, organisation)
    except ValueError as exc:
        fail(f"--organisation: {exc}")
    settings = _settings(config, store)
    hours = settings.portal.invitation_hours if hours is None else hours
    if not HOURS_MIN <= hours <= HOURS_MAX:
        fail(f"--hours {hours}: an enrolment link lives {HOURS_MIN} to {HOURS_MAX} hours")
    try:
        invitation = enrolment.invite(open_store(settings.store_url), role, hours * 3600,
                                      organisation)
    except StoreUnavailable as exc:
        fail(f"{settings.store}: the store cannot be reached ({exc}): nothing was created")
    setup_audit(settings.audit_dir, settings.audit_retention_days)
    audit_event("invitation_created", role=role, hours=hours,
                invitation=enrolment.reference(invitation.key),
                **({"organisation": organisation} if organisation else {}))
    expires = dt.datetime.fromtimestamp(invitation.expires_at, dt.UTC)
    of = f" of the organisation '{organisation}'" if organisation else ""
    click.echo(f"Enrolment link to the role '{role}'{of}, valid once until "
               f"{expires:%Y-%m-%d %H:%M} UTC:", err=True)
    click.echo(invitation.link(settings.base_url))


@admin.command("list")
@config_option()
@click.option("--store", default=None, help=STORE_HELP)
def admin_list(config: str, store: str | None) -> None:
    """Every portal role held, one row each (a person with two roles has two rows): account
    key (a pseudonym), role, organisation, when it lapses without a sign-in."""
    settings = _settings(config, store)
    try:
        holders = Roles(open_store(settings.store_url), settings.portal.role_days).holders()
    except StoreUnavailable as exc:
        fail(f"{settings.store}: the store cannot be reached ({exc})")
    if not holders:
        click.echo("no role holder: create an enrolment link with 'ncconnect admin add'")
        return
    click.echo(render_table(["ACCOUNT KEY", "ROLE", "ORGANISATION", "LAPSES"], [
        [h.account, h.role, h.organisation or "-", dt.datetime.fromtimestamp(h.expires_at, dt.UTC)
         .strftime("%Y-%m-%d %H:%M UTC")] for h in holders]))


@admin.command("revoke", cls=KeyFirst)
@config_option()
@click.argument("account_key")
@click.option("--role", "role", required=True, type=click.Choice(ROLES),
              help="The role to take away; the person's other roles stay.")
@click.option("--organisation", "organisation", default=None,
              help="With --role partner: the organisation the role is bound to; given, it "
                   "must match (a check that you revoke the membership you mean).")
@click.option("--store", default=None, help=STORE_HELP)
def admin_revoke(config: str, account_key: str, role: str, organisation: str | None,
                 store: str | None) -> None:
    """Take ROLE away from ACCOUNT_KEY (as 'ncconnect admin list' prints it) at once: the
    person's next portal page is refused. Also the way to revoke an administrator's own role,
    which the console refuses."""
    account_key = key_argument(account_key)
    if organisation is not None and role != PARTNER:
        fail(f"--organisation: the role {role} is not bound to an organisation")
    settings = _settings(config, store)
    try:
        roles = Roles(open_store(settings.store_url), settings.portal.role_days)
        held = next((h for h in roles.roles_of(account_key) if h.role == role), None)
        if held is None:
            fail(f"{account_key}: holds no current role {role} (see 'ncconnect admin list')")
        if organisation is not None and held.organisation != organisation:
            fail(f"{account_key}: the role partner is bound to '{held.organisation}', not "
                 f"'{organisation}': nothing revoked")
        revoked = roles.revoke(held.item)
    except StoreUnavailable as exc:
        fail(f"{settings.store}: the store cannot be reached ({exc}): nothing was revoked")
    if revoked is None:
        fail(f"{account_key}: the role {role} lapsed or was revoked meanwhile")
    setup_audit(settings.audit_dir, settings.audit_retention_days)
    audit_event("role_revoked", role=role, holder=account_key[:8], via="command",
                **({"organisation": revoked.organisation} if revoked.organisation else {}))
    of = f" of the organisation '{revoked.organisation}'" if revoked.organisation else ""
    click.echo(f"Role '{role}'{of} revoked from {account_key}.")
