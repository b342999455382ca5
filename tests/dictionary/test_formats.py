"""Each format keeps canonical values, canonicalises the usual variants, refuses the rest."""

from __future__ import annotations

import datetime as dt

import pytest

from idp.dictionary.formats import FORMATS, MAX_VALUE_LENGTH, fold

CASES = [
    # (format, sent by a source, what partners receive; None = dropped)
    ("date", "1987-05-14", "1987-05-14"),
    ("date", "1987-05-14T00:00:00Z", "1987-05-14"),
    ("date", "14/05/1987", None),
    ("date", "1987-02-30", None),
    ("date", "1850-01-01", None),
    ("gender", "Female", "female"),
    ("gender", "F", None),
    ("cog_commune", "98818", "98818"),
    ("cog_commune", "2a004", "2A004"),
    ("cog_commune", "99100", None),
    ("cog_commune", "9881", None),
    ("cog_country", "99100", "99100"),
    ("cog_country", "98818", None),
    ("phone_e164", "+687 78 12 34", "+687781234"),
    ("phone_e164", "78 12 34", None),
    ("email", "marie@example.nc", "marie@example.nc"),
    ("email", "marie@", None),
    ("name", "  Marie-Claire   ", "Marie-Claire"),
    ("name", "Wamytan-Kaloï", "Wamytan-Kaloï"),
    ("name", "N'Dia", "N'Dia"),
    ("name", "R2-D2", None),
    ("name", "<script>", None),
    ("ridet", "1 234 567.001", "1234567.001"),
    ("ridet", "1234567001", "1234567.001"),
    ("ridet", "123456", None),
    ("cafat_number", "123 4567", "1234567"),
    ("cafat_number", "12AB", None),
    ("province", "Province Sud", "Province Sud"),
    ("province", "îles loyauté", "Province des îles Loyauté"),
    ("province", "Province des Îles Loyauté", "Province des îles Loyauté"),
    ("province", "Tahiti", None),
    ("text", "line\nbreak", None),
    ("text", "x" * (MAX_VALUE_LENGTH + 1), None),
]


@pytest.mark.parametrize(("fmt", "sent", "expected"), CASES,
                         ids=[f"{c[0]}:{c[1][:20]!r}" for c in CASES])
def test_format_canonicalises_or_refuses(fmt, sent, expected):
    assert FORMATS[fmt](sent) == expected


def test_a_birth_date_in_the_future_is_refused():
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    assert FORMATS["date"](tomorrow.isoformat()) is None


def test_fold_ignores_case_accents_hyphens_and_spacing():
    assert fold("  Marie-Claire  Éloïse ") == fold("MARIE CLAIRE ELOISE") == "MARIE CLAIRE ELOISE"


def test_every_dictionary_format_has_a_normaliser():
    from pathlib import Path

    from idp.dictionary import load_dictionary

    dictionary = load_dictionary(Path(__file__).resolve().parents[2] / "attributs" /
                                 "dictionnaire.yaml")
    assert {a.format for a in dictionary.attributes.values()} <= set(FORMATS)
