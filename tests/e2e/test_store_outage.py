"""A store outage stops logins with a clear French page, never a half-done login."""

from __future__ import annotations

from urllib.parse import urlencode

from werkzeug.test import Client

from idp.testbed.browser import error_code_of
from idp.testbed.servers import free_port
from idp.wsgi import make_app


class _Page:  # what error_code_of reads, from a werkzeug response
    def __init__(self, resp) -> None:
        self.text = resp.get_data(as_text=True)


def _dead_store_app(fed):
    return Client(make_app(fed.config, env=fed.env,
                           store=f"redis://127.0.0.1:{free_port()}/0"))


def test_readiness_reports_503_naming_the_store_when_redis_is_down(fed):
    app = _dead_store_app(fed)
    resp = app.get("/readyz")
    assert resp.status_code == 503
    assert resp.json["checks"]["store"].startswith("ko")
    assert resp.json["ready"] is False


def test_liveness_stays_ok_when_redis_is_down(fed):
    assert _dead_store_app(fed).get("/healthz").status_code == 200


def test_login_during_redis_outage_gets_the_unavailable_page(fed):
    query = urlencode({"client_id": "rp-op", "redirect_uri": f"{fed.url('rp-op')}/callback",
                       "response_type": "code", "scope": "openid", "state": "s", "nonce": "n",
                       "code_challenge": "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM",
                       "code_challenge_method": "S256"})
    resp = _dead_store_app(fed).get(f"/oidc/authorize?{query}")
    assert resp.status_code == 503
    assert error_code_of(_Page(resp)) == "service_indisponible"
    assert "Location" not in resp.headers


def test_token_endpoint_during_redis_outage_answers_an_oauth_error(fed):
    auth = ("rp-op", fed.client_secrets["rp-op"])
    resp = _dead_store_app(fed).post("/oidc/token", auth=auth, data={
        "grant_type": "authorization_code", "code": "x", "redirect_uri": "https://a.nc/cb"})
    assert resp.status_code == 503
    assert resp.get_json() == {"error": "temporarily_unavailable"}
