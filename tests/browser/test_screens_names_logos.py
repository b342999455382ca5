"""Issue 11 in a real Chromium: the consent screen names places instead of codes (Lifou,
France), shows the service's logo and the account used ("Vous êtes connecté(e) avec …"),
and in English shows each partner text in English where its file gives one, else in French
marked lang="fr"; the choice page shows each source's logo. Logos load under the production
Content-Security-Policy; the screens are checked with axe (WCAG 2.1 A/AA).
"""

from __future__ import annotations

import pytest
import yaml

from idp.demo.citizens import CITIZENS
from idp.testbed.axe import assert_no_serious_violation
from idp.testbed.federation import build_federation

from .steps import CONSENT_FORM, RESULT, fill_source_form

SERVICE = "rp-ecrans"
SECOND = "rp-ecrans-bis"
LOGO = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 64 64">'
        '<rect width="64" height="64" rx="8" fill="{}"/></svg>')


def _service(name: dict, logo: str) -> dict:
    return {
        "name": name,
        "organisation": "Province de test",  # French only: marked lang="fr" in English
        "purpose": {"fr": "Étudier votre demande de bourse provinciale.",
                    "en": "To examine your application for a provincial scholarship."},
        "legal_basis": "consent", "consent": {"remember_days": 0}, "logo": logo,
        "attributes": {
            "family_name": {"justification": {"fr": "Identifier la personne qui demande.",
                                              "en": "To identify the applicant."}},
            "given_name": {"justification": {"fr": "Identifier la personne qui demande.",
                                             "en": "To identify the applicant."}},
            "birthplace": {"justification": "Vérifier la naissance en Nouvelle-Calédonie."},
            "birthcountry": {"justification": {"fr": "Vérifier le pays de naissance.",
                                               "en": "To check the country of birth."}},
        }}


SERVICES = {
    SERVICE: ("oidc", ["src-op", "src-idp"], [], _service(
        {"fr": "Bourses de test", "en": "Test scholarships"}, "logo-ecrans.svg")),
    SECOND: ("oidc", ["src-op", "src-idp"], [], _service(
        {"fr": "Aides de test", "en": "Test grants"}, "logo-ecrans.svg")),
}
SOURCE_NAMES = {"src-op": {"fr": "Identité OIDC de test", "en": "Test OIDC identity"},
                "src-idp": {"fr": "Annuaire SAML de test"}}  # no English name


@pytest.fixture(scope="module")
def fed(tmp_path_factory, redis_server):
    federation = build_federation(tmp_path_factory.mktemp("ecrans"), SERVICES)
    partners = federation.folder / "partenaires"
    (partners / "logo-ecrans.svg").write_text(LOGO.format("#1b6b3a"), encoding="utf-8")
    for source, name in SOURCE_NAMES.items():
        (partners / f"logo-{source}.svg").write_text(LOGO.format("#5b2a86"), encoding="utf-8")
        path = partners / f"{source}.yaml"
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        data.update(display_name=name, logo=f"logo-{source}.svg")
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                        encoding="utf-8")
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture
def citizen():
    return CITIZENS[0]  # Marie-Claire Wamytan, born in Lifou (98814), France (99100)


def _to_consent_screen(page, fed, citizen, service=SERVICE, source="src-op") -> None:
    page.goto(f"{fed.url(service)}/login")
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    page.locator(f"button[name=source][value={source}]").click()
    page.wait_for_url(f"{fed.url(source)}/**")
    fill_source_form(page, citizen)
    page.get_by_role("button", name="Se connecter").click()
    page.locator(CONSENT_FORM).wait_for()


def _line(page, name: str) -> str:
    return " ".join(page.locator(f"li[data-name={name}] .ligne").inner_text().split())


def _loaded(locator) -> bool:
    """The image was fetched and decoded (a CSP refusal or a 404 leaves it at width 0)."""
    return bool(locator.evaluate("img => img.complete && img.naturalWidth > 0"))


def test_choice_page_shows_each_sources_logo(fed, page, csp_refusals, screenshots):
    page.goto(f"{fed.url(SERVICE)}/login")
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    for source in ("src-op", "src-idp"):
        logo = page.locator(f"button[value={source}] img.logo")
        assert logo.get_attribute("src") == f"/logos/{source}"
        assert _loaded(logo), f"{source}: logo not shown"
    screenshots.take(page, "choix-logos")
    assert csp_refusals.messages == []


