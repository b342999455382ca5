"""An account key is base64url: one in 64 starts with "-". The commands that take one as an
argument read it as the key, not as an option (this failed once in CI: 'No such option
-A')."""

from __future__ import annotations

import json

from idp.stores import open_store
from plugins.frontends.admin.roles import Roles
from tests.cli.conftest import ncconnect

DASHED = "-AGz02lL1tBpG6I4Mxfh4TaDGu7uVJq1-kW0CEnPAeu"


def test_audit_citizen_reads_a_key_starting_with_a_dash(tmp_path):
    trail = tmp_path / "audit-2026-12-04.jsonl"
    trail.write_text("", encoding="utf-8")
    result = ncconnect("audit", "citizen", DASHED, trail, "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["citizen"] == DASHED


def test_a_mistyped_option_is_still_an_option_error(tmp_path):
    trail = tmp_path / "audit-2026-12-04.jsonl"
    trail.write_text("", encoding="utf-8")
    result = ncconnect("audit", "citizen", "--sinc", "2026-12-01", trail)
    assert result.exit_code == 2 and "No such option '--sinc'" in result.output


def test_admin_revoke_reads_a_key_starting_with_a_dash(copy, tmp_path):
    store = f"sqlite://{tmp_path / 'store.db'}"
    roles = Roles(open_store(store), 395)
    roles.grant(DASHED, "dpo")
    result = ncconnect("admin", "revoke", DASHED, "--role", "dpo", "--store", store,
                       "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert roles.roles_of(DASHED) == []
