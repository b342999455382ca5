"""After ``lockout.failures`` wrong passwords an account is refused for ``lockout.minutes``,
the citizen told until when; counted in the shared store, so every worker and host agrees."""

from __future__ import annotations

import re

from idp.testbed.browser import Browser

from .conftest import LOCKOUT_FAILURES, new_address, password_of
from .journey import FORM_PATH, open_form, post_login, problem_of, problem_text


def test_account_is_locked_after_the_configured_failures_with_its_end_time(fed, browser):
    uid = "paul.bloque"
    form = open_form(browser, fed)
    answers = [post_login(browser, form, uid, f"faux-{n}") for n in range(LOCKOUT_FAILURES)]
    assert [problem_of(a) for a in answers[:-1]] == ["identifiants"] * (LOCKOUT_FAILURES - 1)
    assert problem_of(answers[-1]) == "trop_essais"
    # Even the right password is refused now, and the page says when it ends (Nouméa time).
    locked = post_login(browser, form, uid.upper() + " ", password_of(uid))
    assert locked.status_code == 429 and problem_of(locked) == "trop_essais"
    assert re.search(r"réessayez après \d\d h \d\d", problem_text(locked))


def test_lockout_holds_across_workers_and_hosts(fed, other_proxy):
    uid = "lea.verrou"
    browser = Browser()
    browser.session.headers["X-Forwarded-For"] = new_address()
    form = open_form(browser, fed)
    mark = fed.access_log_mark()
    for n in range(LOCKOUT_FAILURES - 1):
        assert problem_of(post_login(browser, form, uid, f"faux-{n}")) == "identifiants"
    # The last failure goes to another proxy process sharing the store (same keys, same
    # flow): it finds the earlier failures and locks.
    fields = {"csrf": form_csrf(form), "identifiant": uid, "mot_de_passe": "faux"}
    other = browser.post_form_data(f"{other_proxy.url}{FORM_PATH}", fields)
    assert problem_of(other) == "trop_essais"
    again = post_login(browser, form, uid, password_of(uid))
    assert problem_of(again) == "trop_essais"
    assert fed.worker_pids_seen(FORM_PATH, since=mark)  # served by the proxy's workers


def test_an_unknown_login_is_locked_like_an_existing_one(fed, browser):
    form = open_form(browser, fed)
    answers = [post_login(browser, form, "nobody.here", f"x{n}") for n in range(LOCKOUT_FAILURES)]
    assert problem_of(answers[-1]) == "trop_essais"


def form_csrf(form) -> str:
    from bs4 import BeautifulSoup
    field = BeautifulSoup(form.text, "html.parser").select_one("input[name=csrf]")
    assert field is not None
    return field["value"]


def test_a_right_password_clears_the_failures_counted(fed):
    uid = "rose.reprise"
    for _ in range(2):  # twice the failures just below the limit, a success in between
        browser = Browser()  # a new visit each time (no single sign-on session)
        browser.session.headers["X-Forwarded-For"] = new_address()
        form = open_form(browser, fed)
        for n in range(LOCKOUT_FAILURES - 1):
            assert problem_of(post_login(browser, form, uid, f"faux-{n}")) == "identifiants"
        signed_in = post_login(browser, form, uid, password_of(uid))
        assert signed_in.is_redirect, problem_of(signed_in)


def test_the_failure_counter_names_no_login_a_copy_of_the_store_could_check(fed, redis_server):
    """The counter's key is an HMAC under a key of the proxy's: hashing a guessed login (as
    typed, or normalised) finds nothing in the store."""
    import hashlib

    import redis

    from .conftest import SOURCE

    uid = "lina.compteur"
    browser = Browser()
    browser.session.headers["X-Forwarded-For"] = new_address()
    post_login(browser, open_form(browser, fed), uid, "faux")
    keys = {k.decode() for k in redis.Redis.from_url(redis_server.url).keys("*ldap-echecs*")}
    assert keys, "the failure was not counted in the shared store"
    guess = hashlib.sha256(f"{SOURCE}\x00{uid}".encode()).hexdigest()
    assert not any(guess in k for k in keys)
