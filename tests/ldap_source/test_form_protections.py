"""The login form's post is bound to the flow (CSRF token) and must come from our origin."""

from __future__ import annotations

import pytest

from idp.testbed.browser import Browser, error_code_of

from .conftest import new_address, password_of
from .journey import FORM_PATH, open_form

UID = "marie.wahnyamalla"


def _fields(form, csrf: str | None = None) -> dict[str, str]:
    from bs4 import BeautifulSoup
    token = BeautifulSoup(form.text, "html.parser").select_one("input[name=csrf]")["value"]
    return {"csrf": csrf if csrf is not None else token, "identifiant": UID,
            "mot_de_passe": password_of(UID)}


@pytest.mark.parametrize("origin", ["https://attaquant.example", "null"])
def test_a_post_from_another_origin_is_refused(fed, browser, origin):
    form = open_form(browser, fed)
    resp = browser.session.post(f"{fed.proxy_url}{FORM_PATH}", data=_fields(form), timeout=30,
                                allow_redirects=False, headers={"Origin": origin})
    assert resp.status_code == 403 and error_code_of(resp) == "csrf"


def test_a_token_of_another_flow_is_refused(fed, browser):
    other = Browser()
    other.session.headers["X-Forwarded-For"] = new_address()
    foreign = _fields(open_form(other, fed))["csrf"]
    form = open_form(browser, fed)
    resp = browser.post_form_data(f"{fed.proxy_url}{FORM_PATH}", _fields(form, foreign))
    assert resp.status_code == 403 and error_code_of(resp) == "csrf"


def test_the_form_without_a_login_under_way_is_an_expired_session(fed, browser):
    resp = browser.get(f"{fed.proxy_url}{FORM_PATH}")
    assert error_code_of(resp) == "session_expiree"