def test_choice_page_in_english_marks_a_french_only_source_name(fed, new_page):
    page = new_page(locale="en-GB")
    page.goto(f"{fed.url(SERVICE)}/login")
    page.wait_for_url(f"{fed.proxy_url}/choix**")
    assert page.locator("button[value=src-op] .nom").inner_text() == "Test OIDC identity"
    assert page.locator("button[value=src-op] .nom").get_attribute("lang") is None
    assert page.locator("button[value=src-idp] .nom").inner_text() == "Annuaire SAML de test"
    assert page.locator("button[value=src-idp] .nom").get_attribute("lang") == "fr"


def test_consent_screen_in_french_names_places_logo_and_account(
        fed, page, csp_refusals, screenshots, citizen):
    _to_consent_screen(page, fed, citizen)
    assert _line(page, "birthplace") == "Commune de naissance : Lifou"
    assert _line(page, "birthcountry") == "Pays de naissance : France"
    assert "98814" not in page.locator("li[data-name=birthplace] .ligne").inner_text()
    logo = page.locator("#service-logo")
    assert logo.get_attribute("src") == f"/logos/{SERVICE}" and _loaded(logo)
    used = page.locator("#source-utilisee")
    assert " ".join(used.inner_text().split()) == (
        "Vous êtes connecté(e) avec Identité OIDC de test")
    assert _loaded(used.locator("img"))
    assert page.locator("#service-nom").inner_text() == "Bourses de test"
    assert page.locator("main [lang]").count() == 0
    screenshots.take(page, "consentement-fr")
    assert csp_refusals.messages == []

    # Released values stay codes: the service receives 98814 and 99100.
    page.get_by_role("button", name="Accepter").click()
    page.locator(RESULT).wait_for()
    result = page.locator(RESULT).inner_text()
    assert "98814" in result and "99100" in result and "Lifou" not in result


def test_consent_screen_in_english_with_per_field_french_fallback(
        fed, new_page, csp_refusals, screenshots, citizen):
    page = new_page(locale="en-GB")
    _to_consent_screen(page, fed, citizen)
    assert page.locator("html").get_attribute("lang") == "en"
    assert _line(page, "birthplace") == "Place of birth: Lifou"
    assert _line(page, "birthcountry") == "Country of birth: France"
    assert page.locator("li[data-name=birthplace] .valeur").get_attribute("lang") == "fr"
    assert page.locator("#service-nom").inner_text() == "Test scholarships"
    assert page.locator("#finalite").inner_text() == (
        "To examine your application for a provincial scholarship.")
    assert page.locator("#finalite").get_attribute("lang") is None
    organisation = page.locator("#service-organisation")
    assert (organisation.inner_text(), organisation.get_attribute("lang")) == (
        "Province de test", "fr")
    english = page.locator("li[data-name=birthcountry] .justification span")
    assert (english.inner_text(), english.get_attribute("lang")) == (
        "To check the country of birth.", None)
    french = page.locator("li[data-name=birthplace] .justification span")
    assert (french.inner_text(), french.get_attribute("lang")) == (
        "Vérifier la naissance en Nouvelle-Calédonie.", "fr")
    assert page.locator("li[data-name=birthplace] .description").inner_text().startswith(
        "The commune where you were born")
    used = page.locator("#source-utilisee")
    assert " ".join(used.inner_text().split()) == "You are signed in with Test OIDC identity"
    assert _loaded(page.locator("#service-logo")) and _loaded(used.locator("img"))
    screenshots.take(page, "consent-en")
    assert csp_refusals.messages == []


def test_sso_replay_names_the_sessions_source(fed, page, citizen):
    """The second service is answered by the single sign-on session: the account named is the
    session's own source, not the SSO machinery."""
    _to_consent_screen(page, fed, citizen, source="src-idp")
    page.get_by_role("button", name="Accepter").click()
    page.locator(RESULT).wait_for()
    page.goto(f"{fed.url(SECOND)}/login")
    page.locator(CONSENT_FORM).wait_for()
    assert page.locator("#service-nom").inner_text() == "Aides de test"
    used = page.locator("#source-utilisee")
    assert used.get_attribute("data-source") == "src-idp"
    assert " ".join(used.inner_text().split()) == (
        "Vous êtes connecté(e) avec Annuaire SAML de test")


@pytest.mark.parametrize("locale", ["fr-FR", "en-GB"])
def test_consent_screen_has_no_serious_accessibility_violation(fed, new_page, axe, citizen,
                                                              locale):
    page = new_page(locale=locale, bypass_csp=True)
    _to_consent_screen(page, fed, citizen)
    assert_no_serious_violation(axe(page))
