"""SAML single logout: an SP's signed LogoutRequest (Redirect or POST binding) ends the session
it names, every other service is told, and the SP gets a signed LogoutResponse on its own
SingleLogoutService; anything unsigned, SHA-1, replayed or naming someone else is refused."""

from __future__ import annotations

import base64
import zlib
from urllib.parse import urlencode, urlsplit

import pytest
import requests
from bs4 import BeautifulSoup
from defusedxml import ElementTree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NameID
from saml2.samlp import STATUS_PARTIAL_LOGOUT, STATUS_SUCCESS
from saml2.xmldsig import SIG_RSA_SHA1, SIG_RSA_SHA256

from idp.testbed.browser import Browser, error_code_of
from tests.sso.clients import SamlClient

from .steps import (
    nothing_left_of,
    peer_cookie,
    result_lists,
    service_name,
    services_of,
    session_of,
    sign_in_to,
)


def _logout_request(fed, sp: str, name_id: str, session_index: str | None,
                    sigalg: str | None = SIG_RSA_SHA256) -> str:
    """A LogoutRequest from ``sp`` (its own key), for the Redirect binding; the URL."""
    client = SamlClient(fed, sp).client
    destination = f"{fed.proxy_url}/saml2/slo/redirect"
    idp = f"{fed.proxy_url}/saml2/metadata"
    _, request = client.create_logout_request(
        destination, idp, name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text=name_id),
        session_indexes=[session_index] if session_index else None, sign=False)
    info = client.apply_binding(BINDING_HTTP_REDIRECT, str(request), destination, "",
                                sign=sigalg is not None, sigalg=sigalg or SIG_RSA_SHA256)
    return dict(info["headers"])["Location"]


def test_sp_initiated_logout_over_redirect_ends_the_session_and_answers_the_sp(fed, store,
                                                                               citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["sp-a", "rp-b"])
    record = session_of(store, browser)
    services = services_of(store, record["sid"])
    sp_a, rp_b = fed.apps["sp-a"], fed.apps["rp-b"]
    answered, told = len(sp_a.logout_responses), len(rp_b.backchannel_logouts)

    page = browser.get(f"{fed.url('sp-a')}/logout")

    assert nothing_left_of(store, record, services)
    assert len(rp_b.backchannel_logouts) == told + 1
    [response] = sp_a.logout_responses[answered:]
    assert response["status"] == STATUS_SUCCESS and response["second"] is None
    assert response["binding"] == BINDING_HTTP_REDIRECT
    assert urlsplit(page.url).netloc == urlsplit(fed.url("sp-a")).netloc
    assert 'id="deconnecte"' in page.text


def test_sp_initiated_logout_over_post_is_answered_over_post(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["sp-post", "rp-b"])
    record = session_of(store, browser)
    sp = fed.apps["sp-post"]
    answered = len(sp.logout_responses)

    browser.get(f"{fed.url('sp-post')}/logout?binding=post")

    assert store.get("sso-session", record["key"]) is None
    [response] = sp.logout_responses[answered:]
    assert response["status"] == STATUS_SUCCESS and response["binding"].endswith("HTTP-POST")
    # The SP's LogoutRequest went to our POST endpoint (enveloped signature).
    assert any(url == f"{fed.proxy_url}/saml2/slo/post" for url, _ in browser.posts)


def test_the_other_saml_service_is_told_before_the_sp_gets_its_answer(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["sp-a", "sp-post"])
    expected = services_of(store, session_of(store, browser)["sid"])["sp-post"]
    sp_a, sp_post = fed.apps["sp-a"], fed.apps["sp-post"]
    asked, answered = len(sp_post.logout_requests), len(sp_a.logout_responses)

    browser.get(f"{fed.url('sp-a')}/logout")

    [request] = sp_post.logout_requests[asked:]
    assert request["name_id"] == expected["subject"] and request["known"]
    assert sp_a.logout_responses[answered:][0]["status"] == STATUS_SUCCESS
    assert not sp_post.has_session(peer_cookie(fed, browser, "sp-post"))


