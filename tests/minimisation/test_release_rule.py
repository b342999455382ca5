"""Minimisation: allowed for the partner ∩ asked in this request ∩ provided by the source.

These tests drive the real micro-services (SATOSA's contract: ``process(context,
data)`` then ``next``) with real SATOSA objects; the end-to-end tests in
``test_four_paths_minimisation.py`` do the same through the protocols.
"""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from satosa.attribute_mapping import AttributeMapper
from satosa.context import Context
from satosa.internal import AuthenticationInformation, InternalData
from satosa.state import State

from idp.dictionary import load_dictionary
from idp.errors import FlowError
from plugins.frontends.oidc.claims import release
from plugins.frontends.saml2.release import saml_identity
from plugins.micro_services.minimisation import (
    STATE_KEY,
    Minimisation,
    RecordRequestedAttributes,
    decide,
)
from plugins.micro_services.pairwise import PairwiseSubject

DICTIONARY = load_dictionary(Path(__file__).resolve().parents[2] / "attributs" /
                             "dictionnaire.yaml")
NAMES = sorted(DICTIONARY.attributes)
CONVERTER = AttributeMapper(DICTIONARY.internal_attributes())
VALUES = {"given_name": "Marie", "family_name": "Wamytan", "preferred_username": "Wamytan",
          "birthdate": "1987-05-14", "gender": "female", "birthplace": "98814",
          "birthcountry": "99100", "email": "m@example.nc", "phone_number": "+687781234",
          "address": "1 rue A, Nouméa", "province": "Province Sud", "cafat_number": "1234567",
          "ridet": "1234567.001", "company_name": "SARL Démo"}


class Sink:
    """SATOSA's ``next``: what the micro-service hands on (to the frontend, eventually)."""

    def __init__(self) -> None:
        self.calls: list[InternalData] = []

    def __call__(self, context: Context, data: InternalData) -> InternalData:
        self.calls.append(data)
        return data


def minimisation(services: dict, sources: dict) -> tuple[Minimisation, Sink]:
    service = Minimisation({"services": services, "sources": sources}, name="minimisation",
                           base_url="https://ncconnect.example.nc")
    service.next = Sink()
    return service, service.next


def context_for(requester: str, asked: list[str], source: str) -> Context:
    context = Context()
    context.state = State()
    context.target_backend = source
    recorder = RecordRequestedAttributes(name="demande", base_url="https://x.example.nc")
    recorder.next = lambda ctx, data: data
    recorder.process(context, InternalData(requester=requester, attributes=asked))
    return context


def response(requester: str, attributes: dict[str, list[str]]) -> InternalData:
    data = InternalData(auth_info=AuthenticationInformation("urn:loa", "2026-01-01T00:00:00Z",
                                                            "https://source.example.nc"),
                        requester=requester, subject_id="src-a:42")
    data.attributes = attributes
    return data


def test_a_service_gets_exactly_allowed_and_asked_among_what_the_source_sent():
    service, sink = minimisation({"svc": {"service_id": "svc",
                                          "allowed": ["family_name", "birthdate"]}},
                                 {"src-a": NAMES})
    context = context_for("svc", ["family_name", "birthdate", "email", "gender"], "src-a")
    service.process(context, response("svc", {n: [VALUES[n]] for n in NAMES}))
    assert sink.calls[0].attributes == {"family_name": ["Wamytan"], "birthdate": ["1987-05-14"]}


def test_an_attribute_the_source_is_not_declared_to_provide_is_withheld():
    service, sink = minimisation({"svc": {"service_id": "svc", "allowed": ["email"]}},
                                 {"src-a": ["given_name"]})
    context = context_for("svc", ["email"], "src-a")
    service.process(context, response("svc", {"email": ["m@example.nc"]}))
    assert sink.calls[0].attributes == {}


def test_an_unregistered_service_gets_an_error_and_nothing_is_handed_on():
    service, sink = minimisation({"svc": {"service_id": "svc", "allowed": ["email"]}},
                                 {"src-a": NAMES})
    context = context_for("intrus", ["email"], "src-a")
    with pytest.raises(FlowError) as err:
        service.process(context, response("intrus", {"email": ["m@example.nc"]}))
    assert err.value.code == "service_non_autorise"
    assert sink.calls == []


