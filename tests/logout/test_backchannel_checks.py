"""The demo RP's back-channel endpoint checks what Back-Channel Logout 1.0 §2.6 asks of a relying
party, so "rp-b received a valid logout token" in the other tests means something: a token
signed with another key, one with a nonce, one for another client or one replayed is refused."""

from __future__ import annotations

import json

import pytest
import requests
from cryptojwt.jwk.rsa import new_rsa_key
from cryptojwt.jws.jws import JWS

from plugins.frontends.oidc.id_token import load_signing_key
from plugins.frontends.oidc.logout_token import logout_token


def _post(fed, service: str, token: str) -> requests.Response:
    return requests.post(f"{fed.url(service)}/logout/backchannel", data={"logout_token": token},
                         timeout=10)


def _proxy_key(fed):
    return load_signing_key(fed.folder / "data" / "keys" / "oidc-signing.pem")


def test_a_logout_token_of_the_proxy_is_accepted_once(fed):
    token = logout_token(_proxy_key(fed), issuer=fed.proxy_url, client_id="rp-b", sub="s",
                         sid="sid-1")

    first, again = _post(fed, "rp-b", token), _post(fed, "rp-b", token)

    assert first.status_code == 200
    assert again.status_code == 400 and fed.apps["rp-b"].backchannel_refusals[-1] == \
        "jeton_rejoue"


@pytest.mark.parametrize(("change", "refusal"), [
    ({"key": "other"}, "signature_invalide"),
    ({"claims": {"nonce": "n"}}, "nonce_interdit"),
    ({"claims": {"aud": "rp-a"}}, "audience_invalide"),
    ({"claims": {"events": {}}}, "evenement_absent"),
    ({"claims": {"iss": "https://ailleurs.example"}}, "emetteur_invalide"),
    ({"typ": "JWT"}, "type_invalide"),
], ids=["other-key", "nonce", "other-client", "no-event", "other-issuer", "typ"])
def test_a_logout_token_that_is_not_right_is_refused(fed, change, refusal):
    key = new_rsa_key() if change.get("key") == "other" else _proxy_key(fed)
    token = logout_token(_proxy_key(fed), issuer=fed.proxy_url, client_id="rp-b", sub="s",
                         sid="sid-2")
    claims = {**JWS().verify_compact(token, keys=[_proxy_key(fed)], sigalg="RS256"),
              **change.get("claims", {})}
    forged = JWS(json.dumps(claims), alg="RS256",
                 typ=change.get("typ", "logout+jwt")).sign_compact([key])

    answer = _post(fed, "rp-b", forged)

    assert answer.status_code == 400
    assert fed.apps["rp-b"].backchannel_refusals[-1] == refusal
