"""Unsigned LogoutRequests: refused by default; from an SP registered ``logout_requests:
unsigned_confirm`` (SimpleSAMLphp without a key), accepted once the citizen confirms on our
French page (session-bound CSRF token, Origin checked), and only for this browser's own
session. A signed request never asks; a signature that is there but wrong is always refused.

Its own federation (the package's ``fed`` has no such SP): demo SPs that send unsigned
LogoutRequests, registered ``unsigned_confirm`` (Redirect and POST SingleLogoutService, or POST
only) or with the default ``signed``, and an OIDC service told over the back channel.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.s_utils import sid as new_id
from saml2.saml import NAMEID_FORMAT_ENTITY, NAMEID_FORMAT_PERSISTENT, Issuer, NameID
from saml2.samlp import (
    STATUS_REQUEST_DENIED,
    STATUS_RESPONDER,
    STATUS_SUCCESS,
    LogoutResponse,
    Status,
    StatusCode,
    logout_request_from_string,
)
from saml2.time_util import instant
from saml2.xmldsig import SIG_RSA_SHA256

from idp.demo.citizens import CITIZENS
from idp.sso.session import NAMESPACE
from idp.stores import open_store
from idp.testbed.browser import Browser, error_code_of
from idp.testbed.chromium import CspRefusals
from idp.testbed.chromium import new_context as new_browser_context
from idp.testbed.federation import build_federation
from plugins.saml2.inflate import redirect_message_xml
from tests.sso.clients import SamlClient

from .steps import services_of, session_of, sign_in_to

if TYPE_CHECKING:
    from playwright.sync_api import Page

NAMES = ["given_name", "family_name"]
UNSIGNED = {"saml2": {"logout_requests": "unsigned_confirm"},
            "peer": {"sign_logout_requests": False}}
SERVICES: dict[str, tuple] = {
    "sp-ssp": ("saml2", ["src-op"], NAMES, UNSIGNED),
    "sp-ssp-post": ("saml2", ["src-op"], ["given_name"],
                    {**UNSIGNED, "peer": {"sign_logout_requests": False,
                                          "slo": [BINDING_HTTP_POST]}}),
    "sp-strict": ("saml2", ["src-op"], ["given_name"],
                  {"peer": {"sign_logout_requests": False}}),
    "rp-a": ("oidc", ["src-op"], NAMES),
}
CONFIRM_FORM = "form#form-deconnexion"
CITIZEN = CITIZENS[3]


@pytest.fixture(scope="module")
def ufed(tmp_path_factory, redis_server):
    federation = build_federation(tmp_path_factory.mktemp("unsigned_logout"), SERVICES,
                                  log_level="INFO")
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture(scope="module")
def ustore(redis_server):
    return open_store(redis_server.url)


def _signed_in(ufed, ustore, services: list[str]) -> tuple[Browser, dict]:
    browser = Browser()
    sign_in_to(ufed, browser, CITIZEN, services)
    return browser, session_of(ustore, browser)


def _alive(ustore, record: dict) -> bool:
    return ustore.get(NAMESPACE, record["key"]) is not None


def _confirmation(page: requests.Response) -> dict[str, str]:
    """The confirmation form's action and hidden fields (the page must be it)."""
    form = BeautifulSoup(page.text, "html.parser").select_one(CONFIRM_FORM)
    assert page.status_code == 200 and form is not None, f"not the confirmation: {page.url}"
    return {"action": form["action"],
            **{i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}}


def _asked(ufed, browser: Browser, sp: str = "sp-ssp", binding: str = "") -> requests.Response:
    """The SP's own logout link: it sends its unsigned LogoutRequest; our page answers."""
    return browser.get(f"{ufed.url(sp)}/logout{'?binding=post' if binding else ''}")


def _logout_url(ufed, sp: str, name_id: str, session_index: str | None,
                signed: bool) -> str:
    """A LogoutRequest made with ``sp``'s own key, for the Redirect binding."""
    client = SamlClient(ufed, sp).client
    destination = f"{ufed.proxy_url}/saml2/slo/redirect"
    _, request = client.create_logout_request(
        destination, f"{ufed.proxy_url}/saml2/metadata",
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
        session_indexes=[session_index] if session_index else None, sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination, "",
                                sign=signed, sigalg=SIG_RSA_SHA256)
    return dict(info["headers"])["Location"]


# -- the policies ------------------------------------------------------------------------


def test_an_unsigned_logout_request_is_refused_under_the_default_policy(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-strict"])

    page = _asked(ufed, browser, "sp-strict")

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"
    assert _alive(ustore, record)


def test_an_unsigned_logout_request_asks_the_citizen_in_french_and_ends_nothing_yet(ufed,
                                                                                    ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])

    page = _asked(ufed, browser)

    fields = _confirmation(page)
    soup = BeautifulSoup(page.text, "html.parser")
    assert soup.find("html")["lang"] == "fr"
    assert soup.find("h1").get_text(strip=True) == "Se déconnecter de NC Connect ?"
    assert "« Service de test sp-ssp » demande" in soup.get_text(" ")
    assert fields["action"] == f"{ufed.proxy_url}/saml2/slo/confirmer"
    assert set(fields) == {"action", "csrf", "demande"}
    assert _alive(ustore, record)


