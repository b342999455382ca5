"""Transient NameIDs from SAML sources: identified by the identity pivot when the source is
registered ``saml2.name_id: transient``, refused otherwise or without the whole pivot.

Sources (:mod:`tests.backends.saml_sources_federation`): ``src-transient`` (registered
transient), ``src-ephemere`` (issues transient NameIDs, registered persistent).
"""

from __future__ import annotations

import base64
import zlib
from urllib.parse import parse_qs, urlsplit

from saml2.saml import NAMEID_FORMAT_TRANSIENT
from saml2.samlp import authn_request_from_string

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.login import login
from tests.backends.saml_sources_federation import INCOMPLETE, proxy_log, session_record


def _login(fed, store, service: str, citizen) -> tuple[dict[str, str], dict]:
    """(what the service received, the SSO session record) of one login in a new browser."""
    browser = Browser()
    received = attributes_of(login(browser, fed.url(service), citizen))
    record = session_record(store, browser)
    assert record is not None
    return received, record


def test_a_transient_source_gives_the_same_pairwise_id_across_logins(saml_sources,
                                                                     sources_store):
    citizen = CITIZENS[1]
    first, first_session = _login(saml_sources, sources_store, "rp-transient", citizen)
    second, second_session = _login(saml_sources, sources_store, "rp-transient", citizen)

    issued = [s["source_session"]["name_id"]["value"] for s in (first_session, second_session)]
    assert issued[0] != issued[1]  # a new NameID at each login...
    assert first["sub"] == second["sub"]  # ...the same citizen for the service
    assert first_session["citizen"] == second_session["citizen"]  # and for Mon espace
    for session, name_id in zip((first_session, second_session), issued, strict=True):
        assert session["subject"].startswith("src-transient:pivot:")
        assert name_id not in session["subject"]


def test_a_transient_answer_without_the_whole_pivot_is_refused_naming_what_lacks(
        saml_sources):
    page = login(Browser(), saml_sources.url("rp-transient"), INCOMPLETE)

    assert page.status_code == 400 and error_code_of(page) == "identite_incomplete"
    assert "Identité incomplète" in page.text and "Choisissez un autre compte" in page.text
    log = proxy_log(saml_sources)
    assert "src-transient: transient NameID and an incomplete identity pivot " \
        "(missing: birthplace, gender)" in log
    assert "Lifou" not in log and "Wahetra" not in log  # names, never values


def test_a_transient_name_id_from_a_source_registered_persistent_is_refused(saml_sources):
    page = login(Browser(), saml_sources.url("rp-ephemere"), CITIZENS[1])

    assert page.status_code == 400 and error_code_of(page) == "reponse_source_invalide"
    assert "src-ephemere: transient NameID refused" in proxy_log(saml_sources)
    assert "saml2.name_id: transient" in proxy_log(saml_sources)


def test_our_authn_request_asks_a_transient_source_for_transient_name_ids(saml_sources):
    browser = Browser()
    sso = f"{saml_sources.url('src-transient')}/sso/redirect"
    hop = browser.get(f"{saml_sources.url('rp-transient')}/login", follow=False)
    hop = browser.follow(hop, stop_at=sso)

    query = parse_qs(urlsplit(hop.headers["Location"]).query)
    request = authn_request_from_string(
        zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15))
    assert request.name_id_policy.format == NAMEID_FORMAT_TRANSIENT
