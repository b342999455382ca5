"""``organisation_id`` in a service's partner file: optional, an id like a partner id, and
the registry names file, field and fix when it is not one."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from idp.dictionary import load_dictionary
from idp.partners import load_registry
from idp.schema_errors import ConfigError
from idp.testbed.federation import DICTIONARY

DEMO = Path(__file__).resolve().parents[2] / "partenaires" / "demo"


def _registry_with(tmp_path, organisation_id: str):
    folder = tmp_path / "partenaires"
    shutil.copytree(DEMO, folder)
    path = folder / "service-mairie-oidc.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["organisation_id"] = organisation_id
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path, load_registry(folder, load_dictionary(DICTIONARY), True)


def test_a_valid_organisation_id_is_read_with_the_service(tmp_path):
    _, registry = _registry_with(tmp_path, "mairie-demo")
    assert [s.organisation_id for s in registry.services.values()].count("mairie-demo") == 1


def test_an_invalid_organisation_id_names_the_file_the_field_and_the_fix(tmp_path):
    with pytest.raises(ConfigError) as refused:
        _registry_with(tmp_path, "Mairie Démo")
    path = tmp_path / "partenaires" / "service-mairie-oidc.yaml"
    assert str(refused.value).startswith(
        f"{path}: organisation_id: 'Mairie Démo' must be an organisation's id like a partner "
        "id: lowercase letters, digits and hyphens")
