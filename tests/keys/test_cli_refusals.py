"""``ncconnect keys``: what it refuses, and why it says so."""

from __future__ import annotations

from pathlib import Path

from idp.keyring.storage import read_keyring

from .conftest import kid_of, ncconnect


def keys(data: Path, command: str, *args: str, options: tuple[str, ...] = ()):
    return ncconnect("keys", command, "--data-dir", str(data), *options, "--", *args)


def test_help_names_every_command():
    result = ncconnect("keys", "--help")
    assert result.exit_code == 0
    for command in ("init", "list", "add", "activate", "retire"):
        assert command in result.output
    for command in ("list", "add", "activate", "retire"):
        assert ncconnect("keys", command, "--help").exit_code == 0


def test_retire_refuses_the_last_key_of_a_purpose(keys_dir):
    active = read_keyring(keys_dir / "keys").active("csrf")
    assert active is not None
    result = keys(keys_dir, "retire", "csrf", active.kid)
    assert result.exit_code == 2
    assert "last key of its purpose" in result.output
    result = keys(keys_dir, "retire", "csrf", active.kid, options=("--force",))
    assert result.exit_code == 2 and "last key" in result.output


def test_retire_refuses_the_active_key(keys_dir):
    active = read_keyring(keys_dir / "keys").active("oidc-signing")
    assert active is not None
    kid_of(keys(keys_dir, "add", "oidc-signing"))
    result = keys(keys_dir, "retire", "oidc-signing", active.kid, options=("--force",))
    assert result.exit_code == 2
    assert "is the active key: activate its successor first" in result.output


def test_retire_refuses_while_tokens_of_the_old_key_may_be_valid(keys_dir):
    old = read_keyring(keys_dir / "keys").active("oidc-signing")
    assert old is not None
    new = kid_of(keys(keys_dir, "add", "oidc-signing", options=("--activate-after", "0")))
    assert keys(keys_dir, "activate", "oidc-signing", new).exit_code == 0
    result = keys(keys_dir, "retire", "oidc-signing", old.kid)
    assert result.exit_code == 2
    assert "may still have made something valid" in result.output and "--force" in result.output
    assert keys(keys_dir, "retire", "oidc-signing", old.kid, options=("--force",)).exit_code == 0
    assert not (keys_dir / "keys" / old.file).exists()  # its file is deleted


def test_activate_refuses_before_the_publication_delay_unless_now(keys_dir):
    new = kid_of(keys(keys_dir, "add", "saml-signing"))  # default: 7 days published first
    result = keys(keys_dir, "activate", "saml-signing", new)
    assert result.exit_code == 2
    assert "may be activated from" in result.output and "--now" in result.output
    forced = keys(keys_dir, "activate", "saml-signing", new, options=("--now",))
    assert forced.exit_code == 0
    assert "warning: activated before its publication delay ended" in forced.output
    assert read_keyring(keys_dir / "keys").active("saml-signing").kid == new


def test_pairwise_secret_never_rotates(keys_dir):
    active = read_keyring(keys_dir / "keys").active("pairwise")
    assert active is not None
    for command, args in (("add", ()), ("activate", (active.kid,)), ("retire", (active.kid,))):
        result = keys(keys_dir, command, "pairwise", *args)
        assert result.exit_code == 2
        assert "the pairwise secret never rotates" in result.output
        assert "new identifier everywhere" in result.output
    assert read_keyring(keys_dir / "keys").of("pairwise") == [active]
