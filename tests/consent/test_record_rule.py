"""When a remembered choice covers a new login, on attribute names: nothing unseen, nothing
needed that was not accepted, the same legal basis — otherwise the screen is shown again."""

from __future__ import annotations

import datetime as dt

from plugins.micro_services.consent_records import ConsentRecord, kept, new_record

SHOWN = {"given_name", "family_name", "email"}


def _record(accepted=("given_name", "family_name"), basis="consent") -> ConsentRecord:
    return new_record("rp-accord", basis, SHOWN, accepted, 30)


def test_same_attributes_are_covered():
    assert _record().covers(SHOWN, {"given_name", "family_name"}, "consent")


def test_fewer_attributes_are_covered():
    assert _record().covers({"given_name"}, {"given_name"}, "consent")


def test_an_attribute_never_shown_is_not_covered():
    assert not _record().covers(SHOWN | {"birthdate"}, {"given_name", "family_name",
                                                        "birthdate"}, "consent")


def test_an_unticked_attribute_that_became_mandatory_is_not_covered():
    assert not _record().covers(SHOWN, SHOWN, "consent")


def test_a_changed_legal_basis_is_not_covered():
    assert not _record(basis="public_task").covers(SHOWN, {"given_name"}, "consent")


def test_release_keeps_mandatory_and_ticked_optional_attributes_only():
    assert kept(SHOWN | {"gender"}, {"email", "gender"}, {"gender"}) == {
        "given_name", "family_name", "gender"}


def test_record_round_trips_and_expires_after_its_period():
    now = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)
    record = new_record("rp-accord", "consent", SHOWN, {"given_name"}, 30, now)
    assert ConsentRecord.from_dict(record.to_dict()) == record
    assert record.to_dict()["expires_at"] == "2026-03-31T08:00:00+00:00"


def test_an_unreadable_record_covers_nothing():
    assert ConsentRecord.from_dict({"service_id": "rp-accord", "attributes": "all"}) is None
    assert ConsentRecord.from_dict(None) is None
