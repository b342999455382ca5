"""`partenaires diffusion`: the DPO's report says exactly what the registry allows."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import yaml
from bs4 import BeautifulSoup

from idp.partners.registry import providers
from tests.cli.conftest import ncconnect

ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def yes_no(value: bool) -> str:
    return "yes" if value else "no"


def expected_rows(setup) -> list[dict[str, str]]:
    """One row per (service, attribute), straight from the registry and the dictionary
    (``generated_at`` aside: see :func:`report_rows`)."""
    reg, dic = setup.registry(keep_undeliverable=True), setup.dictionary
    rows = []
    for sid in sorted(reg.services):
        s = reg.services[sid]
        for name in dic.attributes:
            if name not in s.attributes:
                continue
            a = s.attributes[name]
            p = providers(reg, s, name)
            active = [x for x in p.sources if reg.sources[x].active] + \
                [d for d in p.directories if reg.directories[d].active]
            rows.append({
                "service_id": s.id, "service_name": s.name, "organisation": s.organisation,
                "protocol": s.protocol, "active": yes_no(s.active), "purpose": s.purpose,
                "legal_basis": s.legal_basis, "legal_reference": s.legal_reference or "",
                "attribute": name, "label_fr": dic.attributes[name].label_fr,
                "sensitivity": dic.attributes[name].sensitivity,
                "optional": yes_no(a.optional), "justification": a.justification,
                "sources": ";".join(x for x in s.sources if name in reg.sources[x].attributes),
                "enrichment": yes_no(s.enrichment),
                "provided_by": ";".join(d for d in sorted(reg.directories)
                                        if s.enrichment and reg.directories[d].active
                                        and name in reg.directories[d].attributes),
                "delivery": "never" if not p.deliverable else "yes" if active else "suspended"})
    return rows


def report_rows(text: str) -> list[dict[str, str]]:
    """The CSV's rows without ``generated_at``, checked to be the same date on every row:
    the report's own, now, in UTC."""
    rows = list(csv.DictReader(io.StringIO(text)))
    dates = {r.pop("generated_at") for r in rows}
    assert len(dates) == 1 and ISO.match(next(iter(dates))), dates
    generated = dt.datetime.strptime(dates.pop(), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - generated).total_seconds()) < 120
    return rows


def html_of(setup) -> BeautifulSoup:
    result = ncconnect("partenaires", "diffusion", "--config", setup.config, "--format", "html")
    assert result.exit_code == 0, result.output
    return BeautifulSoup(result.stdout, "html.parser")


def test_csv_has_one_row_per_service_and_attribute_as_the_registry_says(demo):
    result = ncconnect("partenaires", "diffusion", "--config", demo.config, "--format", "csv")
    assert result.exit_code == 0, result.output
    reader = csv.DictReader(io.StringIO(result.stdout))
    assert reader.fieldnames == [
        "service_id", "service_name", "organisation", "protocol", "active", "purpose",
        "legal_basis", "legal_reference", "attribute", "label_fr", "sensitivity", "optional",
        "justification", "sources", "enrichment", "provided_by", "delivery", "generated_at"]
    assert report_rows(result.stdout) == expected_rows(demo)
    assert {r["delivery"] for r in expected_rows(demo)} == {"yes"}


def test_csv_marks_a_disabled_service_and_keeps_its_rows(copy):
    ncconnect("partenaires", "disable", "demo-province", "--config", copy.config)
    out = ncconnect("partenaires", "diffusion", "--config", copy.config, "--format", "csv").stdout
    rows = report_rows(out)
    assert rows == expected_rows(copy)
    assert {r["active"] for r in rows if r["service_id"] == "demo-province"} == {"no"}


def test_csv_written_to_an_output_file(demo, tmp_path):
    target = tmp_path / "diffusion.csv"
    result = ncconnect("partenaires", "diffusion", "--config", demo.config, "--format", "csv",
                       "--output", target)
    assert result.exit_code == 0, result.output
    assert report_rows(target.read_text(encoding="utf-8")) == expected_rows(demo)


def test_text_matrix_marks_each_service_attribute_as_released_optional_or_never(demo):
    reg, dic = demo.registry(), demo.dictionary
    out = ncconnect("partenaires", "diffusion", "--config", demo.config).stdout
    matrix = out.split("Matrix (")[1].split("\n\n")[0].splitlines()[2:]
    assert len(matrix) == len(reg.services)
    for line in matrix:
        sid, status, *marks = line.split()
        s = reg.services[sid]
        assert status == ("active" if s.active else "disabled")
        assert marks == [("o" if s.attributes[n].optional else "x") if n in s.attributes else "."
                         for n in dic.attributes]


