"""What the consent and information screens show: the service, why, on what basis, and each
attribute about to be sent with its label, value and description."""

from __future__ import annotations

from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from idp.testbed.browser import Browser

from .conftest import screen_lines, to_screen


def _soup(page) -> BeautifulSoup:
    return BeautifulSoup(page.text, "html.parser")


def test_login_stops_on_the_proxy_consent_screen(cf, citizen):
    page = to_screen(Browser(), cf, "rp-accord", citizen)
    assert page.status_code == 200
    assert page.url == f"{cf.proxy_url}/consentement"
    assert '<html lang="fr">' in page.text


def test_screen_shows_each_attribute_with_its_french_label_and_value(cf, citizen):
    lines = screen_lines(to_screen(Browser(), cf, "rp-accord", citizen))
    assert lines == {
        "family_name": f"Nom de naissance : {citizen.claims['family_name']}",
        "given_name": f"Prénoms : {citizen.claims['given_name']}",
        "birthdate": "Date de naissance : 14/05/1987",
        "gender": "Sexe : Femme",
        "email": f"Adresse électronique : {citizen.claims['email']}",
    }


def test_screen_shows_each_attribute_description_from_the_dictionary(cf, citizen):
    soup = _soup(to_screen(Browser(), cf, "rp-accord", citizen))
    birth = soup.select_one("li[data-name=family_name] .description").get_text(strip=True)
    assert birth == ("Le nom de famille inscrit sur votre acte de naissance, même si vous en "
                     "utilisez un autre au quotidien.")


def test_screen_names_the_service_its_organisation_purpose_and_legal_basis(cf, citizen):
    soup = _soup(to_screen(Browser(), cf, "rp-accord", citizen))
    assert soup.select_one("#service-nom").get_text() == "Mairie de test — état civil"
    assert soup.select_one("#service-organisation").get_text() == "Commune de test"
    assert soup.select_one("#finalite").get_text() == "Instruire vos demandes d'actes d'état civil."
    assert "Votre consentement" in soup.select_one("#base-legale").get_text()


def test_consent_basis_offers_accepter_and_refuser(cf, citizen):
    soup = _soup(to_screen(Browser(), cf, "rp-accord", citizen))
    buttons = {b["id"]: b.get_text(strip=True) for b in soup.select("#form-consentement button")}
    assert buttons == {"accepter": "Accepter", "refuser": "Refuser"}


def test_public_task_is_an_information_screen_with_continuer_and_annuler(cf, citizen):
    page = to_screen(Browser(), cf, "rp-info", citizen)
    soup = _soup(page)
    buttons = {b["id"]: b.get_text(strip=True) for b in soup.select("#form-consentement button")}
    assert buttons == {"continuer": "Continuer", "annuler": "Annuler"}
    assert "Refuser" not in page.text
    basis = soup.select_one("#base-legale").get_text(" ", strip=True)
    assert "Une mission de service public" in basis
    assert "Délibération n° 42 du congrès de la Nouvelle-Calédonie" in basis


def test_only_optional_attributes_have_a_checkbox(cf, citizen):
    soup = _soup(to_screen(Browser(), cf, "rp-accord", citizen))
    boxes = {i["name"]: i for i in soup.select("fieldset input[type=checkbox]")}
    assert set(boxes) == {"attribut-gender", "attribut-email"}
    assert all(box.has_attr("checked") for box in boxes.values())
    for name in ("attribut-gender", "attribut-email"):
        assert soup.select_one(f"label[for={name}]") is not None
    assert soup.select_one("fieldset legend").get_text(strip=True).startswith(
        "Informations facultatives")


def test_remember_box_is_offered_only_when_the_service_allows_it(cf, citizen):
    remembered = _soup(to_screen(Browser(), cf, "rp-accord", citizen))
    assert remembered.select_one("label[for=memoriser]").get_text(strip=True) == \
        "Se souvenir de mon choix"
    assert _soup(to_screen(Browser(), cf, "rp-info", citizen)).select_one("#memoriser") is None


def test_screen_has_no_inline_script_or_style(cf, citizen):
    soup = _soup(to_screen(Browser(), cf, "rp-accord", citizen))
    assert soup.find("script") is None and soup.find("style") is None
    assert not soup.select("[style]") and not any(
        attr.startswith("on") for tag in soup.find_all(True) for attr in tag.attrs)


def test_screen_carries_the_security_headers(cf, citizen):
    page = to_screen(Browser(), cf, "rp-accord", citizen)
    csp = page.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in csp and "form-action 'self'" in csp
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"


def test_screen_lets_the_answer_redirect_only_to_the_services_registered_origin(cf, citizen):
    """Browsers hold a form's redirects to form-action: the OIDC answer goes to the service."""
    csp = to_screen(Browser(), cf, "rp-accord", citizen).headers["Content-Security-Policy"]
    form_action = next(d for d in csp.split("; ") if d.startswith("form-action"))
    rp = urlsplit(cf.url("rp-accord"))
    assert form_action == f"form-action 'self' {rp.scheme}://{rp.netloc}"


def test_screen_speaks_english_when_the_browser_asks(cf, citizen):
    page = to_screen(Browser(accept_language="en-GB,en;q=0.9"), cf, "rp-accord", citizen)
    assert screen_lines(page)["family_name"] == \
        f"Birth name: {citizen.claims['family_name']}"
    assert "Accept" in _soup(page).select_one("#accepter").get_text()


def test_screen_form_posts_to_the_proxy(cf, citizen):
    soup = _soup(to_screen(Browser(), cf, "rp-accord", citizen))
    form = soup.select_one("form#form-consentement")
    assert form["method"] == "post"
    assert urlsplit(form["action"]).path == "/consentement"
    assert form.select_one("input[name=csrf][type=hidden]")["value"]
