"""What a directory adds to a login: a unique match only, with its provenance on the screen."""

from __future__ import annotations

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import decide

from .conftest import PROVINCE, screen_lines, to_screen

MARIE, JEAN, MALIA, PAUL = CITIZENS[0], CITIZENS[1], CITIZENS[2], CITIZENS[3]
ADDED = {"address", "phone_number", "province"}


def test_unique_match_adds_attributes_with_their_provenance_on_the_screen(fed):
    browser = Browser()
    lines = screen_lines(to_screen(browser, fed, "rp-province", MARIE))
    assert ADDED <= set(lines)
    for name in ADDED:
        assert lines[name].endswith(f"(fourni par {PROVINCE})"), lines[name]
    assert "fourni par" not in lines["given_name"]
    assert "+687251234" in lines["phone_number"]
    assert lines["province"].startswith("Province de résidence : Province Sud")


def test_unique_match_releases_the_added_values_to_the_service(fed):
    browser = Browser()
    received = attributes_of(decide(browser, to_screen(browser, fed, "rp-province", MARIE)))
    assert received["phone_number"] == "+687251234"
    assert received["province"] == "Province Sud"
    assert "Sebastopol" in received["address"]


def test_english_screen_says_provided_by(fed):
    browser = Browser(accept_language="en")
    lines = screen_lines(to_screen(browser, fed, "rp-province", MARIE))
    assert lines["province"].endswith(f"(provided by {PROVINCE})")


def test_no_match_adds_nothing(fed):
    browser = Browser()
    screen = to_screen(browser, fed, "rp-province", PAUL)
    assert not ADDED & set(screen_lines(screen))
    assert not ADDED & set(attributes_of(decide(browser, screen)))


def test_ambiguous_match_adds_nothing(fed):
    browser = Browser()
    screen = to_screen(browser, fed, "rp-province", JEAN)
    assert not ADDED & set(screen_lines(screen))
    assert not ADDED & set(attributes_of(decide(browser, screen)))


def test_directory_value_that_does_not_fit_the_format_is_dropped_the_others_added(fed):
    browser = Browser()
    lines = screen_lines(to_screen(browser, fed, "rp-province", MALIA))
    assert {"address", "province"} <= set(lines)
    assert "phone_number" not in lines


def test_added_attributes_are_still_cut_by_minimisation(fed):
    browser = Browser()
    screen = to_screen(browser, fed, "rp-sans-tel", MARIE)
    assert "phone_number" not in screen_lines(screen)
    received = attributes_of(decide(browser, screen))
    assert received["province"] == "Province Sud"
    assert "phone_number" not in received


def test_service_that_opted_out_gets_nothing_from_the_directory(fed):
    browser = Browser()
    screen = to_screen(browser, fed, "rp-refus", MARIE)
    assert not ADDED & set(screen_lines(screen))
    assert not ADDED & set(attributes_of(decide(browser, screen)))
