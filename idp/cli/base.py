"""The ``ncconnect`` group and what its commands share: the settings option, error exits.

Which settings a command reads: ``--config``, else the environment variable
``NCCONNECT_CONFIG``, else ``config/proxy.yaml``, the production settings (found in the
current folder, or else in the NC Connect checkout the command is installed from, so
``.venv/bin/ncconnect`` works from any folder). The demo federation's are
``config/demo.yaml``.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import click

from ..assemble import config_path
from ..dictionary import Dictionary, load_dictionary
from ..schema_errors import ConfigError
from ..settings import Settings, load_settings

DEFAULT_CONFIG = "config/proxy.yaml"
#: Environment variable naming the settings file when ``--config`` is not given.
CONFIG_ENV = "NCCONNECT_CONFIG"
#: The checkout holding ``idp/`` (its ``config/`` when the command runs from elsewhere).
CHECKOUT = Path(__file__).resolve().parents[2]

#: Name of the gunicorn master's pid file in the data folder (``serve`` writes it).
PID_FILE = "ncconnect.pid"


def fail(exc: Exception | str) -> NoReturn:
    """Exit 2 with one ``error:`` line per problem, on stderr."""
    for line in str(exc).splitlines() or [""]:
        click.echo(f"error: {line}", err=True)
    sys.exit(2)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    """Partner files hold text an organisation wrote: no escape sequence reaches the terminal."""
    return _CONTROL.sub("?", text)


def config_option(help_text: str = "Settings file, or a folder holding proxy.yaml."):
    return click.option("--config", "config", default=DEFAULT_CONFIG, envvar=CONFIG_ENV,
                        show_default=True, show_envvar=True,
                        help=f"{help_text} (The demo federation: config/demo.yaml.)")


def settings_file(config: str | Path) -> Path:
    """The settings file ``--config`` names (a folder means its ``proxy.yaml``); the default,
    when the current folder has no ``config/proxy.yaml``, is the checkout's."""
    path = config_path(config)
    if str(config) == DEFAULT_CONFIG and not path.exists() \
            and (CHECKOUT / DEFAULT_CONFIG).is_file():
        return CHECKOUT / DEFAULT_CONFIG
    return path


@dataclass
class PartnerContext:
    """What every ``partenaires`` command needs: settings, dictionary, partner folder."""

    settings: Settings
    dictionary: Dictionary
    folder: Path
    #: The settings file read (named in messages about the registry it points to).
    config: Path = Path(DEFAULT_CONFIG)

    @property
    def allow_loopback_http(self) -> bool:
        return self.settings.allow_loopback_http


def partner_context(config: str) -> PartnerContext:
    path = settings_file(config)
    try:
        settings = load_settings(path)
        dictionary = load_dictionary(settings.path(settings.dictionary))
    except ConfigError as exc:
        fail(exc)
    return PartnerContext(settings, dictionary, settings.path(settings.partners_dir), path)


def empty_registry(ctx: PartnerContext) -> str:
    """What to say when the settings point to a folder with no partner file at all."""
    return (f"{ctx.folder}: no partner file in this registry (settings {ctx.config}): add "
            f"partner files there, or choose the settings with --config or {CONFIG_ENV} "
            "(the demo federation: --config config/demo.yaml)")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """NC Connect federation proxy: run it, check its configuration, manage its keys and
    its partner registry."""


#: An NC Connect account key: 43 base64url characters (a SHA-256).
ACCOUNT_KEY = re.compile(r"[A-Za-z0-9_-]{43}")
_DASHED_KEY = "ncc.dashed-account-key"


class KeyFirst(click.Command):
    """A command whose first argument is an account key. One key in 64 starts with "-",
    which click would parse as options (``-AGz…`` holds ``-h``: help); such a first
    argument is set aside before parsing and given back by :func:`account_key`."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0].startswith("-") and ACCOUNT_KEY.fullmatch(args[0]):
            ctx.meta[_DASHED_KEY] = args[0]
            args = ["dashed-account-key", *args[1:]]
        return super().parse_args(ctx, args)


def key_argument(parsed: str) -> str:
    """The account key the command was given (see :class:`KeyFirst`)."""
    return click.get_current_context().meta.get(_DASHED_KEY, parsed)
