"""The ``ncconnect`` group and what its commands share: the settings option, error exits."""

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
    return click.option("--config", "config", default=DEFAULT_CONFIG, show_default=True,
                        help=help_text)


@dataclass
class PartnerContext:
    """What every ``partenaires`` command needs: settings, dictionary, partner folder."""

    settings: Settings
    dictionary: Dictionary
    folder: Path

    @property
    def allow_loopback_http(self) -> bool:
        return self.settings.allow_loopback_http


def partner_context(config: str) -> PartnerContext:
    try:
        settings = load_settings(config_path(config))
        dictionary = load_dictionary(settings.path(settings.dictionary))
    except ConfigError as exc:
        fail(exc)
    return PartnerContext(settings, dictionary, settings.path(settings.partners_dir))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """NC Connect federation proxy: run it, check its configuration, manage its keys and
    its partner registry."""
