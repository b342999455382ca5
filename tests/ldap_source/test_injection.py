"""Whatever is typed in the login field, the filter's shape stays the administrator's: hostile
logins find nothing, raise nothing, and nothing personal reaches the log."""

from __future__ import annotations

import pytest

from .conftest import password_of, proxy_log
from .journey import FORM_PATH, open_form, post_login, problem_of

VICTIM = "marie.wahnyamalla"
ATTEMPTS = {
    "star": "*",
    "filter_break_out": ")(uid=*))(|(uid=*",
    "star_with_victim_password": "marie*",
    "nul": "marie.wahnyamalla\x00",
    "ten_thousand_chars": "a" * 10_000,
}


@pytest.mark.parametrize("login", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_a_hostile_login_finds_nothing(fed, browser, login):
    form = open_form(browser, fed)
    resp = post_login(browser, form, login, password_of(VICTIM))
    assert resp.status_code == 401 and problem_of(resp) == "identifiants"
    assert "Wahnyamalla" not in resp.text  # nothing of the victim's entry


def test_non_utf8_bytes_in_the_login_find_nothing(fed, browser):
    form = open_form(browser, fed)
    csrf = form_of_csrf(form)
    body = (f"csrf={csrf}&identifiant=marie%FF%FE.wahnyamalla&mot_de_passe="
            f"{password_of(VICTIM)}").encode()
    resp = browser.session.post(f"{fed.proxy_url}{FORM_PATH}", data=body, timeout=30,
                                allow_redirects=False,
                                headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert resp.status_code == 401 and problem_of(resp) == "identifiants"


def test_no_login_nor_dn_in_the_log(fed, browser):
    form = open_form(browser, fed)
    post_login(browser, form, "trace.personnelle)(uid=*", "faux")
    post_login(browser, form, "essai.50", "faux")
    log = proxy_log(fed)
    assert "Traceback" not in log
    for personal in ("trace.personnelle", "essai.50", "uid=", "ou=personnes", "Wahnyamalla"):
        assert personal not in log, personal


def form_of_csrf(form) -> str:
    from bs4 import BeautifulSoup
    return BeautifulSoup(form.text, "html.parser").select_one("input[name=csrf]")["value"]
