"""The choice page's hint (OIDC ``idp_hint``, SAML ``<Scoping><IDPList>``) and the cancel at a
source, over HTTP against the proxy under gunicorn.

* A hint naming a source the service accepts at the level asked skips the page; naming
  another service's source, an unknown one, one below the level asked, or garbage shows the
  page as usual (never an error).
* A citizen who cancels at the source (OIDC ``access_denied``, SAML ``RequestDenied``, the
  account form's "Annuler") comes back to the choice page with a short message; "Revenir au
  service" then gives the service ``access_denied`` / ``RequestDenied``.
"""

from __future__ import annotations

import secrets
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from bs4 import BeautifulSoup
from saml2 import BINDING_HTTP_REDIRECT
from saml2.samlp import IDPEntry, IDPList, Scoping

from idp.demo.citizens import CITIZENS
from idp.demo.saml_sp import DIGEST_ALG, SIGN_ALG
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.federation import DEFAULT_SERVICES, add_saml_source, build_federation
from idp.testbed.login import choose, sign_in, start

CITIZEN = CITIZENS[0]
NAMES = ["given_name", "family_name"]
SERVICES = {
    **DEFAULT_SERVICES,
    # Three sources: src-op (substantial), src-idp (low), src-sub (SAML, substantial).
    "rp-trois": ("oidc", ["src-op", "src-idp", "src-sub"], NAMES),
    "sp-choix": ("saml2", ["src-op", "src-idp"], NAMES),
}


@pytest.fixture(scope="module")
def fed(tmp_path_factory, redis_server):
    federation = build_federation(tmp_path_factory.mktemp("hint"), SERVICES)
    add_saml_source(federation, "src-sub", loa="substantial")
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


# -- helpers ------------------------------------------------------------------------------


def _authorize_url(browser: Browser, fed, service: str, **extra: str) -> str:
    """The service's authorization request to the proxy, with ``extra`` parameters added."""
    resp = browser.get(f"{fed.url(service)}/login", follow=False)
    assert resp.is_redirect, resp.status_code
    parts = urlsplit(resp.headers["Location"])
    query = dict(parse_qsl(parts.query)) | extra
    return urlunsplit(parts._replace(query=urlencode(query)))


def _oidc_with(fed, service: str, browser: Browser | None = None, **extra: str):
    browser = browser or Browser()
    return browser.get(_authorize_url(browser, fed, service, **extra))


def _saml_with(fed, service: str, provider_ids: list[str], browser: Browser | None = None):
    """An AuthnRequest signed by the demo SP, carrying ``<Scoping><IDPList>``."""
    sp = fed.apps[service]
    client, idp = sp._client_for_idp()
    scoping = Scoping(idp_list=IDPList(idp_entry=[IDPEntry(provider_id=p)
                                                  for p in provider_ids]))
    with sp._lock:
        _, info = client.prepare_for_authenticate(
            entityid=idp, relay_state=secrets.token_urlsafe(16), binding=BINDING_HTTP_REDIRECT,
            sign=True, sigalg=SIGN_ALG, digest_alg=DIGEST_ALG, scoping=scoping,
            name_id_policy=None)
    return (browser or Browser()).get(dict(info["headers"])["Location"])


def _at(page, fed, peer: str) -> bool:
    return urlsplit(page.url).netloc == urlsplit(fed.url(peer)).netloc


def _on_choice(page) -> list[str]:
    assert urlsplit(page.url).path == "/choix", f"not the choice page: {page.status_code} " \
        f"{page.url}"
    assert page.status_code == 200
    soup = BeautifulSoup(page.text, "html.parser")
    return sorted(b["value"] for b in soup.select("button[name=source]"))


def _cancel_at_source(browser: Browser, page):
    """Press "Annuler" on the demo source's login form, follow back."""
    return browser.submit(page, {}, button=("action", "annuler"))


def _back_to_service(browser: Browser, page):
    return browser.submit(page, {}, form_selector="form#form-retour", button=("retour", "1"))


# -- hint: OIDC idp_hint ---------------------------------------------------------------------


def test_idp_hint_naming_an_accepted_source_skips_the_page(fed):
    assert _at(_oidc_with(fed, "rp-choix", idp_hint="src-idp"), fed, "src-idp")
    assert _at(_oidc_with(fed, "rp-choix", idp_hint="src-op"), fed, "src-op")


def test_idp_hint_then_login_completes(fed):
    browser = Browser()
    page = _oidc_with(fed, "rp-choix", browser, idp_hint="src-op")
    assert attributes_of(sign_in(browser, page, CITIZEN))["given_name"]


