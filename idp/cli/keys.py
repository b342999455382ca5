"""``ncconnect keys list | add | activate | retire``: rotating keys without an outage.

The rollover of a key, whatever its purpose (README, "Key rotation"):

1. ``keys add PURPOSE``: a new key, published at once (JWKS, SAML metadata) or, for an
   internal secret, accepted at once; activatable after ``key_rotation.publish_days``
   (public keys) or at once (secrets), or ``--activate-after``;
2. ``keys activate PURPOSE KID``: it signs (encrypts to, makes tokens) from now on; the
   previous key stays published and accepted;
3. ``keys retire PURPOSE KID``: once nothing the previous key made can still be valid
   (refused before, unless ``--force``), it is no longer published or accepted.

Every worker of every host reading the folder follows within a second, without restart.
The pairwise secret is refused: it never rotates.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import click

from ..keyring import PURPOSES, Overlaps, Refused, ensure_keyring
from ..keyring import rules as keyring_rules
from ..keyring.model import PAIRWISE_REFUSAL, KeyRecord, now_utc
from ..schema_errors import ConfigError
from ..settings import Lifetimes, Settings, load_settings
from .base import config_option, fail, settings_file
from .proxy import keys
from .table import render_table

#: ``keys add --activate-after``: 7d, 12h, 30m, 45s, or 0.
DURATION = re.compile(r"^(\d+(?:\.\d+)?)([dhms]?)$")
_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1, "": 1}
#: Lifetime of a back-channel logout token (:mod:`plugins.frontends.oidc.logout_token`).
LOGOUT_TOKEN_LIFETIME = 120


def overlaps(lifetimes: Lifetimes) -> Overlaps:
    """How long each purpose's previous key must stay accepted: the longest life of what it
    made (ID and logout tokens; assertions and the AuthnRequests of a login; forms of a
    login, of the consent screen and of the citizen's space; sealed SSO sessions)."""
    return Overlaps({
        "oidc-signing": max(lifetimes.id_token, LOGOUT_TOKEN_LIFETIME),
        "saml-signing": max(lifetimes.saml_assertion, lifetimes.flow),
        "saml-encryption": lifetimes.flow,
        "csrf": max(lifetimes.flow, lifetimes.consent_screen, lifetimes.account_session),
        "at-rest": max(lifetimes.flow, lifetimes.sso_absolute),
    })


def _settings(config: str, data_dir: Path | None) -> tuple[Path, Settings | None]:
    """The keys folder, and the settings when they could be read (for lifetimes)."""
    try:
        settings = load_settings(settings_file(config))
    except ConfigError as exc:
        if data_dir is None:
            fail(exc)
        settings = None
    folder = (data_dir / "keys") if data_dir else settings.keys.folder  # type: ignore[union-attr]
    return folder, settings


def _folder_options(f):
    f = click.option("--data-dir", type=click.Path(path_type=Path), default=None,
                     help="Use DATA_DIR/keys instead of the settings' data_dir.")(f)
    return config_option("Settings file (or folder holding proxy.yaml): its data_dir and "
                         "lifetimes.")(f)


def _purpose_argument(f):
    return click.argument("purpose", type=click.Choice(list(PURPOSES)))(f)


def _open(folder: Path):
    if not folder.is_dir():
        fail(f"{folder}: no keys folder: run 'ncconnect keys init' first")
    try:
        return ensure_keyring(folder)
    except ValueError as exc:
        fail(exc)


def _when(value: dt.datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M:%S}Z" if value else "-"


def _row(record: KeyRecord, now: dt.datetime, ov: Overlaps) -> list[str]:
    retire_after = record.deactivated + dt.timedelta(seconds=ov.of(record.purpose)) \
        if record.deactivated else None
    return [record.purpose, record.kid[:24], record.status(now), _when(record.created),
            _when(record.activate_after), _when(record.activated), _when(record.deactivated),
            _when(retire_after), _when(record.retired)]


@keys.command("list")
@_folder_options
@click.option("--all", "show_all", is_flag=True, help="Show retired keys too.")
@click.argument("purpose", required=False, type=click.Choice(list(PURPOSES)))
def keys_list(config: str, data_dir: Path | None, show_all: bool, purpose: str | None) -> None:
    """Each key with its status and dates: published, activatable (from ACTIVATE-AFTER),
    active, previous (still accepted; may be retired from RETIRE-AFTER), retired."""
    folder, settings = _settings(config, data_dir)
    ring = _open(folder)
    ov = overlaps(settings.lifetimes if settings else Lifetimes())
    now = now_utc()
    order = list(PURPOSES)
    records = sorted(ring.records, key=lambda r: (order.index(r.purpose), r.created))
    rows = [_row(r, now, ov) for r in records
            if (show_all or not r.retired) and (purpose is None or r.purpose == purpose)]
    click.echo(render_table(["PURPOSE", "KID", "STATUS", "CREATED", "ACTIVATE-AFTER",
                             "ACTIVATED", "DEACTIVATED", "RETIRE-AFTER", "RETIRED"], rows))


def _seconds(text: str) -> int:
    match = DURATION.match(text.strip())
    if not match:
        raise click.BadParameter("write a duration such as 7d, 12h, 30m, 45s or 0")
    return int(float(match.group(1)) * _UNIT[match.group(2)])


@keys.command("add")
@_folder_options
@click.option("--activate-after", default=None, metavar="DURATION",
              help="Publish for this long before activation may happen (7d, 12h, 30m, 0). "
                   "Default: key_rotation.publish_days for OIDC/SAML keys, 0 for secrets.")
@_purpose_argument
def keys_add(config: str, data_dir: Path | None, activate_after: str | None,
             purpose: str) -> None:
    """Create a new key of PURPOSE and publish it (not used to sign yet)."""
    folder, settings = _settings(config, data_dir)
    if not PURPOSES[purpose].rotates:
        fail(PAIRWISE_REFUSAL)
    _open(folder)
    if activate_after is not None:
        delay = _seconds(activate_after)
    elif PURPOSES[purpose].public:
        days = settings.key_rotation.publish_days if settings else 7
        delay = int(days * 86400)
    else:
        delay = 0
    try:
        record = keyring_rules.add(folder, purpose, delay)
    except Refused as exc:
        fail(exc)
    click.echo(f"added {purpose} key {record.kid}: published now, activatable from "
               f"{_when(record.activate_after)} ('ncconnect keys activate {purpose} "
               f"{record.kid[:12]}')")


@keys.command("activate")
@_folder_options
@click.option("--now", "now_flag", is_flag=True,
              help="Activate before ACTIVATE-AFTER (suspected compromise of the active key): "
                   "partners that have not refreshed the JWKS or metadata fail until they do.")
@_purpose_argument
@click.argument("kid")
def keys_activate(config: str, data_dir: Path | None, now_flag: bool, purpose: str,
                  kid: str) -> None:
    """Make key KID (or a unique prefix) the one PURPOSE uses from now on."""
    folder, settings = _settings(config, data_dir)
    if not PURPOSES[purpose].rotates:
        fail(PAIRWISE_REFUSAL)
    _open(folder)
    try:
        record = keyring_rules.activate(folder, purpose, kid, now_flag)
    except Refused as exc:
        fail(exc)
    if now_flag and record.activate_after > (record.activated or now_utc()):
        click.echo("warning: activated before its publication delay ended: partners that "
                   "have not refreshed the JWKS or SAML metadata fail until they do",
                   err=True)
    ov = overlaps(settings.lifetimes if settings else Lifetimes())
    click.echo(f"activated {purpose} key {record.kid}; the previous key stays accepted, "
               f"retire it after {ov.of(purpose)} s")


@keys.command("retire")
@_folder_options
@click.option("--force", is_flag=True,
              help="Retire even while what the key made may still be valid (compromise).")
@_purpose_argument
@click.argument("kid")
def keys_retire(config: str, data_dir: Path | None, force: bool, purpose: str,
                kid: str) -> None:
    """Stop publishing and accepting key KID of PURPOSE, and delete its files."""
    folder, settings = _settings(config, data_dir)
    if not PURPOSES[purpose].rotates:
        fail(PAIRWISE_REFUSAL)
    _open(folder)
    ov = overlaps(settings.lifetimes if settings else Lifetimes())
    try:
        record = keyring_rules.retire(folder, purpose, kid, ov, force)
    except Refused as exc:
        fail(exc)
    click.echo(f"retired {purpose} key {record.kid}")
