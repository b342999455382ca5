"""An OIDC signing key rollover on a running proxy (gunicorn, two workers): published first,
then signing, the old one verifying until retired — at relying parties that cache the JWKS."""

from __future__ import annotations

import pytest
import requests

from idp.keyring import view_for

from .conftest import CachingRP, header, keys_command, kid_of, rotate, sign_in


def _id_token(fed, browser) -> str:
    rp = fed.apps["rp-op"]
    cookies = [c.value for c in browser.session.cookies if c.name.startswith("demo_rp_")]
    token = rp.id_token_of(cookies[-1])
    assert token, "no ID token at the RP"
    return token


def _jwks_kids(fed) -> list[str]:
    return [k["kid"] for k in requests.get(f"{fed.proxy_url}/oidc/jwks", timeout=10).json()["keys"]]


def test_tokens_of_old_and_new_key_verify_during_rollover_and_only_new_after(fed):
    folder = fed.folder / "data" / "keys"
    old = view_for(folder).refresh(force=True).active("oidc-signing")
    assert old is not None

    browser, _ = sign_in(fed, "rp-op")
    old_token = _id_token(fed, browser)
    assert header(old_token)["kid"] == old.kid
    early_rp = CachingRP(f"{fed.proxy_url}/oidc/jwks")
    early_rp.verify(old_token)

    # Published: in the JWKS of every worker, not signing yet.
    new_kid = kid_of(rotate(fed, "add", "oidc-signing", options=("--activate-after", "0")))
    for _ in range(6):
        assert _jwks_kids(fed) == [old.kid, new_kid]
    window_rp = CachingRP(f"{fed.proxy_url}/oidc/jwks")
    window_rp.fetch()  # refreshed during the publication window

    rotate(fed, "activate", "oidc-signing", new_kid)
    mark = fed.access_log_mark()
    new_tokens = []
    for _ in range(8):  # until both workers have signed ID tokens
        browser, _ = sign_in(fed, "rp-op")
        assert fed.apps["rp-op"].last_result is not None, "the demo RP refused the token"
        new_tokens.append(_id_token(fed, browser))
        if len(fed.worker_pids_seen("/oidc/token", since=mark)) >= 2:
            break
    assert len(fed.worker_pids_seen("/oidc/token", since=mark)) == 2
    # Two workers agree on the active key.
    assert {header(t)["kid"] for t in new_tokens} == {new_kid}
    fetches = window_rp.fetches
    for token in new_tokens:
        window_rp.verify(token)
    assert window_rp.fetches == fetches  # known since the publication window
    early_rp.verify(new_tokens[0])  # an unknown kid: fetched once more
    early_rp.verify(old_token)  # the old key is still published
    CachingRP(f"{fed.proxy_url}/oidc/jwks").verify(old_token)

    # Retired (forced: the old token's 5 minutes have not passed): gone from the JWKS.
    refused = keys_command(fed, "retire", "oidc-signing", old.kid)
    assert refused.exit_code == 2 and "--force" in refused.output
    rotate(fed, "retire", "oidc-signing", old.kid, options=("--force",))
    for _ in range(6):
        assert _jwks_kids(fed) == [new_kid]
    fresh = CachingRP(f"{fed.proxy_url}/oidc/jwks")
    fresh.verify(new_tokens[-1])
    with pytest.raises(ValueError, match="not in the JWKS"):
        fresh.verify(old_token)
