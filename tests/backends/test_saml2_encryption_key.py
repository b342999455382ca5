"""Our SAML encryption key pair: its own pair, created by ``ncconnect keys init``, added to a data
folder made before it existed, and required before the proxy starts."""

from __future__ import annotations

import yaml
from click.testing import CliRunner

from idp.cli import main
from idp.keys import KeyPaths

ENCRYPTION = ("saml-encryption.pem", "saml-encryption.crt")


def _init(data_dir) -> str:
    result = CliRunner().invoke(main, ["keys", "init", "--data-dir", str(data_dir)])
    assert result.exit_code == 0, result.output
    return result.output


def test_keys_init_creates_an_encryption_pair_apart_from_the_signing_pair(tmp_path):
    _init(tmp_path)
    keys = KeyPaths(tmp_path / "keys")

    assert keys.saml_encryption_key.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert keys.saml_encryption_key.stat().st_mode & 0o077 == 0
    assert keys.saml_encryption_key.read_bytes() != keys.saml_key.read_bytes()
    assert keys.saml_encryption_cert.read_bytes() != keys.saml_cert.read_bytes()


def test_keys_init_adds_the_encryption_pair_to_an_older_data_folder_and_keeps_the_rest(
        tmp_path):
    _init(tmp_path)
    folder = tmp_path / "keys"
    for name in ENCRYPTION:
        (folder / name).unlink()  # a data folder made before the encryption key existed
    # Key files unchanged (keyring.json, the keyring's state, records the new pair).
    before = {p.name: p.read_bytes() for p in folder.iterdir() if p.name != "keyring.json"}

    output = _init(tmp_path)

    assert sorted(line.rsplit("/", 1)[-1] for line in output.splitlines()) == sorted(ENCRYPTION)
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.name in before} == before
    assert "already present" in _init(tmp_path)


def test_a_data_folder_without_the_encryption_key_is_refused_saying_to_run_keys_init(
        tmp_path):
    _init(tmp_path / "data")
    (tmp_path / "data" / "keys" / "saml-encryption.pem").unlink()
    settings = tmp_path / "proxy.yaml"
    settings.write_text(yaml.safe_dump({"base_url": "https://connect.example.nc",
                                        "data_dir": "data"}))

    result = CliRunner().invoke(main, ["check", "--config", str(settings)])

    assert result.exit_code == 2
    assert "saml-encryption.pem: key missing: run 'ncconnect keys init" in result.output
