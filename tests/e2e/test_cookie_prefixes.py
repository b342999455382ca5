"""Every cookie the proxy sets carries the prefix its rules allow, and still works when the
steps of a login land on different workers (three here, sharing one Redis)."""

from __future__ import annotations

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import decide, login, on_consent_screen, start


def _proxy_cookies(browser: Browser, proxy_url: str) -> dict[str, str]:
    """Name → the full Set-Cookie line, for every cookie the proxy set (last one wins)."""
    found: dict[str, str] = {}
    for resp in browser.history:
        if resp.url.startswith(proxy_url):
            for line in resp.raw.headers.getlist("Set-Cookie"):
                found[line.split("=", 1)[0]] = line
    return found


def _attributes(line: str) -> dict[str, str]:
    parts = [p.strip() for p in line.split(";")[1:]]
    return {p.split("=", 1)[0].lower(): (p.split("=", 1)[1] if "=" in p else "") for p in parts}


def test_flow_session_and_choice_cookies_are_host_prefixed_and_meet_its_rules(fed):
    browser = Browser()
    assert attributes_of(login(browser, fed.url("rp-choix"), CITIZENS[0], source="src-op"))

    cookies = _proxy_cookies(browser, fed.proxy_url)

    assert {"__Host-ncc_flux", "__Host-ncc_session", "__Host-ncc_choix"} <= set(cookies)
    for name, line in cookies.items():
        assert name.startswith("__Host-"), f"{name} has no __Host- prefix"
        attrs = _attributes(line)
        assert "secure" in attrs and attrs.get("path") == "/" and "domain" not in attrs, line


def test_prefixed_cookies_carry_a_login_and_its_single_sign_on_across_workers(fed):
    browser = Browser()
    first = attributes_of(login(browser, fed.url("rp-op"), CITIZENS[1]))
    # Answered from the SSO session named by __Host-ncc_session, on whichever worker.
    for _ in range(3):
        page = start(browser, fed.url("rp-op"))
        again = attributes_of(decide(browser, page) if on_consent_screen(page) else page)
        assert again["sub"] == first["sub"]
