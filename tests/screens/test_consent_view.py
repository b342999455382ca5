"""The consent screen's words, rendered: codes shown as names, the service's logo, the account
used, and in English every partner text in English where the file gives one, else in French
with its element marked lang="fr"."""

from __future__ import annotations

from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from idp.dictionary import load_dictionary
from idp.pages import render
from plugins.micro_services.consent_view import (
    Shown,
    display_value,
    localised,
    screen_view,
    source_view,
)

DICTIONARY = load_dictionary(
    Path(__file__).parents[2] / "attributs" / "dictionnaire.yaml").screen_words()

SERVICE = {
    "service_id": "demo-province", "legal_basis": "consent", "remember_days": 90,
    "name": {"fr": "Province démo — aides et bourses", "en": "Demo province — grants"},
    "organisation": {"fr": "Province démo"},  # no English: French, marked
    "purpose": {"fr": "Étudier votre demande d'aide.", "en": "To examine your application."},
    "logo": "/logos/demo-province",
    "attributes": {
        "family_name": {"justification": {"fr": "Identifier la personne.",
                                          "en": "To identify the person."}},
        "birthplace": {"justification": "Vérifier la naissance en Nouvelle-Calédonie."},
        "birthcountry": {"justification": {"fr": "Vérifier le pays.", "en": "To check it."}},
        "address": {"justification": {"fr": "Vous écrire.", "en": "To write to you."},
                    "optional": True},
    },
}
SOURCES = {"demo-oidc": {"display_name": {"fr": "Identité numérique démo",
                                          "en": "Demo digital identity"},
                         "logo": "/logos/demo-oidc"},
           "compte-nc": {"display_name": {"fr": "Compte NC Connect"}, "logo": None}}
DIRECTORIES = {"annuaire": {"organisation": {"fr": "la Province Sud",
                                             "en": "the South Province"}}}
RELEASED = {"family_name": "Wamytan", "birthplace": "98814", "birthcountry": "99100",
            "address": "12 rue de Sébastopol, 98800 Nouméa"}
PROVENANCE = {"address": {"directory": "annuaire", "organisation": "la Province Sud"}}


def _page(lang: str, source: str | None = "demo-oidc", released=None) -> BeautifulSoup:
    view = screen_view(SERVICE, released or RELEASED, DICTIONARY, lang, PROVENANCE,
                       source_view(SOURCES, source, lang), DIRECTORIES)
    page = render("consent.html", None, lang=lang, decisions=("accepter", "refuser"),
                  csrf="x", action="/consentement", **view)
    return BeautifulSoup(page.message, "html.parser")


def _line(soup: BeautifulSoup, name: str) -> str:
    return " ".join(soup.select_one(f"li[data-name={name}] .ligne").get_text().split())


def test_birthplace_and_country_are_shown_by_name_in_french():
    soup = _page("fr")
    assert _line(soup, "birthplace") == "Commune de naissance : Lifou"
    assert _line(soup, "birthcountry") == "Pays de naissance : France"
    assert "98814" not in _line(soup, "birthplace")
    description = soup.select_one("li[data-name=birthplace] .description").get_text()
    assert "né(e)" in description and "si vous êtes né en France" not in description


def test_birthplace_and_country_are_shown_by_name_in_english():
    soup = _page("en")
    assert _line(soup, "birthplace") == "Place of birth: Lifou"
    assert _line(soup, "birthcountry") == "Country of birth: France"
    # The commune's name is French: marked so; the country is named in English.
    assert soup.select_one("li[data-name=birthplace] .valeur")["lang"] == "fr"
    assert not soup.select_one("li[data-name=birthcountry] .valeur").has_attr("lang")
    assert soup.select_one("li[data-name=birthplace] .description").get_text().startswith(
        "The commune where you were born")


