"""The connection history in Mon espace NC Connect, on the embedded store and on Redis."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import decide, login, on_consent_screen, start
from plugins.micro_services.history import NAMESPACE, entry_id, history_of
from tests.account.space import (
    PATH,
    citizen_key,
    history_rows,
    history_text,
    on_space,
    open_space,
)

JEAN, MALIA, PAUL = CITIZENS[1], CITIZENS[2], CITIZENS[3]


def test_a_login_at_a_service_shows_service_source_level_and_attribute_labels(proxy):
    browser = Browser()
    assert attributes_of(login(browser, f"{proxy.fed.url('rp-op')}", JEAN))["given_name"]
    page = open_space(browser, proxy.url, JEAN)
    newest, service_login = history_rows(page)[:2]
    assert (newest.service, newest.source) == ("Mon espace NC Connect", "Identité OIDC de test")
    assert newest.data == ("Nom de naissance", "Prénoms")
    assert service_login.service == "Service de test rp-op"
    assert service_login.source == "Identité OIDC de test"
    assert service_login.level == "substantiel"
    assert service_login.data == ("Nom de naissance", "Prénoms", "Date de naissance")


def test_history_shows_no_attribute_value(proxy):
    browser = Browser()
    login(browser, proxy.fed.url("sp-idp"), JEAN)
    text = history_text(open_space(browser, proxy.url, JEAN))
    for value in JEAN.claims.values():
        assert value not in text


def test_a_login_through_the_saml_source_shows_its_level_in_french(proxy):
    browser = Browser()
    login(browser, proxy.fed.url("rp-idp"), MALIA)
    row = history_rows(open_space(browser, proxy.url, MALIA, source="src-idp"))[1]
    assert (row.service, row.source, row.level) == ("Service de test rp-idp",
                                                   "Annuaire SAML de test", "faible")


def test_history_is_newest_first_in_noumea_time(proxy):
    browser = Browser()
    login(browser, proxy.fed.url("rp-op"), PAUL)
    rows = history_rows(open_space(browser, proxy.url, PAUL))
    instants = [datetime.fromisoformat(r.at) for r in rows]
    assert len(rows) >= 2 and instants == sorted(instants, reverse=True)
    assert all(r.at.endswith("+11:00") for r in rows)
    assert all(" à " in r.when for r in rows)


def test_history_records_names_only_with_the_retention_as_ttl(proxy):
    browser = Browser()
    login(browser, proxy.fed.url("rp-op"), PAUL)
    open_space(browser, proxy.url, PAUL)
    entry = history_of(proxy.store, citizen_key(proxy.store, browser))[1]
    assert entry["service_id"] == "rp-op" and entry["source_id"] == "src-op"
    assert entry["loa"] == "substantial" and entry["acr"]
    assert entry["attributes"] == ["birthdate", "family_name", "given_name"]
    assert datetime.fromisoformat(entry["at"]).tzinfo is not None


def test_entries_older_than_the_retention_are_gone(proxy):
    browser = Browser()
    page = open_space(browser, proxy.url, PAUL)
    key = citizen_key(proxy.store, browser)
    old = {"at": "2025-01-02T03:04:05Z", "service_id": "sp-op",
           "service_name": "Service bientôt oublié", "source_id": "src-op",
           "source_name": "Identité OIDC de test", "loa": "substantial", "acr": None,
           "attributes": ["given_name"]}
    proxy.store.put_item(NAMESPACE, key, entry_id(datetime(2025, 1, 2, tzinfo=UTC)), old, ttl=1)
    page = browser.get(f"{proxy.url}{PATH}")
    assert "Service bientôt oublié" in [r.service for r in history_rows(page)]
    time.sleep(1.5)
    page = browser.get(f"{proxy.url}{PATH}")
    assert on_space(page)
    assert "Service bientôt oublié" not in [r.service for r in history_rows(page)]


def test_a_login_the_citizen_cancels_on_the_information_screen_leaves_no_entry(proxy):
    browser = Browser()
    open_space(browser, proxy.url, PAUL)
    key = citizen_key(proxy.store, browser)
    before = history_of(proxy.store, key)
    page = start(browser, proxy.fed.url("rp-op"))  # answered by the SSO session: no source
    assert on_consent_screen(page)
    decide(browser, page, accept=False)
    assert history_of(proxy.store, key) == before


def test_the_same_citizen_through_the_other_source_sees_the_same_history(proxy):
    by_oidc, by_saml = Browser(), Browser()
    login(by_oidc, proxy.fed.url("sp-op"), MALIA)
    seen_by_oidc = history_rows(open_space(by_oidc, proxy.url, MALIA, source="src-op"))
    seen_by_saml = history_rows(open_space(by_saml, proxy.url, MALIA, source="src-idp"))
    own_login, *earlier = seen_by_saml
    assert (own_login.service_id, own_login.source_id) == ("ncconnect:mon-compte", "src-idp")
    assert earlier == seen_by_oidc
