"""CSRF and at-rest secrets rotate with overlap: what the previous one made is accepted until
it is retired; logout tokens follow the active OIDC key."""

from __future__ import annotations

import pytest

from idp.csrf import csrf_ok, csrf_secrets, csrf_token
from idp.keyring import Overlaps, loader, secret_set
from idp.keyring import rules as keyring_rules
from idp.keyring.storage import read_keyring
from idp.keys import KeyPaths
from idp.stores.sealing import AtRestKey, Unsealable
from plugins.frontends.oidc.id_token import SigningKeys
from plugins.frontends.oidc.logout_token import logout_token

from .conftest import header

NO_WAIT = Overlaps({})


@pytest.fixture(autouse=True)
def check_at_every_use(monkeypatch):
    """Workers look at the state file once a second; here, at every use."""
    monkeypatch.setattr(loader, "CHECK_INTERVAL", 0.0)


def _rotate(folder, purpose):
    old = read_keyring(folder).active(purpose)
    new = keyring_rules.add(folder, purpose, 0)
    keyring_rules.activate(folder, purpose, new.kid)
    return old, new


def test_csrf_token_of_previous_secret_is_accepted_until_retired(keys_dir):
    folder = keys_dir / "keys"
    secrets_ = csrf_secrets(KeyPaths(folder).csrf_secret)
    before = csrf_token(secrets_, "flow-1", "choix")

    old, _new = _rotate(folder, "csrf")
    after = csrf_token(secrets_, "flow-1", "choix")
    assert after != before  # made with the new secret
    assert csrf_ok(secrets_, "flow-1", "choix", before)
    assert csrf_ok(secrets_, "flow-1", "choix", after)
    assert not csrf_ok(secrets_, "flow-2", "choix", before)

    keyring_rules.retire(folder, "csrf", old.kid, NO_WAIT)
    assert not csrf_ok(secrets_, "flow-1", "choix", before)
    assert csrf_ok(secrets_, "flow-1", "choix", after)


def test_record_sealed_with_previous_at_rest_key_opens_until_retired(keys_dir):
    folder = keys_dir / "keys"
    key = AtRestKey(secret_set(KeyPaths(folder).at_rest_key, "at-rest"))
    sealed = key.seal("sso", "k1", {"nameid": "abc"})

    old, _new = _rotate(folder, "at-rest")
    resealed = key.seal("sso", "k1", {"nameid": "abc"})
    assert key.unseal("sso", "k1", sealed) == {"nameid": "abc"}
    assert key.unseal("sso", "k1", resealed) == {"nameid": "abc"}

    keyring_rules.retire(folder, "at-rest", old.kid, NO_WAIT)
    with pytest.raises(Unsealable):
        key.unseal("sso", "k1", sealed)
    assert key.unseal("sso", "k1", resealed) == {"nameid": "abc"}


def test_logout_tokens_are_signed_by_the_active_key_with_its_kid(keys_dir):
    folder = keys_dir / "keys"
    keys = SigningKeys.from_path(KeyPaths(folder).oidc_signing_key)
    _old, new = _rotate(folder, "oidc-signing")
    token = logout_token(keys.active(), issuer="https://ncconnect.test", client_id="rp",
                         sub="s", sid=None)
    assert header(token)["kid"] == new.kid
    assert [k.kid for k in keys.published()] == [new.kid, _old.kid]
