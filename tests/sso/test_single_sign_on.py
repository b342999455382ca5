"""Sign in once: a second service in the same browser gets its answer from the SSO session.

No choice page and no request to the identity source (counted by the source itself),
but the second service still sees its own consent / information screen, gets its own
pairwise identifier and only the attributes its partner file allows.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from idp.keys import read_secret
from idp.sso.session import COOKIE, digest, service_sid
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import decide, login, on_consent_screen, start
from idp.testbed.records import service_entries, session_record
from plugins.micro_services.session_record import citizen_key

from .clients import SamlClient, answer_consent, cookie_of, set_cookie_headers


def _service_on_screen(page) -> str:
    return BeautifulSoup(page.text, "html.parser").get_text(" ", strip=True)


def test_second_oidc_service_is_answered_without_choice_or_source_login(fed, citizen):
    browser = Browser()
    first = attributes_of(login(browser, fed.url("rp-a"), citizen))
    asked = fed.apps["src-op"].authorize_requests

    page = start(browser, fed.url("rp-b"))

    assert fed.apps["src-op"].authorize_requests == asked, "the source was asked again"
    assert urlsplit(page.url).netloc == urlsplit(fed.proxy_url).netloc
    # The hook for the consent screen: the second service's own screen is shown.
    assert on_consent_screen(page)
    assert "Service de test rp-b" in _service_on_screen(page)
    second = attributes_of(decide(browser, page))
    assert set(second) == {"sub", "given_name"}, "rp-b is allowed given_name only"
    assert second["given_name"] == citizen.claims["given_name"]
    assert second["sub"] != first["sub"], "each service has its own pairwise identifier"


def test_saml_service_after_an_oidc_service_needs_no_source_login(fed, citizen):
    browser = Browser()
    attributes_of(login(browser, fed.url("rp-a"), citizen))
    asked = fed.apps["src-op"].authorize_requests

    page = start(browser, fed.url("sp-a"))

    assert fed.apps["src-op"].authorize_requests == asked
    assert on_consent_screen(page)
    attrs = attributes_of(decide(browser, page))
    assert set(attrs) == {"nameid", "urn:oid:2.5.4.42", "urn:oid:2.5.4.4"}
    assert attrs["urn:oid:2.5.4.4"] == citizen.claims["family_name"]


def test_oidc_service_after_a_saml_source_login_needs_no_source_login(fed, citizen):
    browser = Browser()
    attributes_of(login(browser, fed.url("sp-idp"), citizen))
    received = fed.apps["src-idp"].authn_requests

    page = start(browser, fed.url("rp-idp"))

    assert fed.apps["src-idp"].authn_requests == received
    assert on_consent_screen(page)
    attrs = attributes_of(decide(browser, page))
    assert attrs["given_name"] == citizen.claims["given_name"]


def test_another_browser_has_no_session(fed, citizen):
    attributes_of(login(Browser(), fed.url("rp-a"), citizen))
    asked = fed.apps["src-op"].authorize_requests

    page = start(Browser(), fed.url("rp-b"))

    assert fed.apps["src-op"].authorize_requests == asked + 1
    assert urlsplit(page.url).netloc == urlsplit(fed.url("src-op")).netloc


def test_session_cookie_is_opaque_secure_httponly_and_sent_cross_site(fed, citizen):
    browser = Browser()
    attributes_of(login(browser, fed.url("rp-a"), citizen))

    headers = set_cookie_headers(browser, fed.proxy_url, COOKIE)

    assert len(headers) == 1
    value, *attributes = [part.strip() for part in headers[0].split(";")]
    assert len(value.split("=", 1)[1]) == 43  # 256 random bits, base64url
    assert {"HttpOnly", "Secure", "SameSite=None", "Path=/"} <= set(attributes)
    assert not any(v.lower() in headers[0].lower() for v in citizen.claims.values())


def test_session_is_stored_under_the_cookie_hash_and_filed_under_the_citizen(
        fed, store, citizen):
    browser = Browser()
    first = attributes_of(login(browser, fed.url("rp-a"), citizen))
    attributes_of(decide(browser, start(browser, fed.url("rp-b"))))
    cookie = cookie_of(browser, COOKIE)

    stored = store.get("sso-session", digest(cookie))
    record = session_record(store, cookie)  # opened with the cookie: sealed in the store

    assert stored is not None and cookie not in str(stored) and "attributes" not in stored
    assert record is not None
    assert record["source"] == "src-op" and record["loa"] == "substantial"
    assert record["acr"] == "http://eidas.europa.eu/LoA/substantial"
    assert record["attributes"]["family_name"] == [citizen.claims["family_name"]]
    assert record["created"] - 60 <= record["auth_time"] <= record["created"]
    assert record["expires_at"] - record["created"] == 8 * 3600
    # The same key PairwiseSubject files the connection history under.
    secret = read_secret(fed.folder / "data" / "keys" / "pairwise.secret")
    owner = citizen_key(secret, record["attributes"], record["subject"])
    assert owner == record["citizen"]
    history = {e["service_id"]: e for e in store.items("history", owner).values()}
    assert history["rp-b"]["source_id"] == "src-op", "the session's source, not the session"
    index = store.items("sso-sessions", owner)
    assert index[record["sid"]]["key"] == digest(cookie)
    services = service_entries(store, record["sid"])
    assert set(services) == {"rp-a", "rp-b"}
    assert services["rp-a"]["protocol"] == "oidc"
    assert services["rp-a"]["subject"] == first["sub"]
    assert services["rp-a"]["sid"] == service_sid(record["sid"], "rp-a")
    assert services["rp-a"]["sid"] != services["rp-b"]["sid"]


def test_saml_session_index_is_the_services_own_session_id(fed, store, citizen):
    browser = Browser()
    attributes_of(login(browser, fed.url("rp-a"), citizen))
    sp = SamlClient(fed, "sp-a")
    reqid, url = sp.request()

    resp = answer_consent(browser, sp.start(browser, url), stop_at=sp.acs)

    answer = sp.response(reqid, resp)
    record = store.get("sso-session", digest(cookie_of(browser, COOKIE)))
    index = answer.assertion.authn_statement[0].session_index
    assert index == service_sid(record["sid"], "sp-a")
    noted = service_entries(store, record["sid"])["sp-a"]
    assert noted["sid"] == index and noted["protocol"] == "saml2"
    assert noted["subject"] == answer.name_id.text


def test_the_log_tells_the_sso_decisions_without_personal_data_or_cookies(fed, citizen):
    browser = Browser()
    attributes_of(login(browser, fed.url("rp-a"), citizen))
    second = attributes_of(decide(browser, start(browser, fed.url("rp-b"))))

    log = (fed.folder / "proxy.log").read_text(encoding="utf-8")

    assert '"sso session started"' in log and '"sso session reused"' in log
    secrets = [cookie_of(browser, COOKIE), second["sub"], *citizen.claims.values()]
    assert not [s for s in secrets if s and len(s) > 3 and s in log]
