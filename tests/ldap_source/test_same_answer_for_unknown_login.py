"""An unknown login and a wrong password get the same page, in the same time (no account
enumeration): one search and one bind on both paths."""

from __future__ import annotations

import statistics
import time

from .conftest import TIMING_ACCOUNTS, new_address, token
from .journey import open_form, post_login, problem_of, problem_text

UID = "tom.verrou"
TRIES = 50


def test_unknown_login_and_wrong_password_show_the_same_message(fed, browser):
    form = open_form(browser, fed)
    wrong = post_login(browser, form, UID, "pas-le-bon")
    unknown = post_login(browser, form, f"personne.inconnue.{token()}", "pas-le-bon")
    assert wrong.status_code == unknown.status_code == 401
    assert problem_of(wrong) == problem_of(unknown) == "identifiants"
    assert problem_text(wrong) == problem_text(unknown)
    assert "Identifiant ou mot de passe incorrect" in problem_text(wrong)


def _times(browser, form, logins: list[str]) -> list[float]:
    times = []
    for login in logins:
        browser.session.headers["X-Forwarded-For"] = new_address()  # below the rate limit
        start = time.perf_counter()
        resp = post_login(browser, form, login, "pas-le-bon")
        times.append(time.perf_counter() - start)
        assert problem_of(resp) == "identifiants"
    return times


def test_unknown_login_and_wrong_password_take_similar_time(fed, browser):
    form = open_form(browser, fed)
    _times(browser, form, [f"chauffe-{n}" for n in range(5)] + TIMING_ACCOUNTS[-5:])
    existing: list[float] = []
    unknown: list[float] = []
    # Interleaved in blocks of five, so that a slower moment of the machine hits both.
    for block in range(0, TRIES, 5):
        existing += _times(browser, form, TIMING_ACCOUNTS[block:block + 5])
        unknown += _times(browser, form, [f"inconnu-{n}" for n in range(block, block + 5)])
    assert len(existing) == len(unknown) == TRIES
    wrong, missing = statistics.median(existing), statistics.median(unknown)
    print(f"median wrong password {wrong * 1000:.1f} ms, unknown login {missing * 1000:.1f} ms")
    assert abs(wrong - missing) / max(wrong, missing) < 0.20, (wrong, missing)
