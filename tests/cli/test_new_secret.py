"""`partenaires new-secret` (``idp.partners.edit.new_client_secret``): a service gets a new
client secret, printed once; the one it replaces keeps working for an overlap, written as
``oidc.previous_client_secret`` beside it, and nothing else in the file changes."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import yaml

from idp.assemble import assemble
from idp.partners.edit import new_client_secret
from idp.settings import load_settings
from idp.testbed.federation import DEFAULT_SERVICES, build_federation
from plugins.frontends.oidc.clients import ClientRegistry
from tests.cli.conftest import ncconnect

#: The demo service's secret, public on purpose (see its partner file's header).
DEMO_SECRET = "demo-mairie-secret"
#: 2026-12-04T04:00:00Z, the clock of the tests that fix it.
NOW = dt.datetime(2026, 12, 4, 4, 0, tzinfo=dt.UTC).timestamp()


def sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def oidc_of(copy) -> dict:
    path = copy.registry().files["demo-mairie"]
    return yaml.safe_load(path.read_text(encoding="utf-8"))["oidc"]


def test_overlap_keeps_the_replaced_hash_until_now_plus_the_overlap(copy):
    made = new_client_secret(copy.folder, "demo-mairie", copy.dictionary, True,
                             overlap_seconds=7 * 24 * 3600, now=NOW)
    oidc = oidc_of(copy)
    assert oidc["client_secret_sha256"] == sha256(made.client_secret)
    assert oidc["previous_client_secret"] == {
        "sha256": sha256(DEMO_SECRET),
        "expires_at": dt.datetime(2026, 12, 11, 4, 0, tzinfo=dt.UTC)}
    assert made.previous is not None and made.previous.expires_at_text == "2026-12-11T04:00:00Z"


def test_only_the_secret_lines_change_and_comments_are_kept(copy):
    path = copy.registry().files["demo-mairie"]
    text = path.read_text(encoding="utf-8").replace(
        "oidc:\n", "# Raccordé le 1er mars.\noidc:\n  # identifiant donné au partenaire\n")
    path.write_text(text, encoding="utf-8")
    before = text.splitlines()
    made = new_client_secret(copy.folder, "demo-mairie", copy.dictionary, True,
                             overlap_seconds=3600, now=NOW)
    at = before.index(f"  client_secret_sha256: {sha256(DEMO_SECRET)}")
    assert path.read_text(encoding="utf-8").splitlines() == [
        *before[:at],
        f"  client_secret_sha256: {sha256(made.client_secret)}",
        "  previous_client_secret:",
        f"    sha256: {sha256(DEMO_SECRET)}",
        "    expires_at: 2026-12-04T05:00:00Z",
        *before[at + 1:]]


def test_a_second_overlap_replaces_the_earlier_previous_secret(copy):
    first = new_client_secret(copy.folder, "demo-mairie", copy.dictionary, True,
                              overlap_seconds=3600, now=NOW)
    new_client_secret(copy.folder, "demo-mairie", copy.dictionary, True,
                      overlap_seconds=7200, now=NOW)
    assert oidc_of(copy)["previous_client_secret"] == {
        "sha256": sha256(first.client_secret),
        "expires_at": dt.datetime(2026, 12, 4, 6, 0, tzinfo=dt.UTC)}


def test_no_overlap_removes_a_hand_written_previous_secret(copy):
    path = copy.registry().files["demo-mairie"]
    line = f"  client_secret_sha256: {sha256(DEMO_SECRET)}\n"
    text = path.read_text(encoding="utf-8").replace(
        line, line + "  previous_client_secret: {sha256: " + "b" * 64
        + ", expires_at: 2026-12-11T04:00:00Z}   # ancien secret\n")
    path.write_text(text, encoding="utf-8")
    assert copy.registry().services["demo-mairie"].oidc.previous_client_secret is not None
    made = new_client_secret(copy.folder, "demo-mairie", copy.dictionary, True)
    assert made.previous is None
    assert "previous_client_secret" not in oidc_of(copy)
    assert path.read_text(encoding="utf-8") == text.replace(
        line, f"  client_secret_sha256: {sha256(made.client_secret)}\n").replace(
        "  previous_client_secret: {sha256: " + "b" * 64
        + ", expires_at: 2026-12-11T04:00:00Z}   # ancien secret\n", "")


def test_the_result_is_validated_with_the_whole_registry(copy):
    made = new_client_secret(copy.folder, "demo-mairie", copy.dictionary, True,
                             overlap_seconds=3600, now=NOW)
    assert made.registry.services["demo-mairie"].oidc.previous_client_secret.sha256 == \
        sha256(DEMO_SECRET)
    assert set(made.registry.files) == set(copy.registry().files)
    assert ncconnect("partenaires", "validate", "--config", copy.config).exit_code == 0


def test_command_prints_the_secret_once_and_the_previous_ones_expiry(copy):
    result = ncconnect("partenaires", "new-secret", "demo-mairie", "--config", copy.config)
    assert result.exit_code == 0, result.output
    path = copy.registry().files["demo-mairie"]
    secret = re.search(r"^client_secret: (\S+)$", result.stdout, flags=re.M).group(1)
    expires = oidc_of(copy)["previous_client_secret"]["expires_at"]
    assert result.stdout == (
        f"wrote {path}: new client secret for demo-mairie\n"
        "client_id: demo-mairie\n"
        f"client_secret: {secret}\n"
        "Store it now, it is not kept: give it to the partner over a safe channel; only its "
        "SHA-256 is in the partner file.\n"
        f"The previous secret keeps working until {expires:%Y-%m-%dT%H:%M:%SZ} (UTC), then is "
        "refused: the partner must switch before.\n"
        "Run 'ncconnect partenaires reload' to apply it without a restart.\n")
    assert secret not in path.read_text(encoding="utf-8")
    assert oidc_of(copy)["client_secret_sha256"] == sha256(secret)


def test_command_overlaps_one_week_by_default(copy):
    before = dt.datetime.now(dt.UTC)
    ncconnect("partenaires", "new-secret", "demo-mairie", "--config", copy.config)
    expires = oidc_of(copy)["previous_client_secret"]["expires_at"]
    week = dt.timedelta(hours=168)
    assert before + week - dt.timedelta(seconds=1) <= expires <= dt.datetime.now(dt.UTC) + week


def test_command_with_zero_overlap_says_the_previous_secret_stops(copy):
    result = ncconnect("partenaires", "new-secret", "demo-mairie", "--overlap-hours", "0",
                       "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert "The previous secret is refused once the proxy reloads.\n" in result.stdout
    assert "previous_client_secret" not in oidc_of(copy)


def test_overlap_beyond_ninety_days_is_refused_and_nothing_is_written(copy):
    before = copy.snapshot()
    result = ncconnect("partenaires", "new-secret", "demo-mairie", "--overlap-hours", "2161",
                       "--config", copy.config)
    assert result.exit_code == 2
    assert "2161 is not in the range 0<=x<=2160" in result.stderr
    assert copy.snapshot() == before


def test_a_service_without_a_client_secret_is_refused_and_nothing_is_written(copy):
    before = copy.snapshot()
    result = ncconnect("partenaires", "new-secret", "demo-province", "--config", copy.config)
    assert result.exit_code == 2
    path = copy.registry().files["demo-province"]
    assert result.stderr == (f"error: {path}: oidc.token_endpoint_auth_method: this service "
                             "does not authenticate with a client secret\n")
    assert copy.snapshot() == before


def test_assembled_client_takes_the_previous_secret_until_its_expiry_and_not_after_no_overlap(
        tmp_path):
    fed = build_federation(tmp_path / "fed", {"rp-op": DEFAULT_SERVICES["rp-op"]})
    try:
        def client():
            satosa = assemble(load_settings(fed.config), fed.env).satosa
            oidc = next(m for m in satosa["FRONTEND_MODULES"] if m["name"] == "oidc")
            return ClientRegistry(oidc["config"]["clients"]).get("rp-op")

        old = fed.client_secrets["rp-op"]
        result = ncconnect("partenaires", "new-secret", "rp-op", "--overlap-hours", "1",
                           "--config", fed.config)
        assert result.exit_code == 0, result.output
        new = re.search(r"^client_secret: (\S+)$", result.stdout, flags=re.M).group(1)
        served = client()
        assert served.matching_secret(new) == "current"
        assert served.matching_secret(old) == "previous"
        assert served.matching_secret(old, now=served.previous_secret_expires_at) is None
        ncconnect("partenaires", "new-secret", "rp-op", "--overlap-hours", "0",
                  "--config", fed.config)
        assert client().matching_secret(new) is None
    finally:
        fed.stop()