def test_an_unknown_code_is_shown_as_the_code():
    soup = _page("fr", released={"birthplace": "98899", "birthcountry": "99999"})
    assert _line(soup, "birthplace") == "Commune de naissance : 98899"
    assert _line(soup, "birthcountry") == "Pays de naissance : 99999"


def test_the_screen_shows_the_services_logo_and_the_account_used():
    soup = _page("fr")
    assert soup.select_one("#service-logo")["src"] == "/logos/demo-province"
    used = soup.select_one("#source-utilisee")
    assert " ".join(used.get_text(" ").split()) == (
        "Vous êtes connecté(e) avec Identité numérique démo")
    assert used.select_one("img")["src"] == "/logos/demo-oidc"
    assert used.select_one("img")["alt"] == ""  # the name is right beside it
    english = _page("en").select_one("#source-utilisee")
    assert " ".join(english.get_text(" ").split()) == "You are signed in with Demo digital identity"


def test_a_source_without_english_name_or_logo_is_named_in_french():
    used = _page("en", source="compte-nc").select_one("#source-utilisee")
    assert used.select_one("img") is None
    assert used.select_one("#source-nom")["lang"] == "fr"
    assert used.select_one("#source-nom").get_text() == "Compte NC Connect"


def test_no_source_known_says_nothing_about_it():
    assert _page("fr", source=None).select_one("#source-utilisee") is None
    assert _page("fr", source="inconnue").select_one("#source-utilisee") is None


def test_english_page_shows_english_texts_and_marks_each_french_fallback():
    soup = _page("en")
    assert soup.select_one("#service-nom").get_text() == "Demo province — grants"
    assert not soup.select_one("#service-nom").has_attr("lang")
    assert soup.select_one("#finalite").get_text() == "To examine your application."
    assert not soup.select_one("#finalite").has_attr("lang")
    # The organisation has no English text: French, marked on its own element only.
    assert soup.select_one("#service-organisation").get_text() == "Province démo"
    assert soup.select_one("#service-organisation")["lang"] == "fr"
    family = soup.select_one("li[data-name=family_name] .justification span")
    assert (family.get_text(), family.has_attr("lang")) == ("To identify the person.", False)
    birthplace = soup.select_one("li[data-name=birthplace] .justification span")
    assert birthplace.get_text() == "Vérifier la naissance en Nouvelle-Calédonie."
    assert birthplace["lang"] == "fr"
    # The directory's organisation, in English where its file gives it.
    assert soup.select_one("li[data-name=address] .provenance").get_text() == (
        "(provided by the South Province)")


def test_french_page_marks_nothing():
    soup = _page("fr")
    assert soup.select_one("#finalite").get_text() == "Étudier votre demande d'aide."
    assert soup.select("main [lang]") == []
    assert soup.select_one("html")["lang"] == "fr"


@pytest.mark.parametrize(("value", "lang", "shown"), [
    ({"fr": "Bonjour", "en": "Hello"}, "en", Shown("Hello", "en")),
    ({"fr": "Bonjour", "en": "Hello"}, "fr", Shown("Bonjour", "fr")),
    ({"fr": "Bonjour"}, "en", Shown("Bonjour", "fr")),
    ("Bonjour", "en", Shown("Bonjour", "fr")),
    (None, "en", Shown("", "fr")),
])
def test_localised_falls_back_to_french_per_field(value, lang, shown):
    assert localised(value, lang) == shown


def test_values_released_stay_codes_only_the_display_changes():
    assert display_value("cog_commune", "98814", "fr") == Shown("Lifou", "fr")
    assert RELEASED["birthplace"] == "98814"
    assert display_value("date", "1987-05-14", "en") == Shown("14/05/1987")


def test_logos_outside_the_csp_are_not_shown():
    for logo in ("https://example.nc/logo.svg", "logos/x.svg", "javascript:alert(1)"):
        view = screen_view({**SERVICE, "logo": logo}, RELEASED, DICTIONARY, "fr")
        assert view["logo"] == ""
