"""`ncconnect demo` starts the demo federation and a citizen can log in through it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from idp.demo.citizens import CITIZENS, Citizen, find_citizen
from idp.demo.directory import PROVINCE_RECORDS, VERIFIED
from idp.demo.run import RP, SP, banner, url
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import choose, decide, login, on_consent_screen, start
from idp.testbed.servers import wait_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo-data")
    proc = subprocess.Popen([sys.executable, "-m", "idp.cli", "demo", "--data-dir", str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        wait_for("http://127.0.0.1:8440/healthz", timeout=90, proc=proc)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_demo_oidc_service_login_through_the_oidc_source(demo):
    citizen = CITIZENS[1]
    started = time.perf_counter()
    page = login(Browser(), url(RP), citizen, source="demo-oidc")
    elapsed = time.perf_counter() - started
    attrs = attributes_of(page)
    assert attrs["family_name"] == citizen.claims["family_name"]
    assert set(attrs) == {"sub", "given_name", "family_name", "birthdate", "email"}
    print(f"demo OIDC login took {elapsed * 1000:.0f} ms")


def test_demo_saml_service_login_through_the_saml_source(demo):
    citizen = CITIZENS[2]
    attrs = attributes_of(login(Browser(), url(SP), citizen, source="demo-saml"))
    assert attrs["urn:oid:2.5.4.42"] == citizen.claims["given_name"]



def _account_form(browser: Browser, service_url: str, citizen: Citizen):
    """Through the demo's LDAP account source: the proxy's own form, not a source's."""
    page = choose(browser, start(browser, service_url), "compte-nc")
    return browser.submit(page, {"identifiant": citizen.username,
                                 "mot_de_passe": citizen.password},
                          form_selector="form#form-connexion")


def test_demo_account_source_signs_in_at_the_oidc_service(demo):
    citizen = find_citizen(CITIZENS, "teva.teriitehau")  # not verified: low, the Mairie's floor
    browser = Browser()
    page = _account_form(browser, url(RP), citizen)
    attrs = attributes_of(decide(browser, page) if on_consent_screen(page) else page)
    assert attrs["family_name"] == citizen.claims["family_name"]
    assert attrs["birthdate"] == citizen.claims["birthdate"]


def test_demo_province_directory_completes_the_address(demo):
    citizen = find_citizen(CITIZENS, "jean.vautrin")
    browser = Browser()
    consent = _account_form(browser, url(SP), citizen)
    assert on_consent_screen(consent), consent.url
    assert "Province Sud" in consent.text  # the address is "fourni par la Province Sud"
    attrs = attributes_of(decide(browser, consent))
    assert attrs["urn:oid:2.5.4.16"] == PROVINCE_RECORDS[citizen.username].address


def test_banner_says_which_citizen_shows_what():
    lines = {line.split()[0]: line for line in banner().splitlines()
             if "identité" in line and line.startswith("    ")}
    assert set(lines) == {c.username for c in CITIZENS}
    for username, line in lines.items():
        assert ("vérifiée au guichet (niveau substantiel)" in line) == (username in VERIFIED)
        assert line.endswith("+ adresse Province Sud") == (username in PROVINCE_RECORDS)
    assert "ldap://127.0.0.1:8445" in banner()