def test_idp_hint_naming_a_saml_source_by_entity_id_skips_the_page(fed):
    page = _oidc_with(fed, "rp-choix", idp_hint=f"{fed.url('src-idp')}/metadata")
    assert _at(page, fed, "src-idp")


@pytest.mark.parametrize("hint", [
    "src-sub",            # a source of the federation this service does not accept
    "src-inconnue",       # no such source
    "",                   # empty
    "src-op src-idp",     # two names in one value
    "x" * 5000,           # huge
    "src-op\x00",         # garbage
    "\u00e9\ufffd",       # not ours
])
def test_idp_hint_naming_no_accepted_source_shows_the_page(fed, hint):
    assert _on_choice(_oidc_with(fed, "rp-choix", idp_hint=hint)) == ["src-idp", "src-op"]


def test_idp_hint_below_the_level_asked_shows_the_page(fed):
    page = _oidc_with(fed, "rp-trois", idp_hint="src-idp", acr_values="eidas2")
    assert _on_choice(page) == ["src-op", "src-sub"]


def test_idp_hint_at_the_level_asked_skips_the_page(fed):
    page = _oidc_with(fed, "rp-trois", idp_hint="src-sub", acr_values="eidas2")
    assert _at(page, fed, "src-sub")


def test_prompt_select_account_shows_the_page_despite_the_hint(fed):
    page = _oidc_with(fed, "rp-choix", idp_hint="src-op", prompt="select_account")
    assert _on_choice(page) == ["src-idp", "src-op"]


def test_a_hint_does_not_outlive_its_request(fed):
    browser = Browser()
    assert _at(_oidc_with(fed, "rp-choix", browser, idp_hint="src-op"), fed, "src-op")
    # Same browser, same flow cookie, a new request without a hint: the page.
    assert _on_choice(start(browser, fed.url("rp-choix"))) == ["src-idp", "src-op"]


# -- hint: SAML IDPList ----------------------------------------------------------------------


def test_idplist_naming_an_accepted_source_by_entity_id_skips_the_page(fed):
    page = _saml_with(fed, "sp-choix", [f"{fed.url('src-idp')}/metadata"])
    assert _at(page, fed, "src-idp")


def test_idplist_naming_an_accepted_source_by_partner_id_skips_the_page(fed):
    assert _at(_saml_with(fed, "sp-choix", ["src-op"]), fed, "src-op")


def test_idplist_naming_unknown_entries_then_an_accepted_source_skips_the_page(fed):
    page = _saml_with(fed, "sp-choix", ["https://idp.example.org/metadata", "src-op"])
    assert _at(page, fed, "src-op")


@pytest.mark.parametrize("entries", [
    ["https://idp.example.org/metadata"],          # unknown
    ["src-sub"],                                    # not accepted by this service
    ["src-op", "src-idp"],                          # two accepted: the citizen chooses
    ["src-op"] + [f"https://idp{i}.example.org" for i in range(20)],   # too many entries
    ["y" * 3000],                                   # huge
])
def test_idplist_naming_no_single_accepted_source_shows_the_page(fed, entries):
    assert _on_choice(_saml_with(fed, "sp-choix", entries)) == ["src-idp", "src-op"]


# -- cancel at the source ------------------------------------------------------------------


def test_cancel_at_an_oidc_source_comes_back_to_the_choice(fed):
    browser = Browser()
    page = choose(browser, start(browser, fed.url("rp-choix")), "src-op")
    back = _cancel_at_source(browser, page)
    assert _on_choice(back) == ["src-idp", "src-op"]
    status = BeautifulSoup(back.text, "html.parser").select_one("#annulation")
    assert status is not None and status.get("role") == "status"
    assert ("Vous avez annulé la connexion avec Identité OIDC de test. Choisissez un autre "
            "compte ou revenez au service.") in " ".join(status.get_text().split())
    # Another account, this time to the end.
    page = choose(browser, back, "src-idp")
    assert attributes_of(sign_in(browser, page, CITIZEN))["given_name"]


def test_cancel_at_a_saml_source_then_back_to_the_service_gives_access_denied(fed):
    browser = Browser()
    page = choose(browser, start(browser, fed.url("rp-choix")), "src-idp")
    back = _cancel_at_source(browser, page)
    assert _on_choice(back) == ["src-idp", "src-op"]
    assert "Annuaire SAML de test" in back.text
    resp = _back_to_service(browser, back)
    assert _at(resp, fed, "rp-choix")
    assert error_code_of(resp) == "access_denied"


