"""Consents in Mon espace NC Connect: listed, withdrawn one at a time, only by their owner."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, error_code_of
from idp.testbed.login import decide, on_consent_screen, start
from plugins.frontends.account.consents import NAMESPACE
from tests.account.space import (
    PATH,
    citizen_key,
    consent_rows,
    on_space,
    open_space,
    withdraw_form,
)

MARIE, TEVA, PAUL = CITIZENS[0], CITIZENS[4], CITIZENS[3]
DAY = 86400


def _seed(store, key: str, service_id: str, attributes: list[str], given: datetime) -> None:
    """A consent as the consent screen files it (the contract /mon-compte reads)."""
    expires = given + timedelta(days=180)
    store.put_item(NAMESPACE, key, service_id, {
        "service_id": service_id, "attributes": attributes,
        "given_at": given.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}, ttl=180 * DAY)


def _signed_in_with_consents(proxy, citizen):
    browser = Browser()
    open_space(browser, proxy.url, citizen)
    key = citizen_key(proxy.store, browser)
    proxy.store.delete_owner(NAMESPACE, key)
    _seed(proxy.store, key, "rp-op", ["given_name", "birthdate"],
          datetime(2026, 3, 14, 22, 41, tzinfo=UTC))
    _seed(proxy.store, key, "sp-idp", ["family_name"], datetime(2026, 5, 1, 1, 0, tzinfo=UTC))
    return browser, key, browser.get(f"{proxy.url}{PATH}")


def test_my_consents_are_listed_with_service_names_labels_and_noumea_dates(proxy):
    _, _, page = _signed_in_with_consents(proxy, MARIE)
    rows = {r.service_id: r for r in consent_rows(page)}
    assert set(rows) == {"rp-op", "sp-idp"}
    assert rows["rp-op"].service == "Service de test rp-op"
    assert rows["rp-op"].data == ("Prénoms", "Date de naissance")
    assert rows["rp-op"].given == "15 mars 2026 à 09:41"  # 22:41 UTC is 09:41 the next day
    assert rows["rp-op"].expires == "11 septembre 2026"
    assert rows["sp-idp"].data == ("Nom de naissance",)


def test_withdrawing_a_consent_removes_exactly_that_one(proxy):
    browser, key, page = _signed_in_with_consents(proxy, MARIE)
    after = browser.submit(page, {}, form_selector=withdraw_form(page, "rp-op"))
    assert on_space(after)
    assert [r.service_id for r in consent_rows(after)] == ["sp-idp"]
    assert list(proxy.store.items(NAMESPACE, key)) == ["sp-idp"]
    assert "Votre consentement à « Service de test rp-op » a été retiré" in after.text


def test_withdrawal_without_a_token_is_refused_and_changes_nothing(proxy):
    browser, key, _ = _signed_in_with_consents(proxy, MARIE)
    resp = browser.post_form_data(f"{proxy.url}{PATH}/consentements/retirer",
                                  {"service": "rp-op"})
    assert resp.status_code == 403
    assert error_code_of(resp) == "compte_formulaire_invalide"
    text = BeautifulSoup(resp.text, "html.parser").get_text(" ")
    assert "Formulaire expiré" in text and "Rien n'a été modifié" in text
    assert sorted(proxy.store.items(NAMESPACE, key)) == ["rp-op", "sp-idp"]


def test_withdrawal_with_another_sessions_token_is_refused(proxy):
    browser, key, _ = _signed_in_with_consents(proxy, MARIE)
    _, _, other_page = _signed_in_with_consents(proxy, TEVA)
    their_tokens = {i["value"] for i in BeautifulSoup(other_page.text, "html.parser")
                    .select("input[name=csrf]")}
    assert their_tokens
    for token in their_tokens:
        resp = browser.post_form_data(f"{proxy.url}{PATH}/consentements/retirer",
                                      {"service": "rp-op", "csrf": token})
        assert error_code_of(resp) == "compte_formulaire_invalide"
    assert sorted(proxy.store.items(NAMESPACE, key)) == ["rp-op", "sp-idp"]


def test_a_withdrawal_posted_from_another_origin_is_refused(proxy):
    browser, key, page = _signed_in_with_consents(proxy, MARIE)
    token = BeautifulSoup(page.text, "html.parser").select_one(
        f"{withdraw_form(page, 'rp-op')} input[name=csrf]")["value"]
    resp = browser.session.post(f"{proxy.url}{PATH}/consentements/retirer",
                                data={"service": "rp-op", "csrf": token}, timeout=30,
                                allow_redirects=False, headers={"Origin": "https://pirate.example"})
    assert resp.status_code == 403 and error_code_of(resp) == "compte_formulaire_invalide"
    assert sorted(proxy.store.items(NAMESPACE, key)) == ["rp-op", "sp-idp"]


def test_the_sign_out_token_does_not_withdraw_a_consent(proxy):
    browser, key, page = _signed_in_with_consents(proxy, MARIE)
    token = BeautifulSoup(page.text, "html.parser").select_one(
        "form.deconnexion input[name=csrf]")["value"]
    resp = browser.post_form_data(f"{proxy.url}{PATH}/consentements/retirer",
                                  {"service": "rp-op", "csrf": token})
    assert error_code_of(resp) == "compte_formulaire_invalide"
    assert sorted(proxy.store.items(NAMESPACE, key)) == ["rp-op", "sp-idp"]


def test_i_see_and_withdraw_only_my_own_consents(proxy):
    marie, marie_key, _ = _signed_in_with_consents(proxy, MARIE)
    teva, teva_key, teva_page = _signed_in_with_consents(proxy, TEVA)
    proxy.store.delete_item(NAMESPACE, teva_key, "rp-op")
    teva_page = teva.get(f"{proxy.url}{PATH}")
    assert [r.service_id for r in consent_rows(teva_page)] == ["sp-idp"]
    # Teva's valid form, with Marie's account key slipped in: the owner comes from the session.
    teva.submit(teva_page, {"service": "rp-op", "owner": marie_key, "citizen": marie_key},
                form_selector=withdraw_form(teva_page, "sp-idp"))
    assert sorted(proxy.store.items(NAMESPACE, marie_key)) == ["rp-op", "sp-idp"]
    assert list(proxy.store.items(NAMESPACE, teva_key)) == ["sp-idp"]


def test_a_withdrawn_consent_makes_the_service_ask_again(proxy):
    """End to end with the consent screen: remember at rp-op, withdraw here, asked again."""
    browser = Browser()
    page = start(browser, proxy.fed.url("rp-op"))
    page = browser.submit(page, {"identifiant": PAUL.username, "mot_de_passe": PAUL.password},
                          button=("action", "connexion"))
    assert on_consent_screen(page)
    decide(browser, page, remember=True)
    space = open_space(browser, proxy.url, PAUL)
    assert "rp-op" in [r.service_id for r in consent_rows(space)]
    space = browser.submit(space, {}, form_selector=withdraw_form(space, "rp-op"))
    assert "rp-op" not in [r.service_id for r in consent_rows(space)]
    page = start(browser, proxy.fed.url("rp-op"))  # answered by the SSO session: no source
    assert on_consent_screen(page)
