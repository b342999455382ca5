"""The pairwise micro-service: one pseudonym per citizen and sector, from a secret on disk."""

from __future__ import annotations

import secrets

import pytest
from satosa.context import Context
from satosa.internal import InternalData
from satosa.state import State

from idp.errors import FlowError
from plugins.micro_services.pairwise import PairwiseSubject, citizen_of, pairwise_subject_of

MARIE = {"family_name": ["Wamytan"], "given_name": ["Marie-Claire"],
         "birthdate": ["1987-05-14"], "gender": ["female"], "birthplace": ["98814"],
         "birthcountry": ["99100"]}
SECTORS = {"svc-a": "service:svc-a", "svc-b": "service:svc-b",
           "sante-1": "sector:sante", "sante-2": "sector:sante"}


@pytest.fixture
def secret_file(tmp_path):
    path = tmp_path / "pairwise.secret"
    path.write_text(secrets.token_hex(32))
    return path


def derive(secret_file, requester: str, subject: str = "src-a:42",
           attributes: dict | None = None) -> tuple[InternalData, Context]:
    """One process's instance of the micro-service, as a gunicorn worker would build it."""
    service = PairwiseSubject({"sectors": SECTORS, "pairwise_secret_path": str(secret_file)},
                              name="pairwise", base_url="https://ncconnect.example.nc")
    service.next = lambda context, data: data
    context = Context()
    context.state = State()
    data = InternalData(requester=requester, subject_id=subject)
    data.attributes = dict(MARIE if attributes is None else attributes)
    return service.process(context, data), context


def test_the_same_citizen_gets_the_same_id_from_two_instances(secret_file):
    assert derive(secret_file, "svc-a")[0].subject_id == derive(secret_file, "svc-a")[0].subject_id


def test_two_services_get_different_ids(secret_file):
    assert derive(secret_file, "svc-a")[0].subject_id != derive(secret_file, "svc-b")[0].subject_id


def test_services_of_one_sector_get_the_same_id(secret_file):
    assert derive(secret_file, "sante-1")[0].subject_id == \
        derive(secret_file, "sante-2")[0].subject_id


def test_another_secret_gives_unrelated_ids(secret_file, tmp_path):
    other = tmp_path / "other.secret"
    other.write_text(secrets.token_hex(32))
    assert derive(secret_file, "svc-a")[0].subject_id != derive(other, "svc-a")[0].subject_id


def test_the_id_comes_from_the_pivot_not_from_the_source_subject(secret_file):
    via_a = derive(secret_file, "svc-a", subject="src-a:42")[0].subject_id
    via_b = derive(secret_file, "svc-a", subject="src-b:zz-9")[0].subject_id
    assert via_a == via_b


def test_without_a_pivot_the_id_is_scoped_to_the_source(secret_file):
    partial = {"email": ["m@example.nc"]}
    via_a = derive(secret_file, "svc-a", "src-a:42", partial)[0].subject_id
    via_b = derive(secret_file, "svc-a", "src-b:42", partial)[0].subject_id
    assert via_a != via_b


def test_the_source_subject_never_reaches_the_service(secret_file):
    data, _ = derive(secret_file, "svc-a", subject="src-a:42")
    assert "42" not in data.subject_id and data.subject_type == "pairwise"


def test_the_citizen_account_key_is_the_same_for_every_service(secret_file):
    _, ctx_a = derive(secret_file, "svc-a")
    _, ctx_b = derive(secret_file, "svc-b")
    assert citizen_of(ctx_a) == citizen_of(ctx_b)
    assert citizen_of(ctx_a) != derive(secret_file, "svc-a")[0].subject_id


def test_an_unregistered_requester_is_refused(secret_file):
    with pytest.raises(FlowError) as err:
        derive(secret_file, "intrus")
    assert err.value.code == "service_non_autorise"


def test_frontends_refuse_a_subject_the_pairwise_service_did_not_derive():
    raw = InternalData(requester="svc-a", subject_id="src-a:42", subject_type="persistent")
    with pytest.raises(FlowError):
        pairwise_subject_of(raw)
