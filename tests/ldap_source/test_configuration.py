"""The account source's partner file is assembled like any source's: its bind password comes
from the environment variable it names, and an unset one names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from idp.assemble import _backend
from idp.dictionary import load_dictionary
from idp.partners import load_registry
from idp.schema_errors import ConfigError
from idp.settings import Settings
from idp.testbed.federation import DICTIONARY

from .conftest import SOURCE, source_partner

ENV = "NCC_TEST_LDAP_PASSWORD"


def _assembled(folder: Path, env: dict[str, str]) -> dict:
    partner = source_partner("ldap://127.0.0.1:389")
    partner["attributes"]["preferred_username"] = {}  # no from: the dictionary's name
    (folder / f"{SOURCE}.yaml").write_text(yaml.safe_dump(partner), encoding="utf-8")
    dictionary = load_dictionary(DICTIONARY)
    registry = load_registry(folder, dictionary, True)
    settings = Settings(base_url="https://connect.example.nc", data_dir=folder)
    return _backend(settings, registry, dictionary, registry.sources[SOURCE], env)


def test_unset_bind_password_names_the_file_and_the_field(tmp_path):
    with pytest.raises(ConfigError) as err:
        _assembled(tmp_path, {})
    assert f"{SOURCE}.yaml: ldap.bind_password_env: environment variable {ENV} is not set" \
        in str(err.value)


def test_attributes_are_read_by_their_from_name_or_the_dictionary_name(tmp_path):
    config = _assembled(tmp_path, {ENV: "secret"})["config"]
    assert config["ldap"]["bind_password"] == "secret"
    assert "bind_password_env" not in config["ldap"]
    assert config["attributes"]["family_name"]["external"] == ["sn"]
    assert config["attributes"]["preferred_username"]["external"] == ["preferred_username"]
    assert config["own_origin"] == "https://connect.example.nc"