def test_a_service_not_reached_makes_the_answer_a_partial_logout(fed, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["sp-a", "rp-panne"])
    sp_a = fed.apps["sp-a"]
    answered = len(sp_a.logout_responses)

    page = browser.get(f"{fed.url('sp-a')}/logout")

    assert result_lists(page)["failed"] == [service_name("rp-panne")]
    back = browser.get(_continue(page))  # sp-a answers on its Redirect endpoint: a link
    [response] = sp_a.logout_responses[answered:]
    assert response["status"] == STATUS_SUCCESS and response["second"] == STATUS_PARTIAL_LOGOUT
    assert urlsplit(back.url).netloc == urlsplit(fed.url("sp-a")).netloc


def test_logout_reaches_a_saml_identity_source(fed, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-idp"])
    source = fed.apps["src-idp"]
    before = source.logout_requests

    page = browser.get(f"{fed.url('rp-idp')}/logout")

    assert source.logout_requests == before + 1
    assert page.url.startswith(f"{fed.url('rp-idp')}/?state=") and 'id="deconnecte"' in page.text


@pytest.mark.parametrize("sigalg", [None, SIG_RSA_SHA1], ids=["unsigned", "rsa-sha1"])
def test_a_logout_request_not_signed_with_sha2_is_refused(fed, store, citizen, sigalg):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["sp-a"])
    record = session_of(store, browser)
    entry = services_of(store, record["sid"])["sp-a"]

    page = browser.get(_logout_request(fed, "sp-a", entry["subject"], entry["sid"], sigalg))

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"
    assert store.get("sso-session", record["key"]) is not None


def test_a_replayed_logout_request_is_refused(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["sp-a"])
    record = session_of(store, browser)
    entry = services_of(store, record["sid"])["sp-a"]
    url = _logout_request(fed, "sp-a", entry["subject"], entry["sid"])
    first = browser.get(url, follow=False)
    assert first.status_code == 303  # on to the identity source's logout
    assert store.get("sso-session", record["key"]) is None

    again = Browser().get(url)

    assert again.status_code == 400 and error_code_of(again) == "deconnexion_invalide"


def test_a_logout_request_for_another_name_id_ends_nothing(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["sp-a"])
    record = session_of(store, browser)
    entry = services_of(store, record["sid"])["sp-a"]

    page = Browser().get(_logout_request(fed, "sp-a", "quelqu-un-d-autre", entry["sid"]))

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"
    assert store.get("sso-session", record["key"]) is not None


def test_an_sp_cannot_end_a_session_through_another_services_session_index(fed, store,
                                                                           citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-b", "sp-a"])
    record = session_of(store, browser)
    services = services_of(store, record["sid"])

    page = Browser().get(_logout_request(fed, "sp-a", services["sp-a"]["subject"],
                                         services["rp-b"]["sid"]))

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"
    assert store.get("sso-session", record["key"]) is not None


def test_a_logout_request_from_another_browser_ends_the_session_it_names(fed, store, citizen):
    # The SessionIndex names the session: the SP's back-office may log a citizen out.
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["sp-a"])
    record = session_of(store, browser)
    entry = services_of(store, record["sid"])["sp-a"]

    Browser().get(_logout_request(fed, "sp-a", entry["subject"], entry["sid"]))

    assert store.get("sso-session", record["key"]) is None


def _continue(page) -> str:
    link = BeautifulSoup(page.text, "html.parser").select_one("a#continuer")
    assert link is not None
    return link["href"]


def test_a_logout_message_that_inflates_beyond_the_bound_is_refused(fed):
    bomb = zlib.compressobj(9, zlib.DEFLATED, -15)
    deflated = bomb.compress(b"<" + b"a" * (4 * 1024 * 1024)) + bomb.flush()
    encoded = base64.b64encode(deflated).decode("ascii")

    page = Browser().get(f"{fed.proxy_url}/saml2/slo/redirect?" + urlencode(
        {"SAMLRequest": encoded, "SigAlg": SIG_RSA_SHA256, "Signature": "AAAA"}))

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"


def test_our_idp_metadata_offers_single_logout_over_redirect_and_post(fed):
    xml = requests.get(f"{fed.proxy_url}/saml2/metadata", timeout=10).text
    root = ElementTree.fromstring(xml)

    found = {s.get("Binding"): s.get("Location")
             for s in root.iter("{urn:oasis:names:tc:SAML:2.0:metadata}SingleLogoutService")}

    assert found == {BINDING_HTTP_REDIRECT: f"{fed.proxy_url}/saml2/slo/redirect",
                     BINDING_HTTP_POST: f"{fed.proxy_url}/saml2/slo/post"}
