"""A SAML source stating a non-eIDAS ``AuthnContextClassRef``: read through the ``loa_mapping``
of its partner file, refused when the value is not mapped.

``src-mdp`` (:mod:`tests.backends.saml_sources_federation`) states SAML's
``PasswordProtectedTransport``, mapped to *substantial*; ``rp-mdp`` requires *substantial*.
"""

from __future__ import annotations

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.login import login
from tests.backends.saml_sources_federation import (
    PASSWORD_PROTECTED,
    proxy_log,
    session_record,
)

KERBEROS = "urn:oasis:names:tc:SAML:2.0:ac:classes:Kerberos"


def test_a_mapped_non_eidas_class_logs_in_at_the_mapped_level(saml_sources, sources_store):
    browser = Browser()
    assert saml_sources.apps["src-mdp"].class_ref == PASSWORD_PROTECTED

    page = login(browser, saml_sources.url("rp-mdp"), CITIZENS[2])

    assert attributes_of(page)["given_name"] == CITIZENS[2].claims["given_name"]
    session = session_record(sources_store, browser)
    assert (session["loa"], session["acr"]) == ("substantial",
                                                "http://eidas.europa.eu/LoA/substantial")


def test_an_unmapped_class_is_refused_naming_the_value_and_loa_mapping(saml_sources):
    idp = saml_sources.apps["src-mdp"]
    idp.class_ref = KERBEROS
    try:
        page = login(Browser(), saml_sources.url("rp-mdp"), CITIZENS[2])
    finally:
        idp.class_ref = PASSWORD_PROTECTED

    assert page.status_code == 403 and error_code_of(page) == "niveau_insuffisant"
    log = proxy_log(saml_sources)
    assert f"src-mdp: the answer states level '{KERBEROS}'" in log
    assert "add it to loa_mapping.values" in log