def test_confirming_ends_the_session_tells_the_others_and_answers_the_sp(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp", "rp-a"])
    sp, rp = ufed.apps["sp-ssp"], ufed.apps["rp-a"]
    answered, told = len(sp.logout_responses), len(rp.backchannel_logouts)

    done = browser.submit(_asked(ufed, browser), {}, form_selector=CONFIRM_FORM,
                          button=("confirmer", "oui"))

    assert not _alive(ustore, record)
    assert len(rp.backchannel_logouts) == told + 1
    [response] = sp.logout_responses[answered:]
    assert (response["status"], response["second"]) == (STATUS_SUCCESS, None)
    assert response["binding"] == BINDING_HTTP_REDIRECT
    assert done.url.startswith(ufed.url("sp-ssp")) and 'id="deconnecte"' in done.text


def test_confirming_a_request_sent_over_post_answers_the_sp_over_post(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp-post"])
    sp = ufed.apps["sp-ssp-post"]
    answered = len(sp.logout_responses)

    page = _asked(ufed, browser, "sp-ssp-post", binding="post")
    browser.submit(page, {}, form_selector=CONFIRM_FORM, button=("confirmer", "oui"))

    assert any(url == f"{ufed.proxy_url}/saml2/slo/post" for url, _ in browser.posts)
    assert not _alive(ustore, record)
    [response] = sp.logout_responses[answered:]
    assert response["status"] == STATUS_SUCCESS and response["binding"] == BINDING_HTTP_POST


def test_declining_keeps_the_session_and_the_sp_is_told_request_denied(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])
    sp = ufed.apps["sp-ssp"]
    answered = len(sp.logout_responses)

    kept = browser.submit(_asked(ufed, browser), {}, form_selector=CONFIRM_FORM,
                          button=("confirmer", "non"))

    assert _alive(ustore, record)
    assert BeautifulSoup(kept.text, "html.parser").find("h1").get_text(
        strip=True) == "Vous restez connecté"
    link = BeautifulSoup(kept.text, "html.parser").select_one("a#continuer")["href"]
    browser.get(link)
    [response] = sp.logout_responses[answered:]
    assert (response["status"], response["second"]) == (STATUS_RESPONDER, STATUS_REQUEST_DENIED)


# -- what a forged confirmation cannot do --------------------------------------------------


def test_a_forged_confirmation_without_the_token_ends_nothing(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])
    fields = _confirmation(_asked(ufed, browser))

    forged = browser.post_form_data(fields["action"], {"demande": fields["demande"],
                                                       "confirmer": "oui"})

    assert forged.status_code == 403 and error_code_of(forged) == "deconnexion_formulaire_invalide"
    assert _alive(ustore, record)


def test_a_confirmation_posted_from_another_origin_ends_nothing(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])
    fields = _confirmation(_asked(ufed, browser))

    forged = browser.session.post(
        fields.pop("action"), data={**fields, "confirmer": "oui"}, allow_redirects=False,
        headers={"Origin": "https://pirate.example"}, timeout=30)

    assert forged.status_code == 403 and error_code_of(forged) == "deconnexion_formulaire_invalide"
    assert _alive(ustore, record)


def test_a_confirmation_posted_from_our_own_origin_is_accepted(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])
    fields = _confirmation(_asked(ufed, browser))

    answer = browser.session.post(
        fields.pop("action"), data={**fields, "confirmer": "oui"}, allow_redirects=False,
        headers={"Origin": ufed.proxy_url}, timeout=30)

    assert answer.status_code == 303 and not _alive(ustore, record)


def test_a_confirmation_from_another_browser_ends_nothing(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])
    fields = _confirmation(_asked(ufed, browser))

    forged = Browser().post_form_data(fields.pop("action"), {**fields, "confirmer": "oui"})

    assert forged.status_code == 400 and error_code_of(forged) == "deconnexion_expiree"
    assert _alive(ustore, record)


def test_an_unsigned_request_cannot_end_a_session_this_browser_does_not_hold(ufed, ustore):
    _victim, record = _signed_in(ufed, ustore, ["sp-ssp"])
    entry = services_of(ustore, record["sid"])["sp-ssp"]
    attacker, _own = _signed_in(ufed, ustore, ["sp-ssp"])

    page = attacker.get(_logout_url(ufed, "sp-ssp", entry["subject"], entry["sid"],
                                    signed=False))

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"
    assert _alive(ustore, record)


