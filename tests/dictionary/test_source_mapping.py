"""A source's mapping turns its own names, codes and date formats into the dictionary's."""

from __future__ import annotations

import logging
from pathlib import Path

from idp.dictionary import load_dictionary
from idp.dictionary.normalise import MAX_VALUES, SourceAttributes, readings_for

DICTIONARY = load_dictionary(Path(__file__).resolve().parents[2] / "attributs" /
                             "dictionnaire.yaml")


def source(protocol: str, declared: dict) -> SourceAttributes:
    return SourceAttributes("src-test", readings_for(DICTIONARY, protocol, declared))


def test_an_oidc_source_is_read_by_claim_name_by_default():
    src = source("oidc", {"given_name": {}, "email": {}})
    assert src.to_internal({"given_name": "Marie", "email": "m@example.nc", "sub": "x"}) == {
        "given_name": ["Marie"], "email": ["m@example.nc"]}


def test_a_saml_source_is_read_by_urn_oid_eidas_uri_or_friendly_name():
    src = source("saml2", {"family_name": {}, "given_name": {}, "birthdate": {}})
    sent = {"urn:oid:2.5.4.4": ["Wamytan"],
            "http://eidas.europa.eu/attributes/naturalperson/CurrentGivenName": ["Marie"],
            "dateOfBirth": ["1987-05-14"]}
    assert src.to_internal(sent) == {"family_name": ["Wamytan"], "given_name": ["Marie"],
                                     "birthdate": ["1987-05-14"]}


def test_a_source_name_date_format_and_codes_are_translated():
    src = source("oidc", {"birthdate": {"from": "date_naissance", "date_format": "%d/%m/%Y"},
                          "gender": {"from": "sexe", "values": {"1": "male", "2": "female"}}})
    assert src.to_internal({"date_naissance": "14/05/1987", "sexe": "2"}) == {
        "birthdate": ["1987-05-14"], "gender": ["female"]}


def test_attributes_the_source_was_not_declared_to_provide_are_ignored():
    src = source("oidc", {"given_name": {}})
    assert src.to_internal({"given_name": "Marie", "email": "m@example.nc"}) == {
        "given_name": ["Marie"]}


def test_a_structured_address_claim_gives_its_formatted_member():
    src = source("oidc", {"address": {}})
    sent = {"address": {"formatted": "12 rue de Sébastopol, 98800 Nouméa", "country": "NC"}}
    assert src.to_internal(sent) == {"address": ["12 rue de Sébastopol, 98800 Nouméa"]}


def test_an_invalid_value_is_dropped_and_logged_by_name_without_the_value(caplog):
    src = source("oidc", {"birthdate": {}, "given_name": {}})
    with caplog.at_level(logging.WARNING, logger="idp.dictionary.normalise"):
        out = src.to_internal({"birthdate": "31/02/1987", "given_name": "Marie"})
    assert out == {"given_name": ["Marie"]}
    record = caplog.records[-1]
    assert record.attribute == "birthdate" and record.source == "src-test"
    assert "31/02/1987" not in caplog.text and "1987" not in str(record.__dict__)


def test_a_flood_of_values_is_dropped_whole():
    src = source("oidc", {"email": {}})
    sent = {"email": [f"m{i}@example.nc" for i in range(MAX_VALUES + 1)]}
    assert src.to_internal(sent) == {}


def test_non_text_values_are_never_taken_for_attributes():
    src = source("oidc", {"given_name": {}, "email": {}})
    assert src.to_internal({"given_name": {"nested": "x"}, "email": True}) == {}


def test_duplicate_values_are_kept_once_in_canonical_form():
    src = source("oidc", {"phone_number": {}})
    assert src.to_internal({"phone_number": ["+687 78 12 34", "+687781234"]}) == {
        "phone_number": ["+687781234"]}
