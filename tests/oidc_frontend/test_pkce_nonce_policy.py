"""PKCE and nonce policy (RFC 9700 §2.1.1, OIDC Core), cell by cell.

Clients: confidential with ``require_pkce`` true (client_secret_basic) and false
(client_secret_post, as a mod_auth_openidc 2.4 RP without ``OIDCPKCEMethod`` is registered),
public (``none``) as the schema allows it, and public with ``require_pkce: false`` (which
the schema refuses, and the frontend must ignore). Each cell either completes the code flow
(token, ID token verified with the JWKS, ``nonce`` claim present iff the request had one) or
is refused with ``invalid_request`` and a description naming the partner-file setting.
"""

from __future__ import annotations

import pytest

from .conftest import (
    CONFIDENTIAL,
    DEFERRED,
    POST_CLIENT,
    PUBLIC,
    PUBLIC_FLAG_OFF,
    Login,
    redirect_query,
)
from .test_code_flow import verified_claims
from .test_flow_state import flow_cookie
from .test_token_refusals import assert_error

#: The refusals' exact descriptions: what a partner's developer reads.
CHALLENGE_REQUIRED = (
    "code_challenge is required for this client (partner file: oidc.require_pkce; set the RP "
    "to send PKCE S256, e.g. OIDCPKCEMethod S256, or register require_pkce: false for a "
    "confidential client)")
CHALLENGE_REQUIRED_PUBLIC = (
    "code_challenge is required for a public client (partner file: "
    "oidc.token_endpoint_auth_method none; send PKCE S256, e.g. OIDCPKCEMethod S256)")
NONCE_REQUIRED = (
    "nonce is required when no code_challenge is sent (RFC 9700 2.1.1; partner file: "
    "oidc.require_pkce is false for this client; send a nonce, or PKCE S256)")
SENT_IS_ENFORCED = "PKCE sent is always enforced, whatever oidc.require_pkce says"

COMPLETES = None
#: (client, challenge sent, nonce sent) -> None when the flow completes, else
#: (description, the partner-file setting it names).
MATRIX: dict[tuple[str, bool, bool], tuple[str, str] | None] = {
    (CONFIDENTIAL, True, True): COMPLETES,
    (CONFIDENTIAL, True, False): COMPLETES,
    (CONFIDENTIAL, False, True): (CHALLENGE_REQUIRED, "oidc.require_pkce"),
    (CONFIDENTIAL, False, False): (CHALLENGE_REQUIRED, "oidc.require_pkce"),
    (POST_CLIENT, True, True): COMPLETES,
    (POST_CLIENT, True, False): COMPLETES,
    (POST_CLIENT, False, True): COMPLETES,
    (POST_CLIENT, False, False): (NONCE_REQUIRED, "oidc.require_pkce"),
    (PUBLIC, True, True): COMPLETES,
    (PUBLIC, True, False): COMPLETES,
    (PUBLIC, False, True): (CHALLENGE_REQUIRED_PUBLIC, "oidc.token_endpoint_auth_method"),
    (PUBLIC, False, False): (CHALLENGE_REQUIRED_PUBLIC, "oidc.token_endpoint_auth_method"),
    (PUBLIC_FLAG_OFF, True, True): COMPLETES,
    (PUBLIC_FLAG_OFF, True, False): COMPLETES,
    (PUBLIC_FLAG_OFF, False, True): (CHALLENGE_REQUIRED_PUBLIC,
                                     "oidc.token_endpoint_auth_method"),
    (PUBLIC_FLAG_OFF, False, False): (CHALLENGE_REQUIRED_PUBLIC,
                                      "oidc.token_endpoint_auth_method"),
}
KIND = {CONFIDENTIAL: "confidential-require_pkce_true",
        POST_CLIENT: "confidential-require_pkce_false",
        PUBLIC: "public-require_pkce_true", PUBLIC_FLAG_OFF: "public-require_pkce_false"}


def cell_id(cell: tuple[str, bool, bool]) -> str:
    client, challenge, nonce = cell
    return (f"{KIND[client]}-{'challenge' if challenge else 'no_challenge'}-"
            f"{'nonce' if nonce else 'no_nonce'}")


