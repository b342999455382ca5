"""The `ncconnect` command line: help everywhere, keys, configuration checks."""

from __future__ import annotations

import hashlib
import os
import stat
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from idp.cli import main

COMMANDS = [[], ["keys"], ["keys", "init"], ["check"], ["serve"], ["demo"], ["partenaires"],
            ["partenaires", "validate"], ["partenaires", "hash-secret"], ["partenaires", "list"],
            ["partenaires", "show"], ["partenaires", "add"], ["partenaires", "disable"],
            ["partenaires", "diffusion"], ["partenaires", "reload"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "ncconnect")
def test_every_command_has_help(command):
    result = CliRunner().invoke(main, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_console_script_and_module_run_the_same_command_group():
    [script] = [ep for ep in entry_points(group="console_scripts") if ep.name == "ncconnect"]
    assert script.value == "idp.cli:main"
    assert script.load() is main
    run = subprocess.run([sys.executable, "-m", "idp.cli", "partenaires", "--help"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "diffusion" in run.stdout and "reload" in run.stdout


def test_keys_init_writes_private_keys_readable_only_by_owner(tmp_path):
    result = CliRunner().invoke(main, ["keys", "init", "--data-dir", str(tmp_path)])
    assert result.exit_code == 0, result.output
    key = tmp_path / "keys" / "oidc-signing.pem"
    assert key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert (tmp_path / "keys" / "saml-signing.crt").read_bytes().startswith(b"-----BEGIN CERT")


def test_keys_init_never_replaces_existing_keys_without_force(tmp_path):
    runner = CliRunner()
    runner.invoke(main, ["keys", "init", "--data-dir", str(tmp_path)])
    before = (tmp_path / "keys" / "pairwise.secret").read_bytes()
    result = runner.invoke(main, ["keys", "init", "--data-dir", str(tmp_path)])
    assert "already present" in result.output
    assert (tmp_path / "keys" / "pairwise.secret").read_bytes() == before


def test_hash_secret_prints_the_sha256(tmp_path):
    result = CliRunner().invoke(main, ["partenaires", "hash-secret", "s3cret"])
    assert result.output.strip() == hashlib.sha256(b"s3cret").hexdigest()


def test_check_without_keys_says_how_to_create_them(tmp_path):
    settings = tmp_path / "proxy.yaml"
    settings.write_text(yaml.safe_dump({"base_url": "https://connect.example.nc",
                                        "data_dir": "data"}))
    result = CliRunner().invoke(main, ["check", "--config", str(settings)])
    assert result.exit_code == 2
    assert "ncconnect keys init" in result.output
    assert not (tmp_path / "data").exists(), "a check must not create keys of its own"


def test_settings_with_an_http_base_url_are_refused_outside_demo_mode(tmp_path):
    settings = tmp_path / "proxy.yaml"
    settings.write_text(yaml.safe_dump({"base_url": "http://connect.example.nc"}))
    result = CliRunner().invoke(main, ["check", "--config", str(settings)])
    assert result.exit_code == 2
    assert "proxy.yaml: base_url: 'http://connect.example.nc' must use https" in result.output


def test_settings_with_an_unknown_field_name_the_field(tmp_path):
    settings = tmp_path / "proxy.yaml"
    settings.write_text(yaml.safe_dump({"base_url": "https://c.example.nc", "wokers": 3}))
    result = CliRunner().invoke(main, ["check", "--config", str(settings)])
    assert "proxy.yaml: wokers: is not a known field" in result.output


def test_demo_partner_registry_validates():
    demo = Path(__file__).resolve().parents[2] / "config" / "demo.yaml"
    result = CliRunner().invoke(main, ["partenaires", "validate", "--config", str(demo)])
    assert result.exit_code == 0, result.output
    assert "2 services, 3 identity sources" in result.output


# --- which settings the admin commands read ------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_COMMANDS = [["partenaires", "validate"], ["partenaires", "list"],
                     ["partenaires", "show", "demo-mairie"], ["partenaires", "diffusion"],
                     ["ldap", "check"]]


def empty_settings(tmp_path: Path) -> Path:
    (tmp_path / "partenaires").mkdir()
    settings = tmp_path / "proxy.yaml"
    settings.write_text(yaml.safe_dump({
        "base_url": "https://connect.example.nc", "partners_dir": "partenaires",
        "dictionary": str(ROOT / "attributs" / "dictionnaire.yaml")}), encoding="utf-8")
    return settings


@pytest.mark.parametrize("command", REGISTRY_COMMANDS, ids=" ".join)
def test_an_empty_registry_is_an_error_naming_the_settings_read(tmp_path, command):
    settings = empty_settings(tmp_path)
    result = CliRunner().invoke(main, [*command, "--config", str(settings)])
    assert result.exit_code == 2
    assert result.stderr == (
        f"error: {tmp_path / 'partenaires'}: no partner file in this registry (settings "
        f"{settings}): add partner files there, or choose the settings with --config or "
        "NCCONNECT_CONFIG (the demo federation: --config config/demo.yaml)\n")


@pytest.mark.parametrize("command", REGISTRY_COMMANDS[:4], ids=" ".join)
def test_ncconnect_config_names_the_settings_when_config_is_not_given(command):
    result = CliRunner().invoke(main, command,
                                env={"NCCONNECT_CONFIG": str(ROOT / "config" / "demo.yaml")})
    assert result.exit_code == 0, result.output


def test_validate_names_the_registry_it_checked():
    result = CliRunner().invoke(main, ["partenaires", "validate", "--config",
                                       str(ROOT / "config" / "demo.yaml")])
    assert result.stdout == ("ok: 2 services, 3 identity sources, 1 directory in "
                             f"{ROOT / 'partenaires' / 'demo'}\n")


def test_validate_refuses_a_registry_without_an_active_identity_source(tmp_path):
    settings = empty_settings(tmp_path)
    (tmp_path / "partenaires" / "src.yaml").write_text(yaml.safe_dump({
        "kind": "source", "id": "src-a", "display_name": "Source A", "protocol": "oidc",
        "loa": "low", "active": False, "attributes": {"given_name": {}},
        "oidc": {"issuer": "https://op.example.nc", "client_id": "ncc",
                 "client_secret_env": "SRC_A_SECRET"}}), encoding="utf-8")
    result = CliRunner().invoke(main, ["partenaires", "validate", "--config", str(settings)])
    assert result.exit_code == 2
    assert "partenaires: no active identity source: the proxy needs one" in result.stderr


def test_the_default_settings_are_the_checkouts_production_ones_from_any_folder(tmp_path):
    """``config/proxy.yaml`` of the current folder, else of the checkout the command comes
    from: a fresh clone's production registry (``partenaires/``) is empty, and says so."""
    run = subprocess.run([sys.executable, "-m", "idp.cli", "partenaires", "validate"],
                         capture_output=True, text=True, timeout=60, cwd=tmp_path,
                         env={k: v for k, v in os.environ.items() if k != "NCCONNECT_CONFIG"})
    production = ROOT / "partenaires"
    if run.returncode == 0:
        assert run.stdout.endswith(f" in {production}\n")
    else:
        assert run.stderr.startswith(f"error: {production}: no partner file in this registry "
                                     f"(settings {ROOT / 'config' / 'proxy.yaml'})")
