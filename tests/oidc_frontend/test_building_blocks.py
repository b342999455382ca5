"""The small pure pieces the endpoints rely on, against their specifications."""

from __future__ import annotations

import datetime as dt
import time

from idp.auth_instant import auth_time_of
from plugins.frontends.oidc.claims import release
from plugins.frontends.oidc.pkce import s256, verifier_matches


def test_s256_matches_the_rfc7636_appendix_b_example():
    assert s256("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk") == \
        "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_verifier_must_hash_to_the_challenge():
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

    assert verifier_matches(verifier, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")
    assert not verifier_matches(verifier[:-1] + "F", "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM")


def test_plain_verifier_equal_to_the_challenge_does_not_match():
    challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"

    assert not verifier_matches(challenge, challenge)


def test_single_values_become_scalars_and_several_stay_a_list():
    claims = release({"email": ["a@b.nc"], "given_name": ["Jean", "Pierre"], "gender": []},
                     ["email", "given_name", "gender"])

    assert claims == {"email": "a@b.nc", "given_name": ["Jean", "Pierre"]}


def test_release_keeps_only_the_named_claims():
    assert release({"email": ["a@b.nc"], "birthdate": ["2000-01-01"]}, ["email"]) == \
        {"email": "a@b.nc"}


def test_auth_time_reads_iso_and_epoch_timestamps():
    moment = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.UTC)

    assert auth_time_of(moment.isoformat()) == int(moment.timestamp())
    assert auth_time_of("2024-05-01T10:00:00Z") == int(moment.timestamp())
    assert auth_time_of(int(moment.timestamp())) == int(moment.timestamp())


def test_auth_time_falls_back_to_now_for_unusable_values():
    now = int(time.time())
    for value in (None, "", "hier", float("nan"), True, now + 3600, -5, [now]):
        assert now <= auth_time_of(value) <= now + 2, value
