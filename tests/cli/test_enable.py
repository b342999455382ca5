"""`partenaires enable` (``idp.partners.edit.enable_partner``): the way back from `disable`,
one line of the partner file changed, the registry still valid."""

from __future__ import annotations

from idp.partners.edit import disable_partner, enable_partner
from tests.cli.conftest import ncconnect


def test_enabling_sets_the_active_line_to_true_and_keeps_its_comment(copy):
    path = copy.registry().files["demo-province"]
    text = path.read_text(encoding="utf-8").replace(
        "id: demo-province\n", "id: demo-province\nactive: false   # fermé pendant l'audit\n")
    path.write_text(text, encoding="utf-8")
    result = ncconnect("partenaires", "enable", "demo-province", "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert result.stdout == (f"enabled demo-province: active: true in {path}\n"
                             "Run 'ncconnect partenaires reload' to apply it without a "
                             "restart.\n")
    assert path.read_text(encoding="utf-8") == text.replace(
        "active: false   # fermé pendant l'audit", "active: true  # fermé pendant l'audit")


def test_disable_then_enable_serves_the_partner_again_in_a_valid_registry(copy):
    ncconnect("partenaires", "disable", "demo-mairie", "--config", copy.config)
    assert copy.registry().services["demo-mairie"].active is False
    result = ncconnect("partenaires", "enable", "demo-mairie", "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert copy.registry().services["demo-mairie"].active is True
    assert ncconnect("partenaires", "validate", "--config", copy.config).exit_code == 0


def test_enabling_returns_what_changed_and_the_registry_as_written(copy):
    disable_partner(copy.folder, "demo-oidc", copy.dictionary, True)
    done = enable_partner(copy.folder, "demo-oidc", copy.dictionary, True)
    assert done.changed is True
    assert done.path == copy.registry().files["demo-oidc"]
    assert done.registry.sources["demo-oidc"].active is True


def test_enabling_an_active_partner_says_so_and_changes_nothing(copy):
    before = copy.snapshot()
    result = ncconnect("partenaires", "enable", "demo-mairie", "--config", copy.config)
    assert result.exit_code == 0
    path = copy.registry().files["demo-mairie"]
    assert result.stdout == f"demo-mairie is already enabled in {path}: nothing changed\n"
    assert copy.snapshot() == before


def test_enabling_a_service_whose_sources_are_all_disabled_warns(copy):
    path = copy.registry().files["demo-mairie"]
    path.write_text(path.read_text().replace("sources: [demo-oidc, demo-saml, compte-nc]",
                                             "sources: [demo-oidc]"))
    ncconnect("partenaires", "disable", "demo-mairie", "--config", copy.config)
    ncconnect("partenaires", "disable", "demo-oidc", "--config", copy.config)
    result = ncconnect("partenaires", "enable", "demo-mairie", "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert result.stderr == ("warning: service demo-mairie has no active identity source: "
                             "enable one of demo-oidc\n")


def test_enabling_an_unknown_partner_names_the_known_ones(copy):
    known = ", ".join(sorted(copy.registry().files))
    result = ncconnect("partenaires", "enable", "mairie", "--config", copy.config)
    assert result.exit_code == 2
    assert result.stderr == (f"error: no partner 'mairie' in {copy.folder.resolve()} "
                             f"(known: {known})\n")