COMPLETING = [c for c, outcome in MATRIX.items() if outcome is COMPLETES]
REFUSED = [(c, outcome) for c, outcome in MATRIX.items() if outcome is not COMPLETES]


def authorize(op, client_id: str, challenge: bool, nonce: bool):
    rp = op.rps[client_id]
    params, verifier = op.authorization_params(rp, pkce=challenge,
                                               **({} if nonce else {"nonce": None}))
    return rp, params, verifier, op.authorize(params)


def op_redirect(resp, redirect_uri: str) -> dict[str, str]:
    assert resp.status_code == 303, resp.text[:300]
    return redirect_query(resp, redirect_uri)


@pytest.mark.parametrize("cell", COMPLETING, ids=[cell_id(c) for c in COMPLETING])
def test_the_code_flow_completes_and_the_id_token_carries_the_nonce_iff_sent(op, cell):
    client_id, challenge, nonce = cell

    login = op.login(client_id, pkce=challenge, **({} if nonce else {"nonce": None}))
    tokens = op.tokens(login)

    claims = verified_claims(op, tokens["id_token"])
    assert claims["aud"] == [client_id] and tokens["access_token"]
    if nonce:
        assert claims["nonce"] == login.nonce
    else:
        assert "nonce" not in claims


@pytest.mark.parametrize(("cell", "outcome"), REFUSED, ids=[cell_id(c) for c, _ in REFUSED])
def test_the_request_is_refused_naming_the_partner_file_setting(op, cell, outcome):
    client_id, challenge, nonce = cell
    description, setting = outcome

    rp, params, _, resp = authorize(op, client_id, challenge, nonce)

    query = op_redirect(resp, rp.redirect_uri)
    assert "code" not in query and query["state"] == params["state"]
    assert query["error"] == "invalid_request"
    assert query["error_description"] == description
    assert setting in description and description.isascii()


# -- PKCE a client sends is enforced, whatever its partner file says -------------------


def test_pkce_sent_by_a_client_with_require_pkce_false_needs_the_right_verifier(op):
    login = op.login(POST_CLIENT, pkce=True)

    resp = op.token(login, code_verifier="w" * 64)

    assert_error(resp, "invalid_grant")
    assert SENT_IS_ENFORCED in resp.json()["error_description"]


def test_pkce_sent_by_a_client_with_require_pkce_false_needs_a_verifier(op):
    login = op.login(POST_CLIENT, pkce=True)

    resp = op.token(login, code_verifier=None)

    assert_error(resp, "invalid_grant")
    assert resp.json()["error_description"] == (
        f"code_verifier is required: a code_challenge was sent ({SENT_IS_ENFORCED})")


def test_a_refused_verifier_burns_the_code_of_a_require_pkce_false_client(op):
    login = op.login(POST_CLIENT, pkce=True)
    assert_error(op.token(login, code_verifier="w" * 64), "invalid_grant")

    assert_error(op.token(login), "invalid_grant")


def test_a_verifier_without_challenge_names_the_setting(op):
    login = op.login(POST_CLIENT, pkce=False)

    resp = op.token(login, code_verifier="v" * 64)

    assert_error(resp, "invalid_grant")
    assert "oidc.require_pkce" in resp.json()["error_description"]


# -- a request without nonce through the shared flow state ------------------------------


def test_a_request_without_nonce_survives_the_flow_state_and_gets_no_nonce_claim(op):
    rp = op.rps[DEFERRED]
    params, verifier = op.authorization_params(rp, nonce=None)
    first = op.authorize(params)
    assert first.status_code == 303 and first.headers["Location"].endswith("/reponse")

    second = op.http.get(first.headers["Location"], allow_redirects=False, timeout=10,
                         headers={"Cookie": flow_cookie(first)})

    code = op_redirect(second, rp.redirect_uri)["code"]
    tokens = op.tokens(Login(rp, code, params["state"], None, verifier, rp.redirect_uri))
    assert "nonce" not in verified_claims(op, tokens["id_token"])
