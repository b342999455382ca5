"""The identity pivot: one person whichever source they use, and only that person."""

from __future__ import annotations

from idp.dictionary.pivot import pivot_key, subject_basis

MARIE = {"family_name": ["Wamytan"], "given_name": ["Marie-Claire"],
         "birthdate": ["1987-05-14"], "gender": ["female"], "birthplace": ["98814"],
         "birthcountry": ["99100"], "email": ["marie@example.nc"]}


def test_a_complete_pivot_gives_a_key_independent_of_other_attributes():
    other_contact = {**MARIE, "email": ["autre@example.nc"]}
    assert pivot_key(MARIE) is not None
    assert pivot_key(MARIE) == pivot_key(other_contact)


def test_case_accents_hyphens_and_spacing_do_not_change_the_pivot():
    variant = {**MARIE, "family_name": ["WAMYTAN "], "given_name": ["marie  claire"]}
    accented = {**MARIE, "given_name": ["Marie-Cláire"]}
    assert pivot_key(variant) == pivot_key(MARIE) == pivot_key(accented)


def test_another_birth_date_is_another_person():
    assert pivot_key({**MARIE, "birthdate": ["1987-05-15"]}) != pivot_key(MARIE)


def test_another_given_name_is_another_person():
    assert pivot_key({**MARIE, "given_name": ["Marie"]}) != pivot_key(MARIE)


def test_a_pivot_missing_one_element_is_incomplete():
    for name in ("family_name", "given_name", "birthdate", "gender", "birthcountry"):
        partial = {k: v for k, v in MARIE.items() if k != name}
        assert pivot_key(partial) is None, name


def test_birth_place_is_required_for_people_born_in_france_only():
    born_abroad = {**MARIE, "birthcountry": ["99135"]}
    del born_abroad["birthplace"]
    assert pivot_key(born_abroad) is not None
    assert pivot_key({k: v for k, v in MARIE.items() if k != "birthplace"}) is None


def test_an_ambiguous_multi_valued_pivot_element_is_incomplete():
    assert pivot_key({**MARIE, "birthdate": ["1987-05-14", "1987-05-15"]}) is None


def test_without_a_complete_pivot_the_basis_is_the_source_subject():
    partial = {"email": ["marie@example.nc"]}
    assert subject_basis(partial, "src-a:123") != subject_basis(partial, "src-b:123")
    assert subject_basis(MARIE, "src-a:123") == subject_basis(MARIE, "src-b:999")
