"""Values from an identity source are data, never filter syntax: each one is escaped before it
reaches the Province directory, so a value shaped like an LDAP filter matches nothing."""

from __future__ import annotations

import pytest

from idp.dictionary import load_dictionary
from idp.dictionary.normalise import readings_for
from idp.partners.match_filter import fill
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.federation import DICTIONARY
from idp.testbed.login import decide
from idp.testbed.slapd import PROVINCE_SUFFIX
from plugins.micro_services.enrichment import AdministrationDirectory

from .conftest import PIVOT_FILTER, TRAP, directory_file, screen_lines, to_screen

MARIE = {"family_name": ["Wamytan"], "given_name": ["Marie-Claire"],
         "birthdate": ["1987-05-14"], "birthplace": ["98814"]}


@pytest.fixture(scope="module")
def province(slapd) -> AdministrationDirectory:
    """The directory as the proxy's enrichment micro-service builds it."""
    partner = directory_file(slapd.url, f"ou=usagers,{PROVINCE_SUFFIX}",
                             slapd.admin_dn(PROVINCE_SUFFIX))
    return AdministrationDirectory.from_config({
        "id": "province-sud", "organisation": partner["organisation"], "match": PIVOT_FILTER,
        "when_unavailable": "continue",
        "ldap": {"name": "province-sud", "url": slapd.url, "base_dn": partner["ldap"]["base_dn"],
                 "bind_dn": slapd.admin_dn(PROVINCE_SUFFIX),
                 "bind_password": slapd.admin_password},
        "attributes": readings_for(load_dictionary(DICTIONARY), "ldap", partner["attributes"])})


def test_the_citizens_own_values_find_their_entry(province):
    assert province.lookup(MARIE) == {"address": ["12 rue de Sebastopol$98800 Noumea"],
                                      "phone_number": ["+687251234"],
                                      "province": ["Province Sud"]}


@pytest.mark.parametrize("given_name", ["*)(uid=*", "*", "Marie*", ")(|(givenName=*))(",
                                        "Marie-Claire)(ncProvince=Sud"])
def test_injection_looking_given_name_matches_nothing(province, given_name):
    assert province.lookup({**MARIE, "given_name": [given_name]}) is None


def test_every_pivot_value_a_wildcard_matches_nothing(province):
    assert province.lookup({"family_name": ["*"], "given_name": ["*"], "birthdate": ["*"],
                            "birthplace": ["*"]}) is None


def test_filter_values_are_escaped():
    assert fill("(givenName={given_name})", {"given_name": ["*)(uid=*"]}) \
        == r"(givenName=\2a\29\28uid=\2a)"


@pytest.mark.parametrize("attributes", [
    {"given_name": ["Marie"]},                                  # missing
    {**MARIE, "birthdate": ["14/05/1987"]},                     # not a date
    {**MARIE, "family_name": ["Wamytan\x00"]},                  # NUL
    {**MARIE, "family_name": ["W" * 10_000]},                   # far too long
])
def test_a_missing_or_unusable_value_means_no_lookup(attributes):
    assert fill(PIVOT_FILTER, attributes) is None


def test_source_names_shaped_like_filters_add_nothing_and_the_login_completes(fed):
    browser = Browser()
    screen = to_screen(browser, fed, "rp-piege", TRAP)
    assert not {"address", "phone_number", "province"} & set(screen_lines(screen))
    received = attributes_of(decide(browser, screen))
    assert not {"address", "phone_number", "province"} & set(received)
