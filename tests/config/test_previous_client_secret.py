"""`oidc.previous_client_secret`: the secret a service had before its secret was regenerated,
kept beside the new one for an overlap. Valid only beside a current secret of a secret-based
client, and never going invalid with time."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from idp.schema_errors import ConfigError
from tests.config.test_partner_files import SERVICE, SOURCE, registry, with_, write

PREVIOUS = {"sha256": "b" * 64, "expires_at": "2026-12-11T04:00:00Z"}


def load_service(tmp_path, data: dict):
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", data)
    return registry(tmp_path).services["svc-a"]


def refusal(tmp_path, data: dict) -> str:
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", data)
    with pytest.raises(ConfigError) as err:
        registry(tmp_path)
    return str(err.value)


def test_previous_secret_beside_the_current_one_is_read_with_its_utc_expiry(tmp_path):
    service = load_service(tmp_path, with_(SERVICE, "oidc.previous_client_secret", PREVIOUS))
    previous = service.oidc.previous_client_secret
    assert previous.sha256 == "b" * 64
    assert previous.expires_at == dt.datetime(2026, 12, 11, 4, 0, tzinfo=dt.UTC)


def test_unquoted_yaml_timestamp_is_accepted_as_the_expiry(tmp_path):
    text = yaml.safe_dump(with_(SERVICE, "oidc.previous_client_secret", PREVIOUS))
    text = text.replace("expires_at: '2026-12-11T04:00:00Z'", "expires_at: 2026-12-11T04:00:00Z")
    assert "expires_at: 2026-12-11T04:00:00Z\n" in text
    write(tmp_path, "src.yaml", SOURCE)
    write(tmp_path, "svc.yaml", text)
    previous = registry(tmp_path).services["svc-a"].oidc.previous_client_secret
    assert previous.expires_at == dt.datetime(2026, 12, 11, 4, 0, tzinfo=dt.UTC)


def test_expiry_in_the_past_stays_valid_so_files_do_not_break_with_time(tmp_path):
    past = {"sha256": "b" * 64, "expires_at": "2001-01-01T00:00:00Z"}
    service = load_service(tmp_path, with_(SERVICE, "oidc.previous_client_secret", past))
    assert service.oidc.previous_client_secret.expires_at.year == 2001


def test_previous_secret_equal_to_the_current_one_is_refused(tmp_path):
    same = {**PREVIOUS, "sha256": "a" * 64}
    assert ("svc.yaml: oidc: previous_client_secret.sha256 is the current "
            "client_secret_sha256: remove previous_client_secret") in refusal(
        tmp_path, with_(SERVICE, "oidc.previous_client_secret", same))


def test_previous_secret_of_a_public_client_is_refused(tmp_path):
    public = with_(with_(SERVICE, "oidc.token_endpoint_auth_method", "none"),
                   "oidc.client_secret_sha256", ...)
    assert ("svc.yaml: oidc: previous_client_secret is for clients authenticating with a "
            "secret (client_secret_basic, client_secret_post): remove it") in refusal(
        tmp_path, with_(public, "oidc.previous_client_secret", PREVIOUS))


def test_previous_secret_of_a_private_key_jwt_client_is_refused(tmp_path):
    keys = with_(with_(with_(SERVICE, "oidc.token_endpoint_auth_method", "private_key_jwt"),
                       "oidc.client_secret_sha256", ...),
                 "oidc.jwks", {"keys": [{"kty": "RSA", "n": "sXch", "e": "AQAB"}]})
    assert "previous_client_secret is for clients authenticating with a secret" in refusal(
        tmp_path, with_(keys, "oidc.previous_client_secret", PREVIOUS))


def test_previous_secret_without_a_current_one_is_refused(tmp_path):
    alone = with_(with_(SERVICE, "oidc.client_secret_sha256", ...),
                  "oidc.previous_client_secret", PREVIOUS)
    assert ("svc.yaml: oidc: previous_client_secret needs the current secret: set "
            "client_secret_sha256") in refusal(tmp_path, alone)


def test_previous_secret_not_hashed_is_refused(tmp_path):
    assert ("svc.yaml: oidc.previous_client_secret.sha256: must be 64 lowercase hex digits"
            ) in refusal(tmp_path, with_(SERVICE, "oidc.previous_client_secret",
                                         {**PREVIOUS, "sha256": "hunter2"}))


@pytest.mark.parametrize("expires_at", ["2026-12-11T04:00:00", "2026-12-11T15:00:00+11:00"],
                         ids=["no time zone", "not utc"])
def test_expiry_not_in_utc_is_refused_with_the_form_to_write(tmp_path, expires_at):
    message = refusal(tmp_path, with_(SERVICE, "oidc.previous_client_secret",
                                      {**PREVIOUS, "expires_at": expires_at}))
    assert "svc.yaml: oidc.previous_client_secret.expires_at: " in message
    assert "must be in UTC: end it with Z, like 2026-12-11T04:00:00Z" in message


def test_expiry_that_is_not_a_date_and_time_is_refused(tmp_path):
    message = refusal(tmp_path, with_(SERVICE, "oidc.previous_client_secret",
                                      {**PREVIOUS, "expires_at": "next week"}))
    assert ("oidc.previous_client_secret.expires_at: 'next week' is not an ISO-8601 date and "
            "time: write it like 2026-12-11T04:00:00Z") in message


def test_previous_secret_without_expiry_is_refused(tmp_path):
    message = refusal(tmp_path, with_(SERVICE, "oidc.previous_client_secret",
                                      {"sha256": "b" * 64}))
    assert "oidc.previous_client_secret.expires_at: is required" in message
