"""Logout from an OIDC service (RP-initiated logout with the ID token as hint): the proxy session
ends first, the other OIDC services get a logout token on the back channel, the SAML services a
LogoutRequest through the browser, the identity source its logout, and the browser goes back to
the service's registered post-logout address."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from bs4 import BeautifulSoup

from idp.testbed.browser import Browser
from idp.testbed.login import start

from .steps import (
    cleared_session_cookie,
    down,
    nothing_left_of,
    peer_cookie,
    result_lists,
    service_name,
    services_of,
    session_of,
    sign_in_to,
)

EVENT = "http://schemas.openid.net/event/backchannel-logout"


def test_logout_at_an_oidc_service_ends_the_proxy_session_everywhere(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "rp-b", "sp-a"])
    record = session_of(store, browser)
    services = services_of(store, record["sid"])
    assert set(services) == {"rp-a", "rp-b", "sp-a"}

    page = browser.get(f"{fed.url('rp-a')}/logout")

    assert nothing_left_of(store, record, services)
    assert cleared_session_cookie(browser, fed.proxy_url)
    assert urlsplit(page.url).netloc == urlsplit(fed.url("rp-a")).netloc
    assert page.status_code == 200 and 'id="deconnecte"' in page.text, page.url


def test_the_other_oidc_service_receives_a_valid_logout_token_for_its_session(fed, store,
                                                                              citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "rp-b"])
    expected = services_of(store, session_of(store, browser)["sid"])["rp-b"]
    rp_b = fed.apps["rp-b"]
    received = len(rp_b.backchannel_logouts)
    assert rp_b.has_session(peer_cookie(fed, browser, "rp-b"))

    browser.get(f"{fed.url('rp-a')}/logout")

    # rp-b verified signature (the proxy's JWKS, RS256), iss, aud, iat/exp, events, jti.
    [token] = rp_b.backchannel_logouts[received:]
    assert token["sid"] == expected["sid"] and token["sub"] == expected["subject"]
    assert token["events"] == {EVENT: {}} and "nonce" not in token
    assert token["typ"] == "logout+jwt" and token["aud"] == "rp-b"
    assert token["iss"] == fed.proxy_url and 0 < token["exp"] - token["iat"] <= 120
    assert not rp_b.has_session(peer_cookie(fed, browser, "rp-b"))


def test_the_service_that_asked_is_not_sent_a_logout_token(fed, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "rp-b"])
    rp_a = fed.apps["rp-a"]
    received = len(rp_a.backchannel_logouts)

    browser.get(f"{fed.url('rp-a')}/logout")

    assert rp_a.backchannel_logouts[received:] == []


def test_the_saml_service_receives_a_signed_logout_request_for_its_session(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "sp-a"])
    expected = services_of(store, session_of(store, browser)["sid"])["sp-a"]
    sp_a = fed.apps["sp-a"]
    received = len(sp_a.logout_requests)

    browser.get(f"{fed.url('rp-a')}/logout")

    # sp-a verified the query signature with the proxy's metadata key, Issuer, Destination.
    [request] = sp_a.logout_requests[received:]
    assert request["name_id"] == expected["subject"]
    assert request["session_indexes"] == [expected["sid"]]
    assert request["known"], "sp-a held no session for that NameID and SessionIndex"
    assert not sp_a.has_session(peer_cookie(fed, browser, "sp-a"))


def test_a_saml_service_offering_only_post_gets_its_logout_request_posted(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "sp-post"])
    sp = fed.apps["sp-post"]
    received = len(sp.logout_requests)

    browser.get(f"{fed.url('rp-a')}/logout")

    [request] = sp.logout_requests[received:]
    assert request["binding"].endswith("HTTP-POST") and request["known"]


def test_the_citizen_is_logged_out_at_the_identity_source_too(fed, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a"])
    source = fed.apps["src-op"]
    before = source.end_session_requests

    browser.get(f"{fed.url('rp-a')}/logout")

    assert source.end_session_requests == before + 1


def test_after_logout_the_next_service_needs_the_source_again(fed, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a"])
    browser.get(f"{fed.url('rp-a')}/logout")
    asked = fed.apps["src-op"].authorize_requests

    page = start(browser, fed.url("rp-b"))

    assert fed.apps["src-op"].authorize_requests == asked + 1
    assert urlsplit(page.url).netloc == urlsplit(fed.url("src-op")).netloc


def test_services_that_are_down_do_not_block_logout_and_are_named(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "rp-b", "rp-panne", "sp-panne"])
    record = session_of(store, browser)
    services = services_of(store, record["sid"])
    started = time.monotonic()

    with down(fed, "sp-panne"):  # its SingleLogoutService does not even accept a connection
        page = browser.get(f"{fed.url('rp-a')}/logout")

    assert time.monotonic() - started < 20
    assert nothing_left_of(store, record, services)
    lists = result_lists(page)
    assert set(lists["failed"]) == {service_name("rp-panne"), service_name("sp-panne")}
    assert service_name("rp-b") in lists["informed"]
    assert service_name("rp-a") in lists["informed"]
    # The service that asked is still one click away, with its state.
    link = urlsplit(page.url)
    assert link.netloc == urlsplit(fed.proxy_url).netloc
    back = _continue_link(page)
    assert back.startswith(f"{fed.url('rp-a')}/?") and "state" in parse_qs(urlsplit(back).query)


def test_services_without_a_logout_channel_are_named(fed, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "rp-sans"])

    page = browser.get(f"{fed.url('rp-a')}/logout")

    assert result_lists(page)["untold"] == [service_name("rp-sans")]
    assert _continue_link(page).startswith(f"{fed.url('rp-a')}/?")


def test_logout_of_a_session_already_ended_tells_nobody_again(fed, store, citizen):
    browser = Browser()
    sign_in_to(fed, browser, citizen, ["rp-a", "rp-b"])
    id_token = fed.apps["rp-a"].id_token_of(peer_cookie(fed, browser, "rp-a"))
    browser.get(f"{fed.url('rp-a')}/logout")
    told = len(fed.apps["rp-b"].backchannel_logouts)

    again = browser.get(f"{fed.proxy_url}/oidc/logout?id_token_hint={id_token}"
                        f"&post_logout_redirect_uri={fed.url('rp-a')}/")

    assert len(fed.apps["rp-b"].backchannel_logouts) == told
    assert again.url.startswith(fed.url("rp-a"))


def _continue_link(page) -> str:
    link = BeautifulSoup(page.text, "html.parser").select_one("a#continuer")
    assert link is not None, "no 'Continuer vers le service' link"
    return link["href"]
