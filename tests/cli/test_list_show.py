"""`partenaires list` and `partenaires show`: what the registry holds, as the proxy reads it."""

from __future__ import annotations

import yaml

from idp.dictionary import PIVOT
from tests.cli.conftest import ncconnect


def table_rows(output: str) -> list[dict[str, str]]:
    """Rows of a text table, cut at the positions of its (single-word) headings."""
    header, *lines = output.splitlines()
    names = header.split()
    starts = [header.index(f"{n}") for n in names]
    ends = [*starts[1:], None]
    return [{n: line[s:e].strip() for n, s, e in zip(names, starts, ends, strict=True)}
            for line in lines]


def field(output: str, label: str) -> str | None:
    """The value of a ``label   value`` line of `show`."""
    for line in output.splitlines():
        if line.startswith(f"  {label}  "):
            return line[len(label) + 2:].strip()
    return None


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def test_list_has_one_row_per_partner_with_what_the_registry_says(demo):
    reg = demo.registry()
    result = ncconnect("partenaires", "list", "--config", demo.config)
    assert result.exit_code == 0, result.output
    rows = {r["ID"]: r for r in table_rows(result.output)}
    assert set(rows) == set(reg.services) | set(reg.sources) | set(reg.directories)
    for d in reg.directories.values():
        assert rows[d.id] == {"KIND": "directory", "ID": d.id, "NAME": d.organisation,
                              "PROTOCOL": "ldap", "ACTIVE": yes_no(d.active), "LOA": "-",
                              "DETAILS": f"supplies {len(d.attributes)} attributes"}
    for s in reg.services.values():
        assert rows[s.id] == {"KIND": "service", "ID": s.id, "NAME": s.name,
                              "PROTOCOL": s.protocol, "ACTIVE": yes_no(s.active),
                              "LOA": s.loa_min, "DETAILS": f"{len(s.attributes)} attributes"}
    for s in reg.sources.values():
        assert rows[s.id] == {"KIND": "source", "ID": s.id, "NAME": s.display_name,
                              "PROTOCOL": s.protocol, "ACTIVE": yes_no(s.active),
                              "LOA": s.loa, "DETAILS": f"pivot: {yes_no(reg.gives_pivot(s.id))}"}


