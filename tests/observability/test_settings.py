"""The observability settings: a bad one stops the start and says the fix."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
import yaml

from idp.assemble import metrics_token_sha256
from idp.schema_errors import ConfigError
from idp.settings import load_settings


def settings(tmp_path: Path, **extra):
    path = tmp_path / "proxy.yaml"
    path.write_text(yaml.safe_dump({"base_url": "https://connect.example.nc", **extra}))
    return load_settings(path)


def test_without_metrics_there_is_no_token_to_ask_for(tmp_path):
    assert metrics_token_sha256(settings(tmp_path), {}) is None


def test_the_token_is_kept_as_its_sha256_only(tmp_path):
    conf = settings(tmp_path, metrics={"bearer_token_env": "NCC_METRICS_TOKEN"})
    token = "x" * 32
    assert metrics_token_sha256(conf, {"NCC_METRICS_TOKEN": token}) == \
        hashlib.sha256(token.encode()).hexdigest()


@pytest.mark.parametrize("env, words", [({}, "not set"), ({"NCC_METRICS_TOKEN": "court"},
                                                          "too short")])
def test_a_missing_or_short_token_names_the_variable_and_the_fix(tmp_path, env, words):
    conf = settings(tmp_path, metrics={"bearer_token_env": "NCC_METRICS_TOKEN"})
    with pytest.raises(ConfigError, match=f"NCC_METRICS_TOKEN is {words}: export it"):
        metrics_token_sha256(conf, env)


def test_a_token_variable_name_that_is_no_variable_name_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="metrics.bearer_token_env"):
        settings(tmp_path, metrics={"bearer_token_env": "mon jeton"})


def test_the_audit_stream_defaults_to_the_data_folder_and_the_history_retention(tmp_path):
    conf = settings(tmp_path, data_dir="data", lifetimes={"history_days": 90})
    assert conf.audit_dir == (tmp_path / "data" / "audit").resolve()
    assert conf.audit_retention_days == 90
