"""A directory that is down never crashes a login: it goes on without the directory's data
(``continue``) or stops on our page (``stop``), and a restarted directory is used again
without restarting the proxy."""

from __future__ import annotations

import time

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.login import decide

from .conftest import CAFAT_SCOPE, RIDET_SCOPE, screen_lines, to_screen

MARIE = CITIZENS[0]


@pytest.fixture
def stopped(slapd):
    """The Province directory stopped for one test, started again after it."""
    slapd.stop()
    yield slapd
    if slapd.proc is None or slapd.proc.poll() is not None:
        slapd.start()


def test_directory_down_with_continue_completes_the_login_without_its_data(fed, stopped):
    browser = Browser()
    started = time.monotonic()
    screen = to_screen(browser, fed, "rp-province", MARIE)
    assert time.monotonic() - started < 10
    assert not {"address", "phone_number", "province"} & set(screen_lines(screen))
    received = attributes_of(decide(browser, screen))
    assert received["given_name"] == MARIE.claims["given_name"]
    assert "province" not in received
    assert any(r["event"] == "directory_unavailable" and r.get("outcome") == "continue"
               and r.get("directory") == "province-sud" for r in fed.audit_lines())


def test_restarted_directory_is_used_again_without_restarting_the_proxy(fed, stopped):
    before = Browser()
    attributes_of(decide(before, to_screen(before, fed, "rp-province", MARIE)))
    stopped.start()
    for _ in range(2):  # each of the two workers kept a connection to the stopped slapd
        browser = Browser()
        received = attributes_of(decide(browser, to_screen(browser, fed, "rp-province", MARIE)))
        assert received["province"] == "Province Sud"


def test_directory_down_with_stop_ends_the_login_on_our_page_releasing_nothing(fed):
    browser = Browser()
    page = to_screen(browser, fed, "rp-cafat", MARIE, scope=CAFAT_SCOPE)
    assert page.status_code == 503
    assert error_code_of(page) == "annuaire_indisponible"
    assert "momentanément indisponibles" in page.text
    assert not any(r.url.startswith(fed.url("rp-cafat")) and "/callback" in r.url
                   for r in browser.history)


def test_directory_that_never_answers_costs_at_most_its_timeout(fed):
    browser = Browser()
    started = time.monotonic()
    screen = to_screen(browser, fed, "rp-ridet", MARIE, scope=RIDET_SCOPE)
    elapsed = time.monotonic() - started
    assert elapsed < 6, f"{elapsed:.1f} s for a search timeout of 2 s"
    assert "ridet" not in screen_lines(screen)
    assert attributes_of(decide(browser, screen))["given_name"] == MARIE.claims["given_name"]


def test_a_directory_is_not_asked_when_the_service_asked_none_of_its_attributes(fed):
    browser = Browser()  # rp-cafat without the cafat scope: the closed directory is not needed
    received = attributes_of(decide(browser, to_screen(browser, fed, "rp-cafat", MARIE,
                                                       scope="openid profile")))
    assert received["given_name"] == MARIE.claims["given_name"]
