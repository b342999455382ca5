"""What the usager reads about each attribute: a label and a plain description in French and
in English, for every attribute of the dictionary, written for New Caledonians."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from idp.dictionary import load_dictionary
from idp.schema_errors import ConfigError

PATH = Path(__file__).parents[2] / "attributs" / "dictionnaire.yaml"
DIC = load_dictionary(PATH)


@pytest.mark.parametrize("name", list(DIC.attributes))
def test_every_attribute_has_french_and_english_words(name):
    a = DIC.attributes[name]
    assert a.label_fr and a.label_en and a.label_fr != a.label_en
    assert len(a.description_fr) >= 10 and len(a.description_en) >= 10
    assert a.description_fr != a.description_en
    words = DIC.screen_words()[name]
    assert words["description_en"] == a.description_en and words["format"] == a.format


def test_descriptions_are_inclusive_and_speak_of_new_caledonia():
    text = " ".join(a.description_fr for a in DIC.attributes.values())
    # "né" alone excludes half of the readers: "né(e)".
    assert not re.search(r"\bnée?\b(?!\(e\))", text), "write né(e)"
    assert "si vous êtes né en France" not in text
    assert "Nouvelle-Calédonie" in DIC.attributes["birthplace"].description_fr
    assert "Nouvelle-Calédonie" in DIC.attributes["birthcountry"].description_fr
    assert "+687" in DIC.attributes["phone_number"].description_fr


def test_a_dictionary_without_english_description_is_refused(tmp_path):
    data = yaml.safe_load(PATH.read_text(encoding="utf-8"))
    del data["attributes"]["email"]["description_en"]
    broken = tmp_path / "dictionnaire.yaml"
    broken.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ConfigError) as refused:
        load_dictionary(broken)
    assert str(refused.value) == f"{broken}: attributes.email.description_en: is required: add it"