def test_cancel_at_the_only_source_shows_it_with_the_way_back(fed):
    browser = Browser()
    page = start(browser, fed.url("rp-op"))
    assert _at(page, fed, "src-op")
    back = _cancel_at_source(browser, page)
    assert _on_choice(back) == ["src-op"]
    assert BeautifulSoup(back.text, "html.parser").select_one("form#form-retour button")
    assert "avec le compte ci-dessous" in back.text
    resp = _back_to_service(browser, back)
    assert error_code_of(resp) == "access_denied"


def test_cancel_after_a_hint_offers_every_accepted_source(fed):
    browser = Browser()
    page = _oidc_with(fed, "rp-choix", browser, idp_hint="src-op")
    assert _on_choice(_cancel_at_source(browser, page)) == ["src-idp", "src-op"]


def test_saml_service_cancel_then_back_gets_request_denied(fed):
    browser = Browser()
    page = choose(browser, start(browser, fed.url("sp-choix")), "src-op")
    back = _cancel_at_source(browser, page)
    assert _on_choice(back) == ["src-idp", "src-op"]
    resp = _back_to_service(browser, back)
    assert _at(resp, fed, "sp-choix")
    assert error_code_of(resp) == "RequestDenied"


def test_back_to_the_service_from_the_first_page_gives_access_denied(fed):
    browser = Browser()
    resp = _back_to_service(browser, start(browser, fed.url("rp-choix")))
    assert error_code_of(resp) == "access_denied"


def test_the_form_from_before_the_cancel_is_refused(fed):
    """Each offering of the page has its own token: the first page's form, replayed after the
    cancel, is not a choice."""
    browser = Browser()
    first = start(browser, fed.url("rp-choix"))
    back = _cancel_at_source(browser, choose(browser, first, "src-op"))
    assert _on_choice(back)
    resp = browser.submit(first, {}, button=("source", "src-idp"))
    assert resp.status_code == 403 and error_code_of(resp) == "csrf"
    resp = browser.submit(first, {}, form_selector="form#form-retour", button=("retour", "1"))
    assert resp.status_code == 403 and error_code_of(resp) == "csrf"


def test_a_choice_is_taken_once(fed):
    browser = Browser()
    page = start(browser, fed.url("rp-choix"))
    assert _at(choose(browser, page, "src-op"), fed, "src-op")
    again = browser.submit(page, {}, button=("source", "src-idp"))
    assert error_code_of(again) == "session_expiree"
    again = browser.submit(page, {}, form_selector="form#form-retour", button=("retour", "1"))
    assert error_code_of(again) == "session_expiree"


def test_the_cancel_answer_replayed_is_refused(fed):
    """The source's cancel reopens the choice once: its answer replayed is not another cancel."""
    browser = Browser()
    page = choose(browser, start(browser, fed.url("rp-choix")), "src-op")
    posted = browser.submit(page, {}, button=("action", "annuler"), follow=False)
    callback = posted.headers["Location"]
    assert _on_choice(browser.get(callback))
    replay = browser.get(callback)
    assert replay.status_code in (400, 403) and urlsplit(replay.url).path != "/choix"


# -- error pages: the way back to the service ---------------------------------------------------


@pytest.mark.parametrize("service", ["rp-choix", "sp-choix"])
def test_an_error_after_the_request_was_checked_links_back_to_the_service(fed, service):
    browser = Browser()
    assert _on_choice(start(browser, fed.url(service)))
    page = browser.get(f"{fed.proxy_url}/src-op/oidc/callback?code=x&state=forged")
    assert page.status_code == 400 and error_code_of(page) == "session_expiree"
    link = BeautifulSoup(page.text, "html.parser").select_one("a#retour-service")
    assert link is not None and link["href"] == fed.url(service) + "/"
    assert f"Service de test {service}" in link.get_text()


def test_an_unknown_client_gets_no_way_back_even_after_a_valid_request(fed):
    browser = Browser()
    assert _on_choice(start(browser, fed.url("rp-choix")))
    query = {"response_type": "code", "scope": "openid", "state": "s", "nonce": "n",
             "client_id": "rp-choix", "redirect_uri": "https://evil.example/cb"}
    page = browser.get(f"{fed.proxy_url}/oidc/authorize?{urlencode(query)}")
    assert error_code_of(page) == "redirect_uri_invalide"
    assert BeautifulSoup(page.text, "html.parser").select_one("#retour-service") is None
