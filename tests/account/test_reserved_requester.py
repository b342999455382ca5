"""The requester of Mon espace NC Connect cannot be taken by a partner."""

from __future__ import annotations

import shutil

import pytest
import yaml

from idp.assemble import ACCOUNT_REQUESTER, assemble
from idp.schema_errors import ConfigError
from idp.settings import load_settings


def test_a_service_registering_the_account_requester_is_refused_at_start(account_federation,
                                                                        tmp_path):
    folder = tmp_path / "copie"
    shutil.copytree(account_federation.folder, folder,
                    ignore=shutil.ignore_patterns("store.db*", "*.log"))
    partner = folder / "partenaires" / "rp-op.yaml"
    data = yaml.safe_load(partner.read_text(encoding="utf-8"))
    data["oidc"]["client_id"] = ACCOUNT_REQUESTER
    partner.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"rp-op\.yaml: 'ncconnect:mon-compte' is reserved"):
        assemble(load_settings(folder / "proxy.yaml"), account_federation.env)