def test_list_says_when_a_source_does_not_give_the_whole_pivot(copy):
    path = copy.folder / "source-compte-demo-saml.yaml"
    data = yaml.safe_load(path.read_text())
    del data["attributes"]["birthcountry"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    result = ncconnect("partenaires", "list", "--config", copy.config)
    rows = {r["ID"]: r for r in table_rows(result.output)}
    assert rows["demo-saml"]["DETAILS"] == "pivot: no"
    assert rows["demo-oidc"]["DETAILS"] == "pivot: yes"


def test_show_service_gives_its_file_organisation_purpose_legal_basis_and_sources(demo):
    reg = demo.registry()
    s = reg.services["demo-mairie"]
    result = ncconnect("partenaires", "show", "demo-mairie", "--config", demo.config)
    assert result.exit_code == 0, result.output
    out = result.output
    for label, value in [("file", str(reg.files[s.id])), ("organisation", s.organisation),
                         ("contact", s.contact), ("purpose", s.purpose),
                         ("legal basis", s.legal_basis), ("legal reference", s.legal_reference),
                         ("LoA minimum", s.loa_min),
                         ("consent", f"choice remembered {s.consent.remember_days} days")]:
        assert field(out, label) == value
    for sid in s.sources:
        src = reg.sources[sid]
        assert (f"{sid} ({src.display_name}; LoA {src.loa}; "
                f"pivot: {yes_no(reg.gives_pivot(sid))}; active: {yes_no(src.active)})") in out


def test_show_service_gives_each_attribute_with_label_sensitivity_and_justification(demo):
    reg = demo.registry()
    dic = demo.dictionary
    s = reg.services["demo-province"]
    out = ncconnect("partenaires", "show", "demo-province", "--config", demo.config).output
    attributes = out.split("Attributes (")[1].split("\n", 1)[1]
    rows = {r["NAME"]: r for r in table_rows(attributes.replace("LABEL (FR)", "LABEL_(FR)"))}
    assert set(rows) == set(s.attributes)
    for name, a in s.attributes.items():
        assert rows[name]["LABEL_(FR)"] == dic.attributes[name].label_fr
        assert rows[name]["SENSITIVITY"] == dic.attributes[name].sensitivity
        assert rows[name]["OPTIONAL"] == yes_no(a.optional)
        assert rows[name]["JUSTIFICATION"] == a.justification


def test_show_source_gives_pivot_and_how_each_attribute_is_read(copy):
    path = copy.folder / "source-compte-demo-oidc.yaml"
    data = yaml.safe_load(path.read_text())
    data["attributes"]["birthdate"] = {"from": "dateNaissance", "date_format": "%d/%m/%Y"}
    data["attributes"]["gender"] = {"from": "sexe", "values": {"1": "male", "2": "female"}}
    del data["attributes"]["birthplace"]
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    dic = copy.dictionary
    out = ncconnect("partenaires", "show", "demo-oidc", "--config", copy.config).output
    missing = [p for p in PIVOT if p not in data["attributes"]]
    users = sorted(s.id for s in copy.registry().services.values() if "demo-oidc" in s.sources)
    assert field(out, "pivot") == f"no (missing: {', '.join(missing)})"
    assert field(out, "used by") == ", ".join(users)
    attributes = out.split("Attributes provided (")[1].split("\n", 1)[1]
    rows = {r["NAME"]: r for r in table_rows(
        attributes.replace("LABEL (FR)", "LABEL_(FR)").replace("READ FROM", "READ_FROM"))}
    assert set(rows) == set(data["attributes"])
    assert rows["birthdate"]["READ_FROM"] == "dateNaissance"
    assert rows["birthdate"]["CONVERSION"] == "date %d/%m/%Y"
    assert rows["gender"]["CONVERSION"] == "values 1=male, 2=female"
    assert rows["email"]["READ_FROM"] == dic.attributes["email"].oidc.claim
    assert rows["email"]["LABEL_(FR)"] == dic.attributes["email"].label_fr


def test_show_unknown_partner_exits_2_naming_the_folder_and_the_known_ids(demo):
    reg = demo.registry()
    result = ncconnect("partenaires", "show", "mairie", "--config", demo.config)
    assert result.exit_code == 2
    known = ", ".join(sorted(reg.files))
    assert result.stderr == (f"error: no partner 'mairie' in {demo.folder.resolve()} "
                             f"(known: {known})\n")


def test_terminal_escape_sequences_in_partner_text_are_not_printed(copy):
    path = copy.registry().files["demo-mairie"]
    partner = yaml.safe_load(path.read_text(encoding="utf-8"))
    partner["organisation"] = "Commune \x1b[2J\x1b]0;titre\x07 démo"
    path.write_text(yaml.safe_dump(partner, allow_unicode=True), encoding="utf-8")
    assert "\x1b" in copy.registry().services["demo-mairie"].organisation
    for command in (["list"], ["show", "demo-mairie"], ["diffusion"]):
        result = ncconnect("partenaires", *command, "--config", copy.config)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout
    show = ncconnect("partenaires", "show", "demo-mairie", "--config", copy.config).stdout
    assert field(show, "organisation") == "Commune ?[2J?]0;titre? démo"


def test_show_directory_and_ldap_source(demo):
    """The demo's administration directory and LDAP account source: connection (never the
    password, only the variable holding it), match rule, and what each attribute is read from."""
    directory = ncconnect("partenaires", "show", "annuaire-province-sud", "--config", demo.config)
    assert directory.exit_code == 0, directory.output
    assert directory.output.startswith("directory annuaire-province-sud\n")
    assert "{birthdate:%Y%m%d}" in directory.output
    assert "password from env NCC_DEMO_LDAP_PASSWORD" in directory.output
    assert "postalAddress" in directory.output
    source = ncconnect("partenaires", "show", "compte-nc", "--config", demo.config)
    assert source.exit_code == 0, source.output
    assert "LoA from      ncIdentiteVerifiee" in source.output
