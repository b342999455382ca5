"""The discovery document says what the provider does; the JWKS holds the public key only."""

from __future__ import annotations

from cryptojwt.jwk.jwk import key_from_jwk_dict


def test_discovery_document_describes_the_code_flow_only(op):
    doc = op.http.get(op.url(".well-known/openid-configuration"), timeout=10).json()

    assert doc["issuer"] == op.base_url
    assert doc["authorization_endpoint"] == op.url("oidc/authorize")
    assert doc["token_endpoint"] == op.url("oidc/token")
    assert doc["userinfo_endpoint"] == op.url("oidc/userinfo")
    assert doc["jwks_uri"] == op.url("oidc/jwks")
    assert doc["response_types_supported"] == ["code"]
    assert doc["response_modes_supported"] == ["query"]
    assert doc["grant_types_supported"] == ["authorization_code"]
    assert doc["subject_types_supported"] == ["pairwise"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic", "client_secret_post", "private_key_jwt", "none"}
    assert doc["authorization_response_iss_parameter_supported"] is True
    assert doc["request_parameter_supported"] is False
    assert doc["request_uri_parameter_supported"] is False


def test_discovery_lists_scopes_and_claims_of_the_dictionary(op):
    doc = op.http.get(op.url(".well-known/openid-configuration"), timeout=10).json()

    assert doc["scopes_supported"][0] == "openid"
    assert set(doc["scopes_supported"]) == {"openid", "profile", "birth", "email", "phone",
                                            "address", "cafat", "entreprise"}
    assert {"sub", "given_name", "family_name", "birthdate", "birthplace", "email",
            "phone_number", "address", "province", "cafat_number", "ridet",
            "company_name"} <= set(doc["claims_supported"])


def test_every_published_endpoint_answers(op):
    doc = op.http.get(op.url(".well-known/openid-configuration"), timeout=10).json()

    for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"):
        assert op.http.get(doc[name], timeout=10).status_code != 404, name


def test_jwks_has_one_rs256_signing_key_without_private_parts(op):
    jwks = op.http.get(op.url("oidc/jwks"), timeout=10).json()

    [key] = jwks["keys"]
    assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi", "oth"} & set(key)


def test_jwks_kid_is_the_rfc7638_thumbprint(op):
    [key] = op.http.get(op.url("oidc/jwks"), timeout=10).json()["keys"]

    assert key["kid"] == key_from_jwk_dict(key).thumbprint("SHA-256").decode()


def test_jwks_key_is_the_configured_signing_key(op):
    from cryptography.hazmat.primitives import serialization

    [key] = op.http.get(op.url("oidc/jwks"), timeout=10).json()["keys"]
    private = serialization.load_pem_private_key(op.keys.oidc_signing_key.read_bytes(), None)

    assert key_from_jwk_dict(key).public_key().public_numbers() == \
        private.public_key().public_numbers()
