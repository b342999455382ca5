"""The DPO's diffusion report in the portal: exactly the registry, and the command's CSV."""

from __future__ import annotations

import csv
import datetime as dt
import io

from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.dictionary import load_dictionary
from idp.partners import load_registry
from idp.settings import load_settings
from idp.testbed.browser import Browser
from plugins.frontends.admin import enrolment

from .steps import ncconnect, on_home, open_portal, refusal_of

REPORT = "/admin/diffusion"


def _dpo(portal, role: str = "dpo") -> Browser:
    browser = Browser()
    invitation = enrolment.invite(portal.store, role, 600)
    assert on_home(open_portal(browser, invitation.link(portal.url), CITIZENS[1]))
    return browser


def _registry(portal):
    settings = load_settings(portal.fed.config)
    dictionary = load_dictionary(settings.path(settings.dictionary))
    return load_registry(settings.path(settings.partners_dir), dictionary,
                         settings.allow_loopback_http), dictionary, settings


def _cells(page) -> dict[tuple[str, str], str]:
    soup = BeautifulSoup(page.text, "html.parser")
    return {(td.find_parent("tr")["data-service"], td["data-attribute"]): td["data-mark"]
            for td in soup.select("table#matrice tbody td[data-mark]")}


def test_the_report_lists_exactly_what_the_registry_allows(portal):
    page = _dpo(portal).get(f"{portal.url}{REPORT}")
    assert page.status_code == 200
    registry, dictionary, _ = _registry(portal)
    expected = {(sid, name): ("optional" if s.attributes[name].optional else "yes")
                if name in s.attributes else "no"
                for sid, s in registry.services.items() for name in dictionary.attributes}
    assert _cells(page) == expected
    assert any(mark == "yes" for mark in expected.values())


def test_the_report_states_its_date_and_no_server_path(portal):
    page = _dpo(portal).get(f"{portal.url}{REPORT}")
    soup = BeautifulSoup(page.text, "html.parser")
    when = dt.datetime.fromisoformat(soup.select_one("#date-generation time")["datetime"])
    assert abs((dt.datetime.now(dt.UTC) - when).total_seconds()) < 60
    _, _, settings = _registry(portal)
    for path in (str(portal.fed.folder), str(settings.path(settings.partners_dir)), "/tmp/"):
        assert path not in page.text


def test_the_matrix_scrolls_in_its_own_labelled_region(portal):
    page = _dpo(portal).get(f"{portal.url}{REPORT}")
    region = BeautifulSoup(page.text, "html.parser").select_one("div.matrice-region")
    assert region["role"] == "region" and region["tabindex"] == "0"
    assert region["aria-labelledby"] == "titre-matrice"
    assert region.select_one("table#matrice thead th[scope=col]") is not None


def test_the_filters_keep_an_attribute_a_sensitivity_or_a_legal_basis(portal):
    browser = _dpo(portal)
    registry, dictionary, _ = _registry(portal)
    cells = _cells(browser.get(f"{portal.url}{REPORT}?attribut=birthdate"))
    assert {a for _, a in cells} == {"birthdate"}
    assert {s for s, _ in cells} == {sid for sid, s in registry.services.items()
                                     if "birthdate" in s.attributes}

    medium = {n for n, a in dictionary.attributes.items() if a.sensitivity == "medium"}
    page = browser.get(f"{portal.url}{REPORT}?sensibilite=medium")
    columns = {th["data-attribute"] for th in BeautifulSoup(page.text, "html.parser")
               .select("table#matrice thead th[data-attribute]")}
    assert medium and columns == medium
    assert {s for s, _ in _cells(page)} == {sid for sid, s in registry.services.items()
                                           if medium & set(s.attributes)}
    # No service receives a high-sensitivity attribute here: the page says so.
    page = browser.get(f"{portal.url}{REPORT}?sensibilite=high")
    assert _cells(page) == {} and "matrice-vide" in page.text

    cells = _cells(browser.get(f"{portal.url}{REPORT}?base_legale=consent"))
    assert cells == {}  # the test registry holds public-task services only
    page = browser.get(f"{portal.url}{REPORT}?base_legale=public_task")
    assert {s for s, _ in _cells(page)} == set(registry.services)
    selected = BeautifulSoup(page.text, "html.parser").select_one(
        "#filtre-base option[selected]")
    assert selected["value"] == "public_task"


def test_the_csv_download_equals_the_command_output(portal):
    download = _dpo(portal).get(f"{portal.url}{REPORT}.csv")
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/csv")
    assert download.headers["Content-Disposition"].startswith("attachment; filename=")
    done = ncconnect("partenaires", "diffusion", "--format", "csv",
                     "--config", str(portal.fed.config))
    assert done.returncode == 0, done.stderr
    web, cli = download.content.decode("utf-8"), done.stdout
    # Each states when it was generated (one value per report, to the second): the rest is
    # byte for byte the same.
    web_at = {row["generated_at"] for row in csv.DictReader(io.StringIO(web))}
    cli_at = {row["generated_at"] for row in csv.DictReader(io.StringIO(cli))}
    assert len(web_at) == len(cli_at) == 1
    assert web.encode() == cli.replace(cli_at.pop(), web_at.pop()).encode()
    assert len(web.splitlines()) > 1


def test_an_administrator_reads_the_report_too(portal):
    page = _dpo(portal, "admin").get(f"{portal.url}{REPORT}")
    assert page.status_code == 200 and _cells(page)


def test_without_a_session_the_report_asks_to_sign_in_and_comes_back_to_it(portal):
    browser = Browser()
    invitation = enrolment.invite(portal.store, "dpo", 600)
    assert on_home(open_portal(browser, invitation.link(portal.url), CITIZENS[1]))
    other = Browser()  # same citizen, another browser: a new sign-in lands on the report
    page = open_portal(other, f"{portal.url}{REPORT}", CITIZENS[1])
    assert page.url.endswith(REPORT) and _cells(page)
    nobody = open_portal(Browser(), f"{portal.url}{REPORT}.csv", CITIZENS[2])
    assert nobody.status_code == 403 and refusal_of(nobody) == "sans_role"
