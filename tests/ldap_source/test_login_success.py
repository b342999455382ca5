"""A citizen signs in with their NC Connect account at an OIDC and a SAML demo service."""

from __future__ import annotations

from idp.testbed.browser import attributes_of

from .conftest import password_of
from .journey import open_form, sign_in

UID = "marie.wahnyamalla"


def test_login_at_an_oidc_service_releases_the_entrys_attributes(fed, browser):
    page = sign_in(browser, open_form(browser, fed, "rp-compte"), UID, password_of(UID))
    got = attributes_of(page)
    assert got["given_name"] == "Marie"
    assert got["family_name"] == "Wahnyamalla"
    assert got["birthdate"] == "1987-05-14"


def test_login_at_a_saml_service_releases_the_entrys_attributes(fed, browser):
    page = sign_in(browser, open_form(browser, fed, "sp-compte"), UID, password_of(UID))
    got = attributes_of(page)
    assert "Marie" in str(got) and "Wahnyamalla" in str(got)
