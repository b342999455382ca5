"""The sealing module on its own: what opens, what does not."""

from __future__ import annotations

import os
import stat

import pytest

from idp.stores.sealing import AtRestKey, Unsealable, ensure_at_rest_key, seal, unseal

COOKIE = "c" * 43
VALUE = {"given_name": ["Marie-Claire"], "birthdate": "1987-05-14"}


def test_a_sealed_value_opens_with_its_secret_namespace_and_key():
    blob = seal(COOKIE, "sso-session", "k1", VALUE)

    assert unseal(COOKIE, "sso-session", "k1", blob) == VALUE
    assert "Marie" not in blob and "1987" not in blob


def test_another_secret_does_not_open_it():
    blob = seal(COOKIE, "sso-session", "k1", VALUE)

    with pytest.raises(Unsealable):
        unseal("d" * 43, "sso-session", "k1", blob)


def test_a_blob_moved_to_another_record_does_not_open():
    blob = seal(COOKIE, "sso-session", "k1", VALUE)

    with pytest.raises(Unsealable):
        unseal(COOKIE, "sso-session", "k2", blob)
    with pytest.raises(Unsealable):
        unseal(COOKIE, "oidc-code", "k1", blob)


def test_a_tampered_blob_does_not_open():
    blob = seal(COOKIE, "flow", "k1", VALUE)
    flipped = blob[:-5] + ("A" if blob[-5] != "A" else "B") + blob[-4:]

    with pytest.raises(Unsealable):
        unseal(COOKIE, "flow", "k1", flipped)
    with pytest.raises(Unsealable):
        unseal(COOKIE, "flow", "k1", blob[:20])


def test_a_record_of_an_older_version_does_not_open():
    for old in (None, {"given_name": ["Marie-Claire"]}, "Marie-Claire", "s1.!!!"):
        with pytest.raises(Unsealable):
            unseal(COOKIE, "flow", "k1", old)


def test_each_seal_draws_a_new_nonce():
    assert seal(COOKIE, "flow", "k1", VALUE) != seal(COOKIE, "flow", "k1", VALUE)


def test_the_at_rest_key_and_a_cookie_never_open_each_others_blobs():
    secret = b"s" * 32
    at_rest = AtRestKey(secret)
    blob = at_rest.seal("sso-session", "k1", VALUE)

    assert at_rest.unseal("sso-session", "k1", blob) == VALUE
    with pytest.raises(Unsealable):
        unseal(secret, "sso-session", "k1", blob)  # same bytes, other purpose
    with pytest.raises(Unsealable):
        AtRestKey(b"t" * 32).unseal("sso-session", "k1", blob)
    assert "s" * 8 not in repr(at_rest)


def test_the_at_rest_key_file_is_created_once_private_and_read_back(tmp_path):
    path = tmp_path / "keys" / "at-rest.secret"

    assert ensure_at_rest_key(path) is True
    first = path.read_text()
    assert ensure_at_rest_key(path) is False and path.read_text() == first
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    key = AtRestKey.from_file(path)
    assert key.unseal("n", "k", key.seal("n", "k", VALUE)) == VALUE
