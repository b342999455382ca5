"""Test citizens of the demo identity sources: fictitious, but shaped like New Caledonia.

Families from the territory's communities (Kanak, Caldoche, Wallisian, Vietnamese,
Tahitian), born in real communes identified by their COG (INSEE) codes, so
birthplace handling is exercised with the values a real source would send.
Claims use the OIDC names; the SAML source maps them to ``urn:oid`` attributes.
The demo prints these usernames and passwords: they protect nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

#: COG code of France, the birth country of every citizen born in New Caledonia.
FRANCE = "99100"

#: COG codes of the New Caledonian communes used below.
LIFOU = "98814"
BOURAIL = "98803"
KONE = "98811"
NOUMEA = "98818"
MARE = "98815"


@dataclass(frozen=True)
class Citizen:
    username: str
    password: str
    claims: dict[str, str]


def _citizen(username: str, given: str, family: str, usage: str, birthdate: str, gender: str,
             birthplace: str, phone: str) -> Citizen:
    return Citizen(username=username, password="demo", claims={
        "given_name": given,
        "family_name": family,
        "preferred_username": usage,
        "birthdate": birthdate,
        "gender": gender,
        "birthplace": birthplace,
        "birthcountry": FRANCE,
        "email": f"{username}@example.nc",
        "phone_number": phone,
    })


CITIZENS: list[Citizen] = [
    _citizen("marie.wamytan", "Marie-Claire", "Wamytan", "Wamytan", "1987-05-14", "female",
             LIFOU, "+687781234"),
    _citizen("jean.vautrin", "Jean-Louis Marcel", "Vautrin", "Vautrin", "1962-09-03", "male",
             BOURAIL, "+687442517"),
    # Married name in use: preferred_username (nom d'usage) differs from the birth name.
    _citizen("malia.tuifua", "Malia Soane", "Falelavaki", "Tuifua", "1979-11-22", "female",
             KONE, "+687795602"),
    _citizen("paul.tran", "Paul Van Long", "Tran", "Tran", "1991-02-08", "male",
             NOUMEA, "+687923318"),
    _citizen("teva.teriitehau", "Teva Heimana", "Teriitehau", "Teriitehau", "2001-07-30", "male",
             MARE, "+687835741"),
]


def find_citizen(citizens: list[Citizen], username: str) -> Citizen | None:
    for citizen in citizens:
        if citizen.username == username:
            return citizen
    return None