def test_an_unsigned_request_naming_nothing_of_this_browser_ends_nothing_and_is_answered(
        ufed, ustore):
    _victim, record = _signed_in(ufed, ustore, ["sp-ssp"])

    answer = Browser().get(_logout_url(ufed, "sp-ssp", "personne", None, signed=False),
                           follow=False)

    assert answer.status_code == 303
    assert answer.headers["Location"].startswith(f"{ufed.url('sp-ssp')}/slo/redirect?")
    assert _alive(ustore, record)


# -- signatures -------------------------------------------------------------------------


def test_a_signed_request_from_an_unsigned_confirm_sp_never_asks(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])
    entry = services_of(ustore, record["sid"])["sp-ssp"]

    answer = browser.get(_logout_url(ufed, "sp-ssp", entry["subject"], entry["sid"],
                                     signed=True), follow=False)

    assert answer.status_code == 303  # straight on to the identity source's logout
    assert not _alive(ustore, record)


def test_an_invalid_query_signature_is_refused_even_from_an_unsigned_confirm_sp(ufed, ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])
    entry = services_of(ustore, record["sid"])["sp-ssp"]
    url = _logout_url(ufed, "sp-ssp", entry["subject"], entry["sid"], signed=True)
    other = _logout_url(ufed, "sp-ssp", "quelqu-un", None, signed=True)
    params = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
    params["Signature"] = parse_qs(urlsplit(other).query)["Signature"][0]  # not over this one

    page = browser.get(f"{ufed.proxy_url}/saml2/slo/redirect?{urlencode(params)}")

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"
    assert _alive(ustore, record)


def test_an_invalid_enveloped_signature_is_refused_even_from_an_unsigned_confirm_sp(ufed,
                                                                                   ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp"])
    entry = services_of(ustore, record["sid"])["sp-ssp"]
    client = SamlClient(ufed, "sp-ssp").client
    _, signed = client.create_logout_request(
        f"{ufed.proxy_url}/saml2/slo/post", f"{ufed.proxy_url}/saml2/metadata",
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=entry["subject"]),
        session_indexes=[entry["sid"]], sign=True, sign_alg=SIG_RSA_SHA256)
    tampered = str(signed).replace(entry["sid"], entry["sid"][::-1])  # after the signature

    page = browser.post(f"{ufed.proxy_url}/saml2/slo/post", {
        "SAMLRequest": base64.b64encode(tampered.encode()).decode()})

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"
    assert _alive(ustore, record)


def test_an_unsigned_logout_response_of_an_unsigned_confirm_sp_lets_the_logout_go_on(ufed,
                                                                                    ustore):
    browser, record = _signed_in(ufed, ustore, ["sp-ssp", "rp-a"])
    to_sp = browser.follow(browser.get(f"{ufed.url('rp-a')}/logout", follow=False),
                           stop_at=f"{ufed.url('sp-ssp')}/slo/")
    ours = parse_qs(urlsplit(to_sp.headers["Location"]).query)["SAMLRequest"][0]
    request_id = logout_request_from_string(redirect_message_xml(ours)).id
    destination = f"{ufed.proxy_url}/saml2/slo/redirect"
    response = LogoutResponse(
        id=new_id(), version="2.0", issue_instant=instant(), destination=destination,
        in_response_to=request_id,
        issuer=Issuer(text=f"{ufed.url('sp-ssp')}/metadata", format=NAMEID_FORMAT_ENTITY),
        status=Status(status_code=StatusCode(value=STATUS_SUCCESS)))
    info = SamlClient(ufed, "sp-ssp").client.apply_binding(
        BINDING_HTTP_REDIRECT, str(response), destination, "", response=True, sign=False)

    page = browser.get(dict(info["headers"])["Location"])

    assert not _alive(ustore, record)
    assert page.url.startswith(f"{ufed.url('rp-a')}/?") and 'id="deconnecte"' in page.text


# -- in a real browser ------------------------------------------------------------------


@pytest.fixture
def chromium_page(chromium_browser) -> Iterator[tuple[Page, CspRefusals]]:
    context = new_browser_context(chromium_browser)
    refusals = CspRefusals().watch(context)
    yield context.new_page(), refusals
    context.close()


def test_confirming_in_chromium_passes_the_origin_check_and_ends_back_at_the_sp(
        ufed, ustore, chromium_page):
    page, refusals = chromium_page
    sp = ufed.apps["sp-ssp"]
    answered = len(sp.logout_responses)
    page.goto(f"{ufed.url('sp-ssp')}/login")
    page.get_by_label("Identifiant").fill(CITIZEN.username)
    page.get_by_label("Mot de passe").fill(CITIZEN.password)
    page.get_by_role("button", name="Se connecter").click()
    page.locator("form#form-consentement button").first.click()
    page.locator("table#attributs").wait_for()

    page.get_by_role("link", name="Se déconnecter").click()
    page.get_by_role("button", name="Me déconnecter").click()

    page.locator("#deconnecte").wait_for()
    assert page.url.startswith(ufed.url("sp-ssp"))
    assert sp.logout_responses[answered:][0]["status"] == STATUS_SUCCESS
    assert refusals.messages == []
