"""The end-session endpoint trusts only what it can verify: our own ID token as hint, registered
post-logout addresses, and the citizen's confirmation (bound to their session) otherwise."""

from __future__ import annotations

import json
import time
from urllib.parse import urlencode, urlsplit

import requests
from bs4 import BeautifulSoup
from cryptojwt.jwk.jwk import key_from_jwk_dict
from cryptojwt.jwk.rsa import RSAKey, new_rsa_key
from cryptojwt.jws.jws import JWS

from idp.testbed.browser import Browser, error_code_of
from plugins.frontends.oidc.id_token import load_signing_key

from .steps import peer_cookie, result_lists, session_of, sign_in_to

CONFIRM_FORM = "form#form-deconnexion"


def _signed_in(fed, citizen, services=("rp-a", "rp-b")) -> tuple[Browser, str]:
    browser = Browser()
    sign_in_to(fed, browser, citizen, list(services))
    return browser, fed.apps["rp-a"].id_token_of(peer_cookie(fed, browser, "rp-a"))


def _logout_url(fed, **params: str) -> str:
    return f"{fed.proxy_url}/oidc/logout?{urlencode(params)}"


def _claims(fed, id_token: str) -> dict:
    """The hint's claims, verified with the proxy's published key."""
    jwks = requests.get(f"{fed.proxy_url}/oidc/jwks", timeout=10).json()
    keys = [key_from_jwk_dict(k, private=False) for k in jwks["keys"]]
    return JWS(alg="RS256").verify_compact(id_token, keys=keys, sigalg="RS256")


def _sign(claims: dict, key: RSAKey) -> str:
    return JWS(json.dumps(claims), alg="RS256").sign_compact([key])


def _on_confirmation(page: requests.Response) -> bool:
    return page.status_code == 200 and BeautifulSoup(page.text, "html.parser").select_one(
        CONFIRM_FORM) is not None


def test_discovery_publishes_the_end_session_endpoint_and_back_channel_logout(fed):
    doc = requests.get(f"{fed.proxy_url}/.well-known/openid-configuration", timeout=10).json()

    assert doc["end_session_endpoint"] == f"{fed.proxy_url}/oidc/logout"
    assert doc["backchannel_logout_supported"] is True
    assert doc["backchannel_logout_session_supported"] is True
    assert "sid" in doc["claims_supported"]


def test_a_link_without_hint_asks_the_citizen_and_ends_nothing(fed, store, citizen):
    browser, _ = _signed_in(fed, citizen)
    record = session_of(store, browser)

    page = browser.get(_logout_url(fed, client_id="rp-a",
                                   post_logout_redirect_uri=f"{fed.url('rp-a')}/"))

    assert _on_confirmation(page)
    assert store.get("sso-session", record["key"]) is not None


def test_confirming_ends_the_session_and_returns_to_the_registered_address(fed, store,
                                                                          citizen):
    browser, _ = _signed_in(fed, citizen)
    record = session_of(store, browser)
    told = len(fed.apps["rp-b"].backchannel_logouts)
    page = browser.get(_logout_url(fed, client_id="rp-a", state="etat-1",
                                   post_logout_redirect_uri=f"{fed.url('rp-a')}/"))

    back = browser.submit(page, {}, form_selector=CONFIRM_FORM, button=("confirmer", "oui"))

    assert store.get("sso-session", record["key"]) is None
    assert len(fed.apps["rp-b"].backchannel_logouts) == told + 1
    assert back.url.startswith(f"{fed.url('rp-a')}/?state=etat-1")


def test_declining_keeps_the_session(fed, store, citizen):
    browser, _ = _signed_in(fed, citizen)
    record = session_of(store, browser)
    page = browser.get(_logout_url(fed))

    kept = browser.submit(page, {}, form_selector=CONFIRM_FORM, button=("confirmer", "non"))

    assert kept.status_code == 200 and "titre-maintenue" in kept.text
    assert store.get("sso-session", record["key"]) is not None


def test_a_confirmation_with_a_forged_token_is_refused(fed, store, citizen):
    browser, _ = _signed_in(fed, citizen)
    record = session_of(store, browser)
    page = browser.get(_logout_url(fed))
    form = BeautifulSoup(page.text, "html.parser").select_one(CONFIRM_FORM)
    demande = form.select_one("input[name=demande]")["value"]

    refused = browser.post_form_data(f"{fed.proxy_url}/oidc/logout", {
        "demande": demande, "csrf": "0" * 64, "confirmer": "oui"})

    assert refused.status_code == 403
    assert error_code_of(refused) == "deconnexion_formulaire_invalide"
    assert store.get("sso-session", record["key"]) is not None


def test_a_confirmation_posted_from_another_origin_is_refused(fed, store, citizen):
    browser, _ = _signed_in(fed, citizen)
    record = session_of(store, browser)
    page = browser.get(_logout_url(fed))
    form = BeautifulSoup(page.text, "html.parser").select_one(CONFIRM_FORM)
    fields = {i["name"]: i.get("value", "") for i in form.select("input")}

    refused = browser.session.post(f"{fed.proxy_url}/oidc/logout",
                                   data={**fields, "confirmer": "oui"}, timeout=30,
                                   allow_redirects=False,
                                   headers={"Origin": "https://pirate.example"})

    assert refused.status_code == 403
    assert error_code_of(refused) == "deconnexion_formulaire_invalide"
    assert store.get("sso-session", record["key"]) is not None


