"""Codes and SAML responses are one-time, whichever worker receives the replay."""

from __future__ import annotations

import base64
import hashlib
import secrets
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qs, urlencode, urlsplit

import requests

from idp.testbed.browser import Browser, error_code_of
from idp.testbed.login import sign_in, start


def _saml_response_posted_to_proxy(fed, citizen):
    """Log in SAML->SAML and return the browser and the IdP's post to the proxy's ACS."""
    browser = Browser()
    page = start(browser, fed.url("sp-idp"))
    sign_in(browser, page, citizen)
    acs = f"{fed.proxy_url}/src-idp/saml2/acs"
    posts = [data for url, data in browser.posts if url == acs]
    assert len(posts) == 1
    return browser, acs, posts[0]


def test_saml_response_posted_twice_is_refused_on_every_worker(fed, citizen):
    browser, acs, fields = _saml_response_posted_to_proxy(fed, citizen)
    mark = fed.access_log_mark()
    # Eight replays at once, from this browser and from fresh ones, so they spread over workers.
    senders = [browser] * 4 + [Browser() for _ in range(4)]
    with ThreadPoolExecutor(8) as pool:
        replays = list(pool.map(lambda b: b.post_form_data(acs, fields), senders))
    for resp in replays:
        assert resp.status_code == 400
        assert "Location" not in resp.headers
        assert error_code_of(resp) in {"reponse_rejouee", "session_expiree"}
    assert len(fed.worker_pids_seen("/src-idp/saml2/acs", since=mark)) >= 2


def _code_for(fed, browser, citizen, verifier):
    """An authorization code for rp-op obtained with our own PKCE verifier."""
    rp = fed.url("rp-op")
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    page = browser.get(f"{fed.proxy_url}/oidc/authorize?" + urlencode({
        "client_id": "rp-op", "redirect_uri": f"{rp}/callback", "response_type": "code",
        "scope": "openid profile", "state": "etat-1", "nonce": "nonce-1",
        "code_challenge": challenge, "code_challenge_method": "S256"}))
    redirect = sign_in(browser, page, citizen, stop_at=f"{rp}/callback")
    return parse_qs(urlsplit(redirect.headers["Location"]).query)["code"][0]


def redeem_request(fed, code: str, verifier: str) -> tuple[str, dict, tuple[str, str]]:
    """(token endpoint, form, client credentials) redeeming ``code`` for rp-op."""
    form = {"grant_type": "authorization_code", "code": code,
            "redirect_uri": f"{fed.url('rp-op')}/callback", "code_verifier": verifier}
    return f"{fed.proxy_url}/oidc/token", form, ("rp-op", fed.client_secrets["rp-op"])


def test_oidc_code_redeemed_twice_is_refused(fed, citizen):
    verifier = secrets.token_urlsafe(48)
    code = _code_for(fed, Browser(), citizen, verifier)
    token_url, form, auth = redeem_request(fed, code, verifier)
    first = requests.post(token_url, data=form, auth=auth, timeout=10)
    assert first.status_code == 200, first.text
    assert first.headers["Cache-Control"] == "no-store"
    second = requests.post(token_url, data=form, auth=auth, timeout=10)
    assert second.status_code == 400
    assert second.json()["error"] == "invalid_grant"
