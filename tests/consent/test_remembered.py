""""Se souvenir de mon choix": a record under the citizen's account lets later logins skip the
screen while they ask for nothing more — the same on the embedded store and on Redis."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import decide, on_consent_screen
from plugins.micro_services.consent_records import CONSENT_NAMESPACE

from .conftest import PROFILE_SCOPE, to_screen


@pytest.fixture
def citizen(any_store):
    """A citizen with no remembered choice on this federation."""
    someone = CITIZENS[1]
    any_store.forget_everything(someone)
    yield someone
    any_store.forget_everything(someone)


def _remembered_login(cf, citizen, scope=None, untick=()):
    browser = Browser()
    screen = to_screen(browser, cf, "rp-accord", citizen, scope=scope)
    assert on_consent_screen(screen)
    return attributes_of(decide(browser, screen, remember=True, untick=untick))


def test_remembered_choice_skips_the_screen_at_the_next_login(any_store, citizen):
    first = _remembered_login(any_store, citizen)
    again = to_screen(Browser(), any_store, "rp-accord", citizen)
    assert not on_consent_screen(again)
    assert attributes_of(again) == first


def test_record_holds_names_and_dates_never_values(any_store, citizen):
    _remembered_login(any_store, citizen, untick=["email"])
    record = any_store.records(citizen)["rp-accord"]
    assert record["service_id"] == "rp-accord"
    assert record["attributes"] == ["birthdate", "family_name", "gender", "given_name"]
    assert record["shown"] == ["birthdate", "email", "family_name", "gender", "given_name"]
    assert record["given_at"] < record["expires_at"]
    assert not any(value in str(record) for value in citizen.claims.values())


def test_remembered_choice_releases_only_the_optional_attributes_accepted(any_store, citizen):
    _remembered_login(any_store, citizen, untick=["email"])
    again = to_screen(Browser(), any_store, "rp-accord", citizen)
    assert not on_consent_screen(again)
    assert set(attributes_of(again)) == {"sub", "given_name", "family_name", "birthdate",
                                         "gender"}


def test_smaller_attribute_set_skips_the_screen(any_store, citizen):
    _remembered_login(any_store, citizen)
    fewer = to_screen(Browser(), any_store, "rp-accord", citizen, scope=PROFILE_SCOPE)
    assert not on_consent_screen(fewer)
    assert set(attributes_of(fewer)) == {"sub", "given_name", "family_name", "birthdate",
                                         "gender"}


def test_larger_attribute_set_asks_again(any_store, citizen):
    _remembered_login(any_store, citizen, scope=PROFILE_SCOPE)
    more = to_screen(Browser(), any_store, "rp-accord", citizen)
    assert on_consent_screen(more)
    assert "email" in more.text


def test_expired_record_asks_again(any_store, citizen):
    _remembered_login(any_store, citizen)
    store, owner = any_store.store(), any_store.account_key(citizen)
    record = store.items(CONSENT_NAMESPACE, owner)["rp-accord"]
    store.put_item(CONSENT_NAMESPACE, owner, "rp-accord", record, 1)  # a one-second period
    time.sleep(1.2)
    assert store.items(CONSENT_NAMESPACE, owner) == {}
    assert on_consent_screen(to_screen(Browser(), any_store, "rp-accord", citizen))


def test_refusal_is_never_remembered(any_store, citizen):
    browser = Browser()
    decide(browser, to_screen(browser, any_store, "rp-accord", citizen), accept=False,
           remember=True)
    assert any_store.records(citizen) == {}
    assert on_consent_screen(to_screen(Browser(), any_store, "rp-accord", citizen))


def test_refusal_withdraws_an_earlier_remembered_choice(any_store, citizen):
    _remembered_login(any_store, citizen, scope=PROFILE_SCOPE)
    browser = Browser()
    decide(browser, to_screen(browser, any_store, "rp-accord", citizen), accept=False)
    assert any_store.records(citizen) == {}
    fewer = to_screen(Browser(), any_store, "rp-accord", citizen, scope=PROFILE_SCOPE)
    assert on_consent_screen(fewer)


def test_accepting_without_remembering_stores_nothing(any_store, citizen):
    browser = Browser()
    decide(browser, to_screen(browser, any_store, "rp-accord", citizen))
    assert any_store.records(citizen) == {}


def test_remembered_choice_is_per_service(any_store, citizen):
    _remembered_login(any_store, citizen)
    assert on_consent_screen(to_screen(Browser(), any_store, "sp-accord", citizen))


def test_scope_query_reaches_the_relying_partys_request(cf):
    """The testbed RP's ``/login?scope=`` is what makes the smaller and larger sets."""
    browser = Browser()
    browser.get(f"{cf.url('rp-accord')}/login?{urlencode({'scope': PROFILE_SCOPE})}")
    asked = [urlsplit(r.url) for r in browser.history if urlsplit(r.url).path == "/oidc/authorize"]
    assert [parse_qs(a.query)["scope"] for a in asked] == [[PROFILE_SCOPE]]