def test_another_browser_cannot_confirm_for_the_citizen(fed, store, citizen):
    browser, _ = _signed_in(fed, citizen)
    record = session_of(store, browser)
    page = browser.get(_logout_url(fed))
    form = BeautifulSoup(page.text, "html.parser").select_one(CONFIRM_FORM)
    fields = {i["name"]: i.get("value", "") for i in form.select("input")}

    other = Browser().post_form_data(f"{fed.proxy_url}/oidc/logout",
                                     {**fields, "confirmer": "oui"})

    assert other.status_code == 400 and error_code_of(other) == "deconnexion_expiree"
    assert store.get("sso-session", record["key"]) is not None
    # The citizen's own form still works.
    done = browser.submit(page, {}, form_selector=CONFIRM_FORM, button=("confirmer", "oui"))
    assert done.status_code == 200 and store.get("sso-session", record["key"]) is None


def test_an_unregistered_post_logout_address_ends_on_our_page(fed, store, citizen):
    browser, hint = _signed_in(fed, citizen)
    record = session_of(store, browser)

    page = browser.get(_logout_url(fed, id_token_hint=hint, state="x",
                                   post_logout_redirect_uri="https://ailleurs.example/"))

    assert store.get("sso-session", record["key"]) is None
    assert urlsplit(page.url).netloc == urlsplit(fed.proxy_url).netloc
    assert "ailleurs.example" not in page.text
    assert result_lists(page)["informed"]


def test_a_hint_signed_with_another_key_counts_as_no_hint(fed, store, citizen):
    browser, hint = _signed_in(fed, citizen)
    record = session_of(store, browser)
    forged = _sign(_claims(fed, hint), new_rsa_key())

    page = browser.get(_logout_url(fed, id_token_hint=forged,
                                   post_logout_redirect_uri=f"{fed.url('rp-a')}/"))

    assert _on_confirmation(page)
    done = browser.submit(page, {}, form_selector=CONFIRM_FORM, button=("confirmer", "oui"))
    assert store.get("sso-session", record["key"]) is None
    # After an invalid hint, never a redirect: the registered address is not used.
    assert urlsplit(done.url).netloc == urlsplit(fed.proxy_url).netloc


def test_an_expired_hint_of_ours_is_still_a_hint(fed, store, citizen):
    browser, hint = _signed_in(fed, citizen)
    record = session_of(store, browser)
    key = load_signing_key(fed.folder / "data" / "keys" / "oidc-signing.pem")
    claims = _claims(fed, hint)
    expired = _sign({**claims, "iat": claims["iat"] - 7200, "exp": int(time.time()) - 3600},
                    key)

    page = browser.get(_logout_url(fed, id_token_hint=expired, state="s",
                                   post_logout_redirect_uri=f"{fed.url('rp-a')}/"))

    assert store.get("sso-session", record["key"]) is None
    assert page.url.startswith(f"{fed.url('rp-a')}/?state=s")


def test_a_client_id_other_than_the_hints_audience_is_refused(fed, store, citizen):
    browser, hint = _signed_in(fed, citizen)
    record = session_of(store, browser)

    page = browser.get(_logout_url(fed, id_token_hint=hint, client_id="rp-b"))

    assert page.status_code == 400 and error_code_of(page) == "deconnexion_invalide"
    assert store.get("sso-session", record["key"]) is not None


def test_without_a_session_the_browser_goes_back_at_once(fed):
    page = Browser().get(_logout_url(fed, client_id="rp-a", state="z",
                                     post_logout_redirect_uri=f"{fed.url('rp-a')}/"))

    assert page.url.startswith(f"{fed.url('rp-a')}/?state=z")


def test_the_confirmation_page_lets_its_form_lead_to_every_hop_of_the_logout(fed, citizen):
    # Browsers apply form-action to the redirects after a form post: SAML services, the
    # identity source and the service to return to must all be listed.
    browser, _ = _signed_in(fed, citizen, services=("rp-a", "sp-a"))

    page = browser.get(_logout_url(fed, client_id="rp-a",
                                   post_logout_redirect_uri=f"{fed.url('rp-a')}/"))

    policy = page.headers["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert set(form_action.split()[1:]) == {"'self'", fed.url("sp-a"), fed.url("src-op"),
                                            fed.url("rp-a")}


def test_a_service_may_post_its_logout_request(fed, store, citizen):
    browser, hint = _signed_in(fed, citizen)
    record = session_of(store, browser)

    page = browser.post(f"{fed.proxy_url}/oidc/logout", {
        "id_token_hint": hint, "state": "p", "post_logout_redirect_uri": f"{fed.url('rp-a')}/"})

    assert store.get("sso-session", record["key"]) is None
    assert page.url.startswith(f"{fed.url('rp-a')}/?state=p")
