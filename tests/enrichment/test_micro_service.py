"""The enrichment micro-service on its own, against the real Province slapd: it never
overrides what the source gave, and it notes the provenance of what it added only."""

from __future__ import annotations

import pytest
from satosa.context import Context
from satosa.internal import InternalData
from satosa.state import State

from idp.dictionary import load_dictionary
from idp.dictionary.normalise import readings_for
from idp.testbed.federation import DICTIONARY
from idp.testbed.slapd import PROVINCE_SUFFIX
from plugins.micro_services.enrichment import Enrichment
from plugins.micro_services.minimisation import STATE_KEY as ASKED
from plugins.micro_services.provenance import provenance_of

from .conftest import PIVOT_FILTER, PROVINCE, directory_file

MARIE = {"family_name": ["Wamytan"], "given_name": ["Marie-Claire"],
         "birthdate": ["1987-05-14"], "birthplace": ["98814"]}
WANTED = ["given_name", "address", "phone_number", "province"]


@pytest.fixture(scope="module")
def enrichment(slapd) -> Enrichment:
    partner = directory_file(slapd.url, f"ou=usagers,{PROVINCE_SUFFIX}",
                             slapd.admin_dn(PROVINCE_SUFFIX))
    service = Enrichment({
        "services": {"rp": {"service_id": "rp", "allowed": WANTED, "enrichment": True}},
        "directories": [{
            "id": "province-sud", "organisation": PROVINCE, "match": PIVOT_FILTER,
            "when_unavailable": "continue",
            "ldap": {"name": "province-sud", "url": slapd.url,
                     "base_dn": partner["ldap"]["base_dn"],
                     "bind_dn": slapd.admin_dn(PROVINCE_SUFFIX),
                     "bind_password": slapd.admin_password},
            "attributes": readings_for(load_dictionary(DICTIONARY), "ldap",
                                       partner["attributes"])}]},
        name="enrichissement", base_url="http://127.0.0.1")
    service.next = lambda context, data: data
    return service


def _run(enrichment: Enrichment, attributes: dict, asked: list[str]) -> tuple[dict, dict]:
    context = Context()
    context.state = State()
    context.state[ASKED] = {"requester": "rp", "asked": asked}
    data = InternalData(requester="rp")
    data.attributes = {k: list(v) for k, v in attributes.items()}
    out = enrichment.process(context, data)
    return out.attributes, provenance_of(context)


def test_what_the_source_gave_is_kept_and_only_the_rest_is_added(enrichment):
    attributes, provenance = _run(enrichment, {**MARIE, "phone_number": ["+687700000"]}, WANTED)
    assert attributes["phone_number"] == ["+687700000"]
    assert attributes["province"] == ["Province Sud"]
    assert set(provenance) == {"address", "province"}
    assert provenance["province"] == {"directory": "province-sud", "organisation": PROVINCE}


def test_only_what_the_request_asked_for_is_looked_up(enrichment):
    attributes, provenance = _run(enrichment, MARIE, ["given_name", "province"])
    assert set(attributes) - set(MARIE) == {"province"}
    assert set(provenance) == {"province"}
