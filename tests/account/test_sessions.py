"""Mes sessions NC Connect: the citizen sees their single sign-on sessions and ends them, one or
all, each end a single logout whose services are told."""

from __future__ import annotations

import pytest

from idp.demo.citizens import CITIZENS
from idp.keys import read_secret
from idp.sso.session import COOKIE, NAMESPACE, digest
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.login import decide, login, start
from plugins.frontends.account.sso_sessions import session_ref
from tests.account.space import PATH, end_session_form, on_space, open_space, session_rows

#: Behaviour of the forms: one store is enough (the listing runs on both).
REDIS_ONLY = pytest.mark.parametrize("proxy", ["redis"], indirect=True)
PAUL = CITIZENS[3]


def _session(proxy, browser: Browser) -> dict:
    value = [c.value for c in browser.session.cookies if c.name == COOKIE and c.value][-1]
    record = proxy.store.get(NAMESPACE, digest(value))
    assert record is not None, "no SSO session for this browser"
    return record


def _ref(proxy, sid: str) -> str:
    return session_ref(read_secret(proxy.fed.folder / "data" / "keys" / "csrf.secret"), sid)


def _row(page, ref: str):
    [row] = [r for r in session_rows(page) if r.ref == ref]
    return row


@pytest.mark.parametrize("proxy", ["embedded", "redis"], indirect=True)
def test_my_space_lists_this_browsers_session_with_its_source_level_and_services(proxy):
    browser = Browser()
    attributes_of(login(browser, proxy.fed.url("rp-op"), PAUL))
    attributes_of(decide(browser, start(browser, proxy.fed.url("sp-op"))))

    page = open_space(browser, proxy.url, PAUL, source="src-op")

    row = _row(page, _ref(proxy, _session(proxy, browser)["sid"]))
    assert row.current and row.source == "Identité OIDC de test" and row.level == "substantiel"
    assert set(row.services) == {"Service de test rp-op", "Service de test sp-op"}


@REDIS_ONLY
def test_ending_another_browsers_session_tells_its_services(proxy):
    elsewhere = Browser()
    attributes_of(login(elsewhere, proxy.fed.url("rp-op"), PAUL))
    ended = _session(proxy, elsewhere)
    rp = proxy.fed.apps["rp-op"]
    told = len(rp.backchannel_logouts)
    here = Browser()
    page = open_space(here, proxy.url, PAUL, source="src-op")
    ref = _ref(proxy, ended["sid"])
    assert not _row(page, ref).current

    done = here.submit(page, {}, form_selector=end_session_form(page, ref))

    assert proxy.store.get(NAMESPACE, ended["key"]) is None
    assert [t["aud"] for t in rp.backchannel_logouts[told:]] == ["rp-op"]
    assert done.status_code == 200 and done.url.startswith(proxy.url)
    assert done.text.count('id="retour-compte"') == 1
    # This browser's own session and account session are untouched.
    assert proxy.store.get(NAMESPACE, _session(proxy, here)["key"]) is not None
    again = here.get(f"{proxy.url}{PATH}")
    assert on_space(again) and ref not in {r.ref for r in session_rows(again)}


@REDIS_ONLY
def test_signing_out_everywhere_ends_every_session_and_my_space(proxy):
    elsewhere = Browser()
    attributes_of(login(elsewhere, proxy.fed.url("rp-op"), PAUL))
    other = _session(proxy, elsewhere)
    here = Browser()
    page = open_space(here, proxy.url, PAUL, source="src-op")
    mine = _session(proxy, here)

    here.submit(page, {}, form_selector="form#form-partout")

    assert proxy.store.get(NAMESPACE, other["key"]) is None
    assert proxy.store.get(NAMESPACE, mine["key"]) is None
    assert not proxy.store.items("sso-sessions", mine["citizen"])
    assert not on_space(here.get(f"{proxy.url}{PATH}")), "my space is still open"


@REDIS_ONLY
def test_ending_a_session_needs_the_forms_token(proxy):
    here = Browser()
    open_space(here, proxy.url, PAUL, source="src-op")
    mine = _session(proxy, here)

    refused = here.post_form_data(f"{proxy.url}{PATH}/sessions/terminer",
                                  {"csrf": "0" * 64, "session": _ref(proxy, mine["sid"])})

    assert refused.status_code == 403 and error_code_of(refused) == "compte_formulaire_invalide"
    assert proxy.store.get(NAMESPACE, mine["key"]) is not None


@REDIS_ONLY
def test_a_session_of_another_citizen_cannot_be_ended_from_my_space(proxy):
    other = Browser()
    attributes_of(login(other, proxy.fed.url("rp-op"), CITIZENS[4]))
    theirs = _session(proxy, other)
    here = Browser()
    page = open_space(here, proxy.url, PAUL, source="src-op")
    selector = end_session_form(page, session_rows(page)[0].ref)

    here.submit(page, {"session": _ref(proxy, theirs["sid"])}, form_selector=selector)

    assert proxy.store.get(NAMESPACE, theirs["key"]) is not None


@REDIS_ONLY
def test_my_space_lets_its_forms_lead_to_the_saml_services_and_source_of_my_sessions(proxy):
    browser = Browser()
    attributes_of(login(browser, proxy.fed.url("sp-op"), PAUL))

    page = open_space(browser, proxy.url, PAUL, source="src-op")

    policy = page.headers["Content-Security-Policy"]
    form_action = next(d for d in policy.split(";") if d.strip().startswith("form-action"))
    assert {proxy.fed.url("sp-op"), proxy.fed.url("src-op")} <= set(form_action.split())
