"""A directory's partner file is checked like any other: its attributes are in the dictionary,
its match filter names only dictionary attributes and is well formed, its password is set;
each problem names the file, the field and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from idp.assemble import _enrichment_service
from idp.dictionary import load_dictionary
from idp.partners import load_registry
from idp.schema_errors import ConfigError
from idp.testbed.federation import DICTIONARY

from .conftest import PASSWORD_ENV, directory_file


def _registry_with(folder: Path, **extra):
    partner = directory_file("ldap://127.0.0.1:389", "ou=usagers,dc=province-sud,dc=nc",
                             "cn=admin,dc=province-sud,dc=nc", **extra)
    (folder / "province-sud.yaml").write_text(yaml.safe_dump(partner, allow_unicode=True),
                                              encoding="utf-8")
    return load_registry(folder, load_dictionary(DICTIONARY))


def test_a_valid_directory_file_is_loaded(tmp_path):
    assert list(_registry_with(tmp_path).directories) == ["province-sud"]


def test_attribute_not_in_the_dictionary_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        _registry_with(tmp_path, attributes={"iban": {"from": "ncIban"}})
    assert "province-sud.yaml: attributes.iban: not in the attribute dictionary" in str(err.value)


def test_match_filter_naming_an_unknown_attribute_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        _registry_with(tmp_path, match={"filter": "(&(sn={nom})(givenName={given_name}))"})
    assert "province-sud.yaml: match.filter: {nom} is not in the attribute dictionary" \
        in str(err.value)


def test_match_filter_with_unbalanced_parentheses_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        _registry_with(tmp_path, match={"filter": "(&(sn={family_name})(givenName={given_name})"})
    assert "province-sud.yaml: match.filter: unbalanced parentheses" in str(err.value)


def test_date_format_on_an_attribute_that_is_not_a_date_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        _registry_with(tmp_path, match={"filter": "(sn={family_name:%Y%m%d})"})
    assert "match.filter: {family_name:%Y%m%d}: family_name is not a date" in str(err.value)


def test_unset_bind_password_names_the_file_and_the_field(tmp_path):
    reg = _registry_with(tmp_path)
    with pytest.raises(ConfigError) as err:
        _enrichment_service(reg, load_dictionary(DICTIONARY), {})
    assert f"province-sud.yaml: ldap.bind_password_env: environment variable {PASSWORD_ENV} " \
        "is not set" in str(err.value)
