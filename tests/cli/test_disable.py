"""`partenaires disable`: one line of the partner file changes, the registry stays valid, and
the proxy stops serving the partner."""

from __future__ import annotations

from idp.assemble import assemble
from idp.settings import load_settings
from idp.testbed.federation import DEFAULT_SERVICES, build_federation
from tests.cli.conftest import ncconnect


def test_disabling_inserts_active_false_after_the_id_keeping_every_other_line(copy):
    path = copy.registry().files["demo-mairie"]
    before = path.read_text(encoding="utf-8").splitlines()
    assert not any(line.startswith("active:") for line in before)
    result = ncconnect("partenaires", "disable", "demo-mairie", "--config", copy.config)
    assert result.exit_code == 0, result.output
    after = path.read_text(encoding="utf-8").splitlines()
    at = before.index("id: demo-mairie") + 1
    assert after == [*before[:at], "active: false", *before[at:]]


def test_disabling_edits_an_existing_active_line_and_keeps_its_comment(copy):
    path = copy.registry().files["demo-province"]
    text = path.read_text(encoding="utf-8")
    text = text.replace("id: demo-province\n",
                        "id: demo-province\nactive: true   # ouvert le 1er mars\n")
    path.write_text(text, encoding="utf-8")
    ncconnect("partenaires", "disable", "demo-province", "--config", copy.config)
    assert path.read_text(encoding="utf-8") == text.replace(
        "active: true   # ouvert le 1er mars", "active: false  # ouvert le 1er mars")


def test_disabled_partner_is_inactive_in_a_registry_that_still_validates(copy):
    ncconnect("partenaires", "disable", "demo-mairie", "--config", copy.config)
    reg = copy.registry()
    assert reg.services["demo-mairie"].active is False
    assert all(s.active for sid, s in reg.services.items() if sid != "demo-mairie")
    result = ncconnect("partenaires", "validate", "--config", copy.config)
    assert result.exit_code == 0, result.output


def test_an_administration_directory_can_be_disabled_like_any_partner(copy):
    result = ncconnect("partenaires", "disable", "annuaire-province-sud", "--config",
                       copy.config)
    assert result.exit_code == 0, result.output
    assert copy.registry().directories["annuaire-province-sud"].active is False
    assert ncconnect("partenaires", "validate", "--config", copy.config).exit_code == 0


def test_disabling_twice_says_so_and_changes_nothing(copy):
    ncconnect("partenaires", "disable", "demo-mairie", "--config", copy.config)
    before = copy.snapshot()
    result = ncconnect("partenaires", "disable", "demo-mairie", "--config", copy.config)
    assert result.exit_code == 0
    path = copy.registry().files["demo-mairie"]
    assert result.stdout == f"demo-mairie is already disabled in {path}: nothing changed\n"
    assert copy.snapshot() == before


def test_disabling_the_last_active_source_is_refused_and_nothing_is_written(copy):
    ncconnect("partenaires", "disable", "demo-oidc", "--config", copy.config)
    ncconnect("partenaires", "disable", "compte-nc", "--config", copy.config)
    before = copy.snapshot()
    result = ncconnect("partenaires", "disable", "demo-saml", "--config", copy.config)
    assert result.exit_code == 2
    assert result.stderr == (f"error: {copy.folder.resolve()}: no active identity source: the "
                             "proxy needs one: keep one active or add a partner file with "
                             "'kind: source'\n")
    assert copy.snapshot() == before


def test_disabling_a_source_warns_about_services_left_without_one(copy):
    path = copy.registry().files["demo-mairie"]
    path.write_text(path.read_text().replace("sources: [demo-oidc, demo-saml, compte-nc]",
                                             "sources: [demo-oidc]"))
    result = ncconnect("partenaires", "disable", "demo-oidc", "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert result.stderr == ("warning: service demo-mairie has no active identity source "
                             "left\n")


def test_disabling_an_unknown_partner_names_the_known_ones(copy):
    reg = copy.registry()
    result = ncconnect("partenaires", "disable", "mairie", "--config", copy.config)
    assert result.exit_code == 2
    known = ", ".join(sorted(reg.files))
    assert result.stderr == (f"error: no partner 'mairie' in {copy.folder.resolve()} "
                             f"(known: {known})\n")


def test_disabled_service_is_absent_from_the_assembled_configuration(tmp_path):
    services = {sid: DEFAULT_SERVICES[sid] for sid in ("rp-op", "rp-idp", "sp-op")}
    fed = build_federation(tmp_path / "fed", services)
    try:
        def served() -> tuple[set[str], set[str]]:
            satosa = assemble(load_settings(fed.config), fed.env).satosa
            oidc = next(m for m in satosa["FRONTEND_MODULES"] if m["name"] == "oidc")
            saml = next(m for m in satosa["FRONTEND_MODULES"] if m["name"] == "saml2")
            return (set(oidc["config"]["clients"]),
                    {sp["service_id"] for sp in saml["config"]["sps"].values()})

        assert served() == ({"rp-op", "rp-idp"}, {"sp-op"})
        for sid in ("rp-idp", "sp-op"):
            result = ncconnect("partenaires", "disable", sid, "--config", fed.config)
            assert result.exit_code == 0, result.output
        assert served() == ({"rp-op"}, set())
    finally:
        fed.stop()
