"""Partner files may give the texts a usager reads in French and English: ``purpose: {fr: …,
en: …}`` or a plain French string as before; fr required, en optional, clear messages."""

from __future__ import annotations

import copy
import pickle
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from idp.partners.schema import Directory, Service, Source, Text
from idp.schema_errors import explain

DEMO = Path(__file__).parents[2] / "partenaires" / "demo"


def _service() -> dict:
    return yaml.safe_load((DEMO / "service-province-saml.yaml").read_text(encoding="utf-8"))


def _problems(model, data) -> str:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return explain("p.yaml", caught.value)


def test_a_plain_string_is_the_french_text_as_before():
    s = Service.model_validate({**_service(), "purpose": "Étudier votre demande d'aide."})
    assert s.purpose == "Étudier votre demande d'aide."
    assert isinstance(s.purpose, str) and s.purpose.en is None
    assert s.purpose.in_lang("en") == ("Étudier votre demande d'aide.", "fr")
    assert f"{s.purpose}" == "Étudier votre demande d'aide."


def test_a_bilingual_text_gives_each_language():
    s = Service.model_validate({**_service(), "purpose": {
        "fr": "Étudier votre demande d'aide.", "en": "To examine your application."}})
    assert s.purpose == "Étudier votre demande d'aide."  # reports and logs stay French
    assert s.purpose.in_lang("fr") == ("Étudier votre demande d'aide.", "fr")
    assert s.purpose.in_lang("en") == ("To examine your application.", "en")
    assert s.purpose.translations() == {"fr": "Étudier votre demande d'aide.",
                                        "en": "To examine your application."}


@pytest.mark.parametrize(("value", "message"), [
    ({"en": "To examine your application."},
     "p.yaml: purpose: fr is required: the French text every usager can read (en is optional)"),
    ({"fr": "Étudier votre demande.", "de": "Ihren Antrag prüfen."},
     "p.yaml: purpose: 'de' is not a language NC Connect shows: give fr (required) and en "
     "(optional)"),
    ({"fr": "Étudier votre demande.", "en": ""},
     "p.yaml: purpose: en is empty: write the English text, or remove en"),
    ({"fr": "Étudier votre demande.", "en": "Short"},
     "p.yaml: purpose: en must be 10 to 500 characters (it has 5)"),
    ({"fr": "Court"}, "p.yaml: purpose: fr must be 10 to 500 characters (it has 5)"),
    ({"fr": "Étudier votre demande.", "en": 12},
     "p.yaml: purpose: en must be a text, not int"),
    ("Court", "p.yaml: purpose: must be 10 to 500 characters (it has 5)"),
    (["Étudier votre demande."],
     "p.yaml: purpose: must be a text in French, or {fr: <French text>, en: <English text>} "
     "to give its English version too"),
])
def test_bilingual_texts_are_checked_with_clear_messages(value, message):
    assert _problems(Service, {**_service(), "purpose": value}) == message


def test_justifications_names_and_organisations_are_bilingual_too():
    data = _service()
    data["name"] = {"fr": "Province démo", "en": "Demo province"}
    data["organisation"] = "Province démo"
    data["attributes"]["birthdate"] = {"justification": {"fr": "Vérifier l'âge demandé.",
                                                         "en": "To check the age."}}
    s = Service.model_validate(data)
    assert s.name.in_lang("en") == ("Demo province", "en")
    assert s.organisation.in_lang("en") == ("Province démo", "fr")
    assert s.attributes["birthdate"].justification.in_lang("en") == ("To check the age.", "en")
    data["attributes"]["birthdate"] = {"justification": {"en": "To check the age."}}
    assert _problems(Service, data) == (
        "p.yaml: attributes.birthdate.justification: fr is required: the French text every "
        "usager can read (en is optional)")


def test_sources_and_directories_names_are_bilingual():
    source = yaml.safe_load((DEMO / "source-compte-demo-oidc.yaml").read_text(encoding="utf-8"))
    s = Source.model_validate(source)
    assert s.display_name.in_lang("en") == ("Demo digital identity (OIDC)", "en")
    assert s.description.in_lang("fr")[0].startswith("Compte de démonstration")
    s = Source.model_validate({**source, "display_name": "Identité démo"})
    assert s.display_name.in_lang("en") == ("Identité démo", "fr")
    directory = yaml.safe_load((DEMO / "annuaire-province-sud.yaml").read_text(encoding="utf-8"))
    d = Directory.model_validate(directory)
    assert d.organisation == "la Province Sud"
    assert d.organisation.in_lang("en") == ("the South Province", "en")


def test_a_source_without_description_has_an_empty_one():
    source = yaml.safe_load((DEMO / "source-compte-demo-oidc.yaml").read_text(encoding="utf-8"))
    del source["description"]
    s = Source.model_validate(source)
    assert s.description == "" and not s.description


def test_texts_survive_copies_and_are_written_back_as_given():
    text = Text("Étudier votre demande.", "To examine your application.")
    for kept in (copy.deepcopy(text), pickle.loads(pickle.dumps(text))):
        assert kept == text and kept.en == text.en
    assert yaml.safe_load(yaml.safe_dump({"purpose": text}, allow_unicode=True)) == {
        "purpose": {"fr": "Étudier votre demande.", "en": "To examine your application."}}
    assert yaml.safe_dump({"purpose": Text("Étudier.")}, allow_unicode=True) == (
        "purpose: Étudier.\n")


def test_the_demo_partner_files_give_english_texts():
    s = Service.model_validate(_service())
    assert s.purpose.en and s.name.en and s.organisation.en
    # One justification stays French on purpose: English pages show it marked lang="fr".
    assert s.attributes["birthplace"].justification.en is None
    assert s.attributes["gender"].justification.en