def test_a_response_without_the_request_on_record_is_refused():
    service, sink = minimisation({"svc": {"service_id": "svc", "allowed": ["email"]}},
                                 {"src-a": NAMES})
    context = context_for("svc", ["email"], "src-a")
    del context.state[STATE_KEY]
    with pytest.raises(FlowError):
        service.process(context, response("svc", {"email": ["m@example.nc"]}))
    assert sink.calls == []


def test_a_response_from_an_unknown_source_is_refused():
    service, sink = minimisation({"svc": {"service_id": "svc", "allowed": ["email"]}},
                                 {"src-a": NAMES})
    context = context_for("svc", ["email"], "src-inconnue")
    with pytest.raises(FlowError):
        service.process(context, response("svc", {"email": ["m@example.nc"]}))
    assert sink.calls == []


def test_the_decision_is_audited_by_attribute_names_only(caplog):
    service, _sink = minimisation({"svc": {"service_id": "svc", "allowed": ["family_name"]}},
                                  {"src-a": NAMES})
    context = context_for("svc", ["family_name", "email"], "src-a")
    with caplog.at_level(logging.INFO, logger="ncconnect.audit"):
        service.process(context, response("svc", {"family_name": ["Wamytan"],
                                                  "email": ["m@example.nc"]}))
    record = [r for r in caplog.records if r.name == "ncconnect.audit"][-1]
    assert record.event == "attributes_released"
    assert record.audit["released"] == ["family_name"] and record.audit["withheld"] == ["email"]
    assert record.audit["service"] == "svc" and record.audit["source"] == "src-a"
    assert "Wamytan" not in caplog.text and "m@example.nc" not in caplog.text


# -- property: nothing outside the allowed set, ever ------------------------------------

names = st.sets(st.sampled_from(NAMES))
junk = st.sets(st.text(alphabet="abcdefghij_", min_size=1, max_size=12), max_size=3)
registries = st.dictionaries(st.sampled_from(["svc-a", "svc-b", "svc-c"]), names, max_size=3)


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(registry=registries, requester=st.sampled_from(["svc-a", "svc-b", "svc-c", "intrus"]),
       asked=names, provided=names, sent=names, extra=junk)
def test_no_response_ever_carries_an_attribute_outside_the_partners_allowed_set(
        tmp_path, registry, requester, asked, provided, sent, extra):
    secret_file = tmp_path / "pairwise.secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_hex(32))
    services = {sid: {"service_id": sid, "allowed": sorted(allowed)}
                for sid, allowed in registry.items()}
    chain_end = Sink()
    pairwise = PairwiseSubject({"sectors": {sid: f"service:{sid}" for sid in registry},
                                "pairwise_secret_path": str(secret_file)},
                               name="pairwise", base_url="https://x.example.nc")
    service, _ = minimisation(services, {"src-a": sorted(provided)})
    pairwise.next, service.next = service.process, chain_end
    attributes = {n: [VALUES[n]] for n in sent} | {j: ["leak"] for j in extra}

    context = context_for(requester, sorted(asked), "src-a")
    try:
        pairwise.process(context, response(requester, attributes))
    except FlowError:
        assert requester not in registry
        assert chain_end.calls == []
        return

    allowed = registry[requester]
    [out] = chain_end.calls
    assert set(out.attributes) <= allowed & asked & provided
    assert set(out.attributes) == allowed & asked & provided & sent
    # ...and what the frontends build from it stays inside the allowed set too.
    claims = release(CONVERTER.from_internal("openid", out.attributes),
                     [DICTIONARY.attributes[n].oidc.claim for n in NAMES])
    assert set(claims) <= {DICTIONARY.attributes[n].oidc.claim for n in allowed}
    saml = saml_identity(CONVERTER, out.attributes, NAMES)
    assert set(saml) <= {DICTIONARY.attributes[n].saml.name for n in allowed}


def test_decide_releases_the_intersection_and_withholds_the_rest_of_what_was_sent():
    decision = decide(["a", "b", "c"], ["b", "c", "d"], ["c", "b"], ["b", "x"])
    assert decision.released == {"b"}
    assert decision.withheld == {"x"}