def test_text_report_gives_each_justification_under_its_attribute(demo):
    reg, dic = demo.registry(), demo.dictionary
    out = ncconnect("partenaires", "diffusion", "--config", demo.config).stdout
    sections: dict[str, list[str]] = {}
    heading = ""
    for line in out.split("Per attribute:\n")[1].split("\n\nDirectories")[0].splitlines():
        if line.startswith("    "):
            sections[heading].append(line.strip())
        else:
            heading = line.strip()
            sections[heading] = []
    for s in reg.services.values():
        for name, a in s.attributes.items():
            d = dic.attributes[name]
            flags = "active" + (", optional" if a.optional else "")
            assert f"{s.id} [{flags}]: {a.justification}" in \
                sections[f"{name} ({d.label_fr}), sensitivity {d.sensitivity}:"]


def test_html_page_is_french_accessible_and_without_script(demo):
    page = html_of(demo)
    assert page.html["lang"] == "fr"
    assert page.find("script") is None
    tables = page.find_all("table")
    assert tables and all(t.find("caption") for t in tables)
    assert all(th.get("scope") in ("col", "row") for th in page.find_all("th"))


def test_html_matrix_lists_every_service_with_its_attributes(demo):
    reg, dic = demo.registry(), demo.dictionary
    matrix = html_of(demo).find("table", id="matrice")
    columns = [th["data-attribute"] for th in matrix.select("thead th[data-attribute]")]
    assert columns == list(dic.attributes)
    rows = {tr["data-service"]: tr for tr in matrix.select("tbody tr")}
    assert set(rows) == set(reg.services)
    for sid, tr in rows.items():
        s = reg.services[sid]
        assert s.name in tr.find("th", scope="row").get_text()
        assert s.purpose in tr.get_text()
        cells = {td["data-attribute"]: td.get_text(strip=True)
                 for td in tr.select("td[data-attribute]")}
        assert cells == {n: ("facultatif" if s.attributes[n].optional else "oui")
                         if n in s.attributes else "–non transmis" for n in dic.attributes}


def test_html_escapes_what_partners_wrote(copy):
    path = copy.registry().files["demo-mairie"]
    hostile = "<script>alert('x')</script> & <b>gras</b>"
    partner = yaml.safe_load(path.read_text(encoding="utf-8"))
    partner["purpose"] = f"Instruire vos demandes {hostile}"
    path.write_text(yaml.safe_dump(partner, allow_unicode=True), encoding="utf-8")
    assert hostile in copy.registry().services["demo-mairie"].purpose
    page = html_of(copy)
    assert page.find("script") is None and page.find("b") is None
    assert hostile in page.find("tr", attrs={"data-service": "demo-mairie"}).get_text()


# --- administration directories (enrichment) -----------------------------------------------

PROVINCE_SUD = "annuaire-province-sud"


def opt_out(setup, service_id: str) -> None:
    """``enrichment: false`` in the service's partner file (for demo-province, its address then
    comes from nowhere: the registry is refused, and the report flags it)."""
    path = setup.registry().files[service_id]
    path.write_text(path.read_text(encoding="utf-8") + "enrichment: false\n", encoding="utf-8")
    assert setup.registry(keep_undeliverable=True).services[service_id].enrichment is False


def text_directories(setup) -> str:
    result = ncconnect("partenaires", "diffusion", "--config", setup.config)
    assert result.exit_code == 0, result.output
    return result.stdout.split("\nDirectories (")[1]


