"""The demo's test citizens: every federation claim, in the formats sources send."""

from __future__ import annotations

import datetime as dt
import re

from idp.demo.attributes import ATTRIBUTES
from idp.demo.citizens import CITIZENS

#: COG codes of the 33 communes of New Caledonia.
NC_COMMUNES = {f"988{n:02d}" for n in range(1, 34)}


def test_five_citizens_with_unique_usernames():
    assert len(CITIZENS) == 5
    assert len({c.username for c in CITIZENS}) == 5


def test_every_citizen_has_every_federation_claim():
    for citizen in CITIZENS:
        assert set(citizen.claims) == set(ATTRIBUTES), citizen.username


def test_claims_use_the_formats_of_a_real_source():
    for c in CITIZENS:
        claims = c.claims
        dt.date.fromisoformat(claims["birthdate"])
        assert claims["gender"] in ("female", "male")
        assert claims["birthplace"] in NC_COMMUNES and claims["birthcountry"] == "99100"
        assert claims["email"] == f"{c.username}@example.nc"
        assert re.fullmatch(r"\+687\d{6}", claims["phone_number"])


def test_one_citizen_uses_a_married_name_different_from_her_birth_name():
    assert any(c.claims["preferred_username"] != c.claims["family_name"] for c in CITIZENS)


def test_the_documented_demo_account_exists():
    marie = next(c for c in CITIZENS if c.username == "marie.wamytan")
    assert marie.password == "demo"
