"""The portal's settings and its reserved requester."""

from __future__ import annotations

import shutil

import pytest
import yaml

from idp.assemble import ADMIN_REQUESTER, assemble
from idp.schema_errors import ConfigError
from idp.settings import load_settings

from .steps import ncconnect


def _copy(portal, tmp_path):
    folder = tmp_path / "copie"
    shutil.copytree(portal.fed.folder, folder,
                    ignore=shutil.ignore_patterns("store.db*", "*.log", "audit", "metrics"))
    return folder


def _with_portal(folder, portal_settings: dict):
    config = folder / "proxy.yaml"
    data = yaml.safe_load(config.read_text(encoding="utf-8"))
    data["portal"] = portal_settings
    config.write_text(yaml.safe_dump(data), encoding="utf-8")
    return config


@pytest.mark.parametrize(("portal_settings", "message"), [
    ({"role_days": 0}, r"portal\.role_days"),
    ({"invitation_hours": 10000}, r"portal\.invitation_hours"),
    ({"role_dayz": 30}, r"portal\.role_dayz"),
])
def test_bad_portal_settings_stop_the_start_naming_the_setting(portal, tmp_path,
                                                              portal_settings, message):
    config = _with_portal(_copy(portal, tmp_path), portal_settings)
    with pytest.raises(ConfigError, match=message):
        load_settings(config)


def test_the_portal_settings_set_the_role_lifetime(portal, tmp_path):
    config = _with_portal(_copy(portal, tmp_path), {"role_days": 30, "invitation_hours": 2})
    fed = assemble(load_settings(config), portal.fed.env)
    admin = next(f for f in fed.satosa["FRONTEND_MODULES"] if f["name"] == "administration")
    assert admin["config"]["role_days"] == 30
    assert admin["config"]["requester"] == ADMIN_REQUESTER


def test_a_service_registering_the_portal_requester_is_refused_at_start(portal, tmp_path):
    folder = _copy(portal, tmp_path)
    partner = folder / "partenaires" / "rp-op.yaml"
    data = yaml.safe_load(partner.read_text(encoding="utf-8"))
    data["oidc"]["client_id"] = ADMIN_REQUESTER
    partner.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError,
                       match=r"rp-op\.yaml: 'ncconnect:administration' is reserved"):
        assemble(load_settings(folder / "proxy.yaml"), portal.fed.env)


def test_the_command_refuses_an_unknown_role_or_a_lifetime_out_of_bounds(portal):
    config = str(portal.fed.config)
    unknown = ncconnect("admin", "add", "--role", "root", "--config", config)
    assert unknown.returncode == 2 and "'root' is not one of 'admin', 'dpo'" in unknown.stderr
    too_long = ncconnect("admin", "add", "--role", "dpo", "--hours", "0", "--config", config)
    assert too_long.returncode == 2
    assert "error: --hours 0: an enrolment link lives 1 to 720 hours" in too_long.stderr
    assert too_long.stdout == ""
