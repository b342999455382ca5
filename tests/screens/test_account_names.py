"""/mon-compte names services and accounts in the page's language where the partner file
gives an English text; a record keeps the name it had then."""

from __future__ import annotations

from datetime import UTC, datetime

from idp.partners.schema import Text
from plugins.frontends.account.consents import Consent
from plugins.frontends.account.view import Vocabulary, consent_rows, history_rows
from plugins.micro_services.consent_view import Shown

WORDS = Vocabulary(
    attributes={"given_name": {"fr": "Prénoms", "en": "Given names"}},
    services={"demo-mairie": Text("Mairie démo", "Demo town hall"), "rp-fr": "Service français"},
    sources={"demo-oidc": {"fr": "Identité numérique démo", "en": "Demo digital identity"}})


def _entry(service_id: str, service_name: str) -> dict:
    return {"at": "2026-03-14T22:41:00Z", "service_id": service_id, "service_name": service_name,
            "source_id": "demo-oidc", "source_name": "Identité numérique démo", "loa": "low",
            "attributes": ["given_name"]}


def test_history_names_service_and_account_in_english_where_given():
    row = history_rows([_entry("demo-mairie", "Mairie démo")], WORDS, "en")[0]
    assert row.service_name == Shown("Demo town hall", "en")
    assert row.source_name == Shown("Demo digital identity", "en")
    assert row.attributes == ["Given names"]
    french = history_rows([_entry("demo-mairie", "Mairie démo")], WORDS, "fr")[0]
    assert french.service_name == Shown("Mairie démo", "fr")


def test_a_french_only_name_is_marked_french_and_a_renamed_service_keeps_its_old_name():
    row = history_rows([_entry("rp-fr", "Service français")], WORDS, "en")[0]
    assert row.service_name == Shown("Service français", "fr")
    renamed = history_rows([_entry("demo-mairie", "Ancienne mairie")], WORDS, "en")[0]
    assert renamed.service_name == Shown("Ancienne mairie", "fr")


def test_consents_name_the_service_in_english():
    now = datetime.now(UTC)
    row = consent_rows([Consent("demo-mairie", ("given_name",), now, now)], WORDS, "en")[0]
    assert row.service_name == Shown("Demo town hall", "en")
