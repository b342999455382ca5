"""One client address may try ``rate_limit.attempts`` logins per window, whatever the
accounts; ``X-Forwarded-For`` counts only from a listed proxy."""

from __future__ import annotations

from .conftest import RATE_ATTEMPTS, new_address, password_of
from .journey import open_form, post_login, problem_of


def test_an_address_over_the_limit_is_refused_until_the_window_ends(fed, browser):
    form = open_form(browser, fed)
    answers = [post_login(browser, form, f"quelqu.un-{n}", "faux") for n in range(RATE_ATTEMPTS)]
    assert {problem_of(a) for a in answers} <= {"identifiants", "trop_essais"}
    refused = post_login(browser, form, "ines.debit", password_of("ines.debit"))
    assert refused.status_code == 429 and problem_of(refused) == "trop_tentatives"
    assert "Réessayez après" in refused.text
    # Another address is not concerned.
    browser.session.headers["X-Forwarded-For"] = new_address()
    assert problem_of(post_login(browser, form, "quelqu.un-autre", "faux")) == "identifiants"
