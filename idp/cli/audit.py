"""``ncconnect audit``: answer a citizen's RGPD access request from the audit files."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from ..audit.report import account_key, as_json, logins_of, read, render_french
from ..keys import read_secret
from ..partners import load_registry
from ..schema_errors import ConfigError
from .base import (
    KeyFirst,
    config_option,
    fail,
    key_argument,
    main,
    partner_context,
    settings_file,
)


@main.group()
def audit() -> None:
    """The audit trail (DATA_DIR/audit): what was sent to whom, by attribute names."""


def _moment(value: str | None, option: str) -> dt.datetime | None:
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        fail(f"{option} {value!r}: write a date (2026-12-01) or a UTC time "
             "(2026-12-01T08:00:00Z)")
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


@audit.command("citizen", cls=KeyFirst)
@click.argument("key")
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--since", default=None, help="From this date or UTC time (included).")
@click.option("--until", default=None, help="Up to this date or UTC time (excluded).")
@click.option("--format", "fmt", type=click.Choice(["texte", "json"]), default="texte",
              show_default=True, help="A letter in French for the citizen, or JSON.")
@click.option("--names/--no-names", default=True, show_default=True,
              help="Name services, sources and attributes as the registry and dictionary "
                   "of --config do (ids only without them).")
@config_option()
def audit_citizen(key: str, files: tuple[Path, ...], since: str | None, until: str | None,
                  fmt: str, names: bool, config: str) -> None:
    """Every login of the citizen whose account key is KEY, from FILES (audit files or
    folders of them: give every host's)."""
    key = key_argument(key)
    if len(key) < 16 or not all(c.isalnum() or c in "-_" for c in key):
        fail(f"{key!r} is no account key: get it with 'ncconnect audit key'")
    reading = read(files)
    start, end = _moment(since, "--since"), _moment(until, "--until")
    logins, alone = logins_of(key, reading.lines, start, end)
    if fmt == "json":
        click.echo(as_json(key, logins, alone, reading), nl=False)
        return
    partner_names: dict[str, str] = {}
    labels: dict[str, str] = {}
    if names:
        try:
            ctx = partner_context(config)
            registry = load_registry(ctx.folder, ctx.dictionary, ctx.allow_loopback_http,
                                     keep_undeliverable=True)
            partner_names = {
                **{pid: str(s.name) for pid, s in registry.services.items()},
                **{pid: str(s.display_name) for pid, s in registry.sources.items()},
                **{pid: str(d.organisation) for pid, d in registry.directories.items()}}
            labels = {name: a.label_fr for name, a in ctx.dictionary.attributes.items()}
        except (SystemExit, ConfigError, OSError):
            # Ids only: the answer still says everything, less readably.
            partner_names, labels = {}, {}
    click.echo(render_french(key, logins, alone, reading, start, end, partner_names, labels),
               nl=False)


@audit.command("key")
@click.option("--family-name", required=True, help="Birth name.")
@click.option("--given-name", required=True, help="Given names, as on the identity document.")
@click.option("--birthdate", required=True, help="YYYY-MM-DD.")
@click.option("--gender", required=True, type=click.Choice(["female", "male"]))
@click.option("--birthcountry", default="99100", show_default=True,
              help="INSEE COG code of the country of birth (99100: France, New Caledonia "
                   "included).")
@click.option("--birthplace", default="", help="INSEE COG code of the commune of birth "
              "(required when born in France).")
@config_option()
def audit_key(family_name: str, given_name: str, birthdate: str, gender: str,
              birthcountry: str, birthplace: str, config: str) -> None:
    """The account key of a citizen, from their identity as on an identity document (the
    DPO checks it before answering). A citizen whose source never gave a complete identity
    is filed under a key from that source's subject instead: none is found here."""
    from ..settings import load_settings

    try:
        settings = load_settings(settings_file(config))
    except ConfigError as exc:
        fail(exc)
    secret = read_secret(settings.keys.pairwise_secret)
    key = account_key(secret, {"family_name": family_name, "given_name": given_name,
                               "birthdate": birthdate, "gender": gender,
                               "birthplace": birthplace, "birthcountry": birthcountry})
    if key is None:
        fail("incomplete identity: a commune of birth (--birthplace) is required for people "
             "born in France")
    click.echo(key)
