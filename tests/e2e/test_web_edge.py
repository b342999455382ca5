"""What every response of the proxy carries, and how it treats malformed HTTP."""

from __future__ import annotations

import requests

from idp.settings import Settings
from idp.testbed.browser import Browser, error_code_of
from idp.testbed.login import start


def test_pages_forbid_framing_and_caching(fed):
    page = start(Browser(), fed.url("rp-choix"))
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Frame-Options"] == "DENY"
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff"


def test_flow_cookie_is_opaque_httponly_secure(fed):
    browser = Browser()
    start(browser, fed.url("rp-choix"))
    set_cookie = next(h for r in browser.history for h in [r.headers.get("Set-Cookie", "")]
                      if h.startswith("__Host-ncc_flux="))
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "SameSite=" in set_cookie
    value = set_cookie.split(";")[0].split("=", 1)[1]
    assert len(value) >= 40 and "." not in value  # a random id, not data


def test_unknown_path_is_a_french_404_page(fed):
    resp = requests.get(f"{fed.proxy_url}/nulle-part", timeout=10)
    assert resp.status_code == 404
    assert error_code_of(resp) == "page_inconnue"


def test_unsupported_method_is_405(fed):
    resp = requests.put(f"{fed.proxy_url}/oidc/authorize", timeout=10)
    assert resp.status_code == 405


def test_oversized_body_is_refused_before_parsing(fed):
    # Just above max_body_bytes' default (512 KiB: a form with a 256 KiB logo fits below).
    body = {"x": "a" * (Settings.model_fields["max_body_bytes"].default + 1)}
    resp = requests.post(f"{fed.proxy_url}/oidc/token", data=body, timeout=10)
    assert resp.status_code == 413


def test_malformed_cookie_header_does_not_break_the_flow(fed):
    resp = requests.get(f"{fed.proxy_url}/.well-known/openid-configuration",
                        headers={"Cookie": '__Host-ncc_flux="abc; ;;=x; $Version=1; '
                                           '__Host-ncc_flux=""'},
                        timeout=10)
    assert resp.status_code == 200


def test_bad_percent_encoding_is_a_clear_error_not_a_500(fed):
    resp = requests.get(f"{fed.proxy_url}/oidc/authorize?client_id=%ff%fe&redirect_uri=%zz",
                        timeout=10)
    assert resp.status_code == 400


def test_health_endpoint_reports_the_store(fed):
    assert requests.get(f"{fed.proxy_url}/healthz", timeout=10).text == "ok"
