"""Where each attribute came from, after the screen: the citizen's history and the audit log
name the directory (names only, never a value)."""

from __future__ import annotations

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import decide
from tests.account.space import history_rows, history_text, open_space

from .conftest import PROVINCE, proxy_log, to_screen

MARIE = CITIZENS[0]


def test_history_in_mon_compte_names_the_provenance_of_each_added_attribute(fed):
    browser = Browser()
    attributes_of(decide(browser, to_screen(browser, fed, "rp-province", MARIE)))
    page = open_space(browser, fed.proxy_url, MARIE)
    row = next(r for r in history_rows(page) if r.service_id == "rp-province")
    assert f"Province de résidence (fourni par {PROVINCE})" in row.data
    assert f"Numéro de téléphone (fourni par {PROVINCE})" in row.data
    assert "Prénoms" in row.data  # from the source: no provenance note
    text = history_text(page)
    assert "Sebastopol" not in text and "251234" not in text


def test_audit_stream_names_the_directory_and_the_attribute_names_only(fed):
    browser = Browser()
    attributes_of(decide(browser, to_screen(browser, fed, "rp-province", MARIE)))
    added = [r for r in fed.audit_lines() if r["event"] == "attributes_added"
             and r.get("directory") == "province-sud"]
    assert added and added[-1]["added"] == ["address", "phone_number", "province"]
    assert added[-1]["service"] == "rp-province"
    audit = "\n".join(f.read_text(encoding="utf-8")
                      for f in (fed.folder / "data" / "audit").glob("*.jsonl"))
    log = (fed.folder / "proxy.log").read_text(encoding="utf-8")
    for value in ("Sebastopol", "251234", "Wamytan", "19870514"):
        assert value not in log and value not in audit


def test_no_match_and_ambiguous_are_logged_without_personal_data(fed):
    for citizen in (CITIZENS[1], CITIZENS[3]):  # two entries; none
        browser = Browser()
        attributes_of(decide(browser, to_screen(browser, fed, "rp-province", citizen)))
    outcomes = {r["event"] for r in proxy_log(fed) if r.get("directory") == "province-sud"}
    assert {"no match", "ambiguous"} <= outcomes
    log = (fed.folder / "proxy.log").read_text(encoding="utf-8")
    for value in ("Vautrin", "Tran", "19620903", "98803"):
        assert value not in log
