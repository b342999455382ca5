"""A directory that is down or silent: a clear page, the other sources unaffected, recovery
without restarting the proxy, and never more than the configured timeouts."""

from __future__ import annotations

import time

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.login import login

from .conftest import SILENT_TIMEOUTS, new_address, password_of, proxy_log
from .journey import open_form, post_login, sign_in

UID = "kim.panne"


def _browser() -> Browser:
    browser = Browser()
    browser.session.headers["X-Forwarded-For"] = new_address()
    return browser


def test_directory_stopped_then_restarted(fed, slapd):
    before = _browser()
    assert attributes_of(sign_in(before, open_form(before, fed), UID, password_of(UID)))
    slapd.stop()
    try:
        # Both workers: each finds its kept connection dead and says so.
        for _ in range(3):
            browser = _browser()
            down = post_login(browser, open_form(browser, fed), UID, password_of(UID))
            assert down.status_code == 502 and error_code_of(down) == "source_indisponible"
            assert "choisissez un autre compte" in down.text
        # Another source of the same service keeps working.
        other = _browser()
        assert attributes_of(login(other, fed.url("rp-choix"), CITIZENS[1], source="src-op"))
    finally:
        slapd.start()
    after = _browser()
    assert attributes_of(sign_in(after, open_form(after, fed), UID, password_of(UID)))
    assert "Traceback" not in proxy_log(fed)


def test_a_directory_that_never_answers_costs_at_most_its_timeout(fed):
    browser = _browser()
    form = open_form(browser, fed, "rp-muet")
    started = time.monotonic()
    resp = post_login(browser, form, "quelqu.un", "mot-de-passe")
    elapsed = time.monotonic() - started
    assert error_code_of(resp) == "source_indisponible"
    budget = SILENT_TIMEOUTS["connect_timeout"] + SILENT_TIMEOUTS["search_timeout"]
    assert elapsed < budget + 0.5, elapsed