def directory_block(text: str, directory_id: str) -> list[str]:
    """The lines of one directory, from its heading to the next unindented-by-four line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"  {directory_id}: "))
    block = [lines[start]]
    for line in lines[start + 1:]:
        if not line.startswith("    "):
            break
        block.append(line)
    return block


def test_text_names_each_directory_with_organisation_legal_basis_and_attributes(demo):
    reg, dic = demo.registry(), demo.dictionary
    text = text_directories(demo)
    assert reg.directories
    for d in reg.directories.values():
        block = directory_block(text, d.id)
        assert block[0] == f"  {d.id}: {d.organisation}"
        assert f"    legal basis: {d.legal_basis} ({d.legal_reference})" in block
        headings = [line.strip() for line in block if line.startswith("    ")
                    and not line.startswith("      ") and line.strip().endswith(":")]
        assert headings == [f"{n} ({dic.attributes[n].label_fr}), sensitivity "
                            f"{dic.attributes[n].sensitivity}:"
                            for n in dic.attributes if n in d.attributes]


def test_text_lists_the_province_service_as_receiving_address_from_the_directory(demo):
    block = directory_block(text_directories(demo), PROVINCE_SUD)
    address = block.index("    address (Adresse postale), sensitivity medium:")
    assert block[address + 1] == "      may receive it: demo-province [active]"
    # demo-mairie may not receive address: the directory never completes it for that service.
    assert all("demo-mairie" not in line for line in block)


def test_text_lists_a_service_that_opts_out_as_opted_out_not_as_receiver(copy):
    opt_out(copy, "demo-province")
    text = text_directories(copy)
    block = directory_block(text, PROVINCE_SUD)
    address = block.index("    address (Adresse postale), sensitivity medium:")
    assert block[address + 1:address + 3] == ["      may receive it: no service",
                                              "      opted out: demo-province [active]"]
    assert "  services opted out of enrichment (enrichment: false): demo-province" in \
        text.splitlines()


def test_csv_provided_by_names_the_directory_that_may_complete_the_province_address(demo):
    out = ncconnect("partenaires", "diffusion", "--config", demo.config, "--format", "csv").stdout
    rows = {(r["service_id"], r["attribute"]): r for r in csv.DictReader(io.StringIO(out))}
    assert rows["demo-province", "address"]["provided_by"] == PROVINCE_SUD
    assert rows["demo-province", "address"]["sources"] == ""
    assert {r["provided_by"] for key, r in rows.items() if key[1] != "address"} == {""}


def test_csv_marks_an_opted_out_service_and_names_no_directory(copy):
    opt_out(copy, "demo-province")
    out = ncconnect("partenaires", "diffusion", "--config", copy.config, "--format", "csv").stdout
    rows = report_rows(out)
    assert rows == expected_rows(copy)
    province = [r for r in rows if r["service_id"] == "demo-province"]
    assert {(r["enrichment"], r["provided_by"]) for r in province} == {("no", "")}
    assert {r["attribute"]: r["delivery"] for r in province if r["delivery"] != "yes"} == \
        {"address": "never"}


def test_html_directory_section_gives_legal_basis_and_receivers_per_attribute(demo):
    reg, dic = demo.registry(), demo.dictionary
    page = html_of(demo)
    d = reg.directories[PROVINCE_SUD]
    section = page.find("section", attrs={"data-directory": PROVINCE_SUD})
    assert d.organisation in section.find("h3").get_text()
    assert d.legal_reference in section.find("dl").get_text()
    assert "Mission d'intérêt public" in section.find("dl").get_text()
    table = section.find("table")
    rows = {tr["data-attribute"]: tr for tr in table.select("tbody tr")}
    assert list(rows) == [n for n in dic.attributes if n in d.attributes]
    receivers = {n: [li["data-service"] for li in tr.select("td.destinataires li")]
                 for n, tr in rows.items()}
    assert receivers == {"phone_number": [], "address": ["demo-province"], "province": []}


def test_html_lists_a_service_that_opts_out_in_the_refusal_column(copy):
    opt_out(copy, "demo-province")
    page = html_of(copy)
    row = page.find("table", attrs={"data-directory": PROVINCE_SUD}).find(
        "tr", attrs={"data-attribute": "address"})
    assert row.select("td.destinataires li") == []
    assert [li["data-service"] for li in row.select("td.refus li")] == ["demo-province"]
    assert "demo-province" in page.find(id="refus-enrichissement").get_text()


def test_directories_part_shows_no_connection_detail_of_a_directory(demo):
    d = demo.registry().directories[PROVINCE_SUD]
    secrets = [d.ldap.url, d.ldap.bind_dn, d.ldap.bind_password_env, d.ldap.base_dn,
               d.match.filter, *(a.from_ for a in d.attributes.values() if a.from_)]
    for fmt in ("text", "csv", "html"):
        out = ncconnect("partenaires", "diffusion", "--config", demo.config,
                        "--format", fmt).stdout
        assert not [s for s in secrets if s in out], fmt


# --- what can never be delivered, or not now -----------------------------------------------

NEVER_ADDRESS = (
    "service-province-saml.yaml: attributes.address: none of this service's sources "
    "(demo-oidc, demo-saml, compte-nc) provides it, and this service opted out of the "
    "directories that supply it (annuaire-province-sud) with enrichment: false: it is never "
    "released: remove enrichment: false, declare it in the attributes of one of these sources "
    "if it sends it, add a source that provides it to sources, or remove it from attributes")


def matrix_marks(text: str) -> dict[str, list[str]]:
    lines = text.split("\nMatrix (")[1].split("\n\n")[0].splitlines()[2:]
    return {line.split()[0]: line.split()[2:] for line in lines}


def test_an_attribute_nothing_provides_is_flagged_in_the_report_and_refused_by_validate(copy):
    opt_out(copy, "demo-province")
    result = ncconnect("partenaires", "diffusion", "--config", copy.config)
    assert result.exit_code == 0, result.output
    assert result.stderr.splitlines() == [
        f"warning: {copy.folder}/{NEVER_ADDRESS}",
        "warning: the proxy refuses this registry: 1 attribute(s) flagged 'never delivered' "
        "in the report"]
    text = result.stdout
    assert ("\n\nNever delivered (nothing the service accepts provides it; ncconnect "
            "partenaires validate refuses this registry):\n"
            "  demo-province: address (Adresse postale)\n") in text
    assert "!: allowed but nothing provides it" in text
    column = list(copy.dictionary.attributes).index("address")
    assert matrix_marks(text)["demo-province"][column] == "!"
    assert ("    demo-province [active, optional, NEVER DELIVERED: nothing it accepts provides "
            "it]: ") in text
    validate = ncconnect("partenaires", "validate", "--config", copy.config)
    assert validate.exit_code == 2
    assert validate.stderr == f"error: {copy.folder}/{NEVER_ADDRESS}\n"


def test_html_flags_an_attribute_nothing_provides(copy):
    opt_out(copy, "demo-province")
    page = html_of(copy)
    cell = page.find("tr", attrs={"data-service": "demo-province"}).find(
        "td", attrs={"data-attribute": "address"})
    assert cell["data-delivery"] == "never" and cell.get_text(strip=True) == "jamais fourni"
    alert = page.find(id="non-fournis")
    assert [(li["data-service"], li["data-attribute"], li["data-delivery"])
            for li in alert.select("li")] == [("demo-province", "address", "never")]
    assert "ncconnect partenaires validate" in alert.get_text()


def test_an_attribute_only_disabled_partners_provide_is_suspended_not_never(copy):
    # (``partenaires disable`` handles services and sources, not directories.)
    path = copy.registry().files[PROVINCE_SUD]
    path.write_text(path.read_text(encoding="utf-8") + "active: false\n", encoding="utf-8")
    assert ncconnect("partenaires", "validate", "--config", copy.config).exit_code == 0
    result = ncconnect("partenaires", "diffusion", "--config", copy.config)
    assert result.exit_code == 0 and result.stderr == ""
    assert ("\n\nNot delivered while their providers are disabled:\n"
            "  demo-province: address (Adresse postale)\n") in result.stdout
    column = list(copy.dictionary.attributes).index("address")
    assert matrix_marks(result.stdout)["demo-province"][column] == "~"
    assert "Never delivered" not in result.stdout
    out = ncconnect("partenaires", "diffusion", "--config", copy.config, "--format", "csv").stdout
    rows = {(r["service_id"], r["attribute"]): r for r in report_rows(out)}
    assert (rows["demo-province", "address"]["delivery"],
            rows["demo-province", "address"]["provided_by"]) == ("suspended", "")
    assert {r["delivery"] for key, r in rows.items() if key != ("demo-province", "address")} \
        == {"yes"}
    cell = html_of(copy).find("tr", attrs={"data-service": "demo-province"}).find(
        "td", attrs={"data-attribute": "address"})
    assert (cell["data-delivery"], cell.get_text(strip=True)) == ("suspended", "suspendu")


def test_demo_report_flags_nothing(demo):
    text = ncconnect("partenaires", "diffusion", "--config", demo.config).stdout
    assert "Never delivered" not in text and "Not delivered" not in text
    assert html_of(demo).find(id="non-fournis") is None


# --- generation date -----------------------------------------------------------------------

def test_every_format_states_when_it_was_generated(demo):
    from idp.partners.diffusion import build_report, render_csv, render_html, render_text

    when = dt.datetime(2026, 12, 3, 22, 50, 7, 123456, tzinfo=dt.UTC)
    report = build_report(demo.registry(), demo.dictionary, demo.folder, generated=when)
    assert render_text(report).splitlines()[1] == "generated 2026-12-03T22:50:07Z"
    rows = list(csv.DictReader(io.StringIO(render_csv(report))))
    assert rows and {r["generated_at"] for r in rows} == {"2026-12-03T22:50:07Z"}
    stamp = BeautifulSoup(render_html(report), "html.parser").find(id="date-generation")
    assert stamp.find("time")["datetime"] == "2026-12-03T22:50:07Z"
    assert stamp.get_text(" ", strip=True) == \
        "Rapport généré le 3 décembre 2026 à 22:50 UTC ."


def test_the_command_dates_the_report_now(demo):
    out = ncconnect("partenaires", "diffusion", "--config", demo.config).stdout
    stamp = out.splitlines()[1].removeprefix("generated ")
    assert ISO.match(stamp)
    generated = dt.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert abs((dt.datetime.now(dt.UTC) - generated).total_seconds()) < 120
    iso = html_of(demo).find(id="date-generation").find("time")["datetime"]
    assert ISO.match(iso)
