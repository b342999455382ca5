"""``ncconnect partenaires``: reading the partner registry (validate, list, show, diffusion)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import click

from ..partners import Registry, load_registry
from ..partners.diffusion import RENDERERS, build_report
from ..partners.edit import check_folder, unknown_partner
from ..schema_errors import ConfigError
from .base import (
    PartnerContext,
    config_option,
    empty_registry,
    fail,
    main,
    partner_context,
    terminal_safe,
)
from .describe import describe, partner_table

SETTINGS_HELP = "Settings file (or folder holding proxy.yaml) naming the partner folder."


@main.group()
def partenaires() -> None:
    """The partner registry (partenaires/): services and identity sources."""


def load(ctx: PartnerContext, keep_undeliverable: bool = False) -> Registry:
    """The registry the settings point to; a folder with no partner file is an error that
    names the settings read (an administrator reading the wrong registry sees it at once)."""
    try:
        reg = load_registry(ctx.folder, ctx.dictionary, ctx.allow_loopback_http,
                            keep_undeliverable=keep_undeliverable)
    except ConfigError as exc:
        fail(exc)
    if not reg.files:
        fail(empty_registry(ctx))
    return reg


@partenaires.command("validate")
@config_option(SETTINGS_HELP)
def partenaires_validate(config: str) -> None:
    """Check every partner file as the proxy will; print each problem with its file, field and
    fix. Exit 2 on any problem, or when the registry has no partner file or no active
    identity source (the proxy would not start)."""
    ctx = partner_context(config)
    load(ctx)
    try:
        reg = check_folder(ctx.folder, ctx.dictionary, ctx.allow_loopback_http)
    except ConfigError as exc:
        fail(exc)
    directories = len(reg.directories)
    click.echo(f"ok: {len(reg.services)} services, {len(reg.sources)} identity sources, "
               f"{directories} {'directory' if directories == 1 else 'directories'} "
               f"in {ctx.folder}")


@partenaires.command("hash-secret")
@click.argument("secret", required=False)
def hash_secret(secret: str | None) -> None:
    """Print the client_secret_sha256 to put in a service's partner file."""
    if secret is None:
        secret = click.prompt("client secret", hide_input=True)
    click.echo(hashlib.sha256(secret.encode()).hexdigest())


@partenaires.command("list")
@config_option(SETTINGS_HELP)
def partenaires_list(config: str) -> None:
    """One line per partner: kind, id, name, protocol, active, level of assurance, and the
    identity pivot (sources) or the number of attributes (services)."""
    click.echo(terminal_safe(partner_table(load(partner_context(config)))))


@partenaires.command("show")
@click.argument("name")
@config_option(SETTINGS_HELP)
def partenaires_show(name: str, config: str) -> None:
    """Everything about one partner: file, organisation, purpose, legal basis, sources, and
    each attribute with its label, sensitivity and justification (or, for a source, how it
    is read)."""
    ctx = partner_context(config)
    reg = load(ctx)
    if name not in reg.files:
        fail(unknown_partner(ctx.folder, name, reg))
    click.echo(terminal_safe(describe(reg, ctx.dictionary, name)), nl=False)


@partenaires.command("diffusion")
@config_option(SETTINGS_HELP)
@click.option("--format", "fmt", type=click.Choice(sorted(RENDERERS)), default="text",
              show_default=True, help="text for the terminal, csv for a spreadsheet, html for "
                                      "a standalone page.")
@click.option("--output", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Write the report to this file instead of standard output.")
def partenaires_diffusion(config: str, fmt: str, output: Path | None) -> None:
    """The DPO's report of who receives what: services x attributes, with purpose, legal
    basis, justification and sensitivity of every attribute released, and its date. An
    attribute a service may receive that nothing it accepts provides is flagged "never
    delivered" (and named on stderr: the proxy refuses such a registry); any other problem
    of the registry stops the report."""
    ctx = partner_context(config)
    registry = load(ctx, keep_undeliverable=True)
    for problem in registry.undeliverable:
        click.echo(f"warning: {problem}", err=True)
    if registry.undeliverable:
        click.echo(f"warning: the proxy refuses this registry: {len(registry.undeliverable)} "
                   "attribute(s) flagged 'never delivered' in the report", err=True)
    report = build_report(registry, ctx.dictionary, ctx.folder)
    text = RENDERERS[fmt](report)
    if output is None:
        click.echo(terminal_safe(text) if fmt == "text" else text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"{output}: cannot write the report ({exc.strerror})")
    click.echo(f"wrote {output} ({len(report.services)} services)", err=True)
