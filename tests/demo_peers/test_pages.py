"""What every usager sees on the peers: French, labelled, no inline script, own cookies."""

from __future__ import annotations

import pytest
import requests

from idp.demo.citizens import CITIZENS
from idp.demo.op import make_demo_op
from idp.demo.rp import make_demo_rp
from idp.demo.saml_idp import make_demo_idp
from idp.demo.saml_sp import make_demo_sp

from .helpers import error_code, loopback, soup

CALLBACK = "http://127.0.0.1:9/callback"


@pytest.fixture
def op(rsa_pem, serve, port):
    p = port()
    app = make_demo_op(loopback(p), {"c": {"client_secret": "s", "redirect_uris": [CALLBACK]}},
                       rsa_pem, CITIZENS)
    serve(app, p)
    return app


def _login_page(op, session=None):
    session = session or requests.Session()
    return session.get(f"{op.issuer}/authorize", timeout=10, params={
        "response_type": "code", "client_id": "c", "redirect_uri": CALLBACK, "scope": "openid",
        "state": "s"})


def test_login_page_is_french_and_every_field_has_a_label(op):
    doc = soup(_login_page(op).text)
    assert doc.html["lang"] == "fr"
    fields = doc.find_all("input", type=lambda t: t != "hidden")
    assert {f["id"] for f in fields} == {"identifiant", "mot_de_passe"}
    for field in fields:
        assert doc.find("label", attrs={"for": field["id"]}) is not None


def test_pages_have_no_inline_script_and_a_strict_policy(op):
    page = _login_page(op)
    csp = page.headers["Content-Security-Policy"]
    assert all(script.get("src") for script in soup(page.text).find_all("script"))
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp and page.headers["X-Frame-Options"] == "DENY"


def test_login_form_may_post_only_to_itself_the_clients_origin_and_loopback(op):
    """The post is redirected on through the proxy to the service: the demo (loopback only)
    allows loopback ports, never another host."""
    csp = _login_page(op).headers["Content-Security-Policy"]
    assert "form-action 'self' http://127.0.0.1:9 http://127.0.0.1:*;" in csp


def test_stylesheet_and_autopost_script_are_served(op):
    css = requests.get(f"{op.issuer}/static/demo.css", timeout=10)
    js = requests.get(f"{op.issuer}/static/autopost.js", timeout=10)
    assert css.status_code == 200 and css.headers["Content-Type"].startswith("text/css")
    assert js.status_code == 200 and "autopost" in js.text


def test_static_path_traversal_is_a_404(op):
    page = requests.get(f"{op.issuer}/static/..%2f..%2fkeys.py", timeout=10)
    assert page.status_code == 404


def test_unknown_page_is_a_french_404(op):
    page = requests.get(f"{op.issuer}/nulle-part", timeout=10)
    assert page.status_code == 404 and error_code(page.text) == "page_inconnue"


def test_non_ascii_form_values_are_refused_not_crashed(op):
    session = requests.Session()
    page = _login_page(op, session)
    demande = soup(page.text).find("input", attrs={"name": "demande"})["value"]
    answer = session.post(f"{op.issuer}/connexion", timeout=10, data={
        "demande": demande, "csrf": "é" * 43, "identifiant": "é", "mot_de_passe": "é"})
    assert answer.status_code == 403 and error_code(answer.text) == "csrf"


def test_the_four_peers_name_their_cookies_apart(rsa_pem, saml_keys):
    peers = [
        make_demo_op("http://127.0.0.1:8441", {}, rsa_pem, CITIZENS),
        make_demo_idp("http://127.0.0.1:8442", *saml_keys("idp"), [], CITIZENS),
        make_demo_rp("http://127.0.0.1:8443", "http://127.0.0.1:8440", "rp", "s", "Mairie"),
        make_demo_sp("http://127.0.0.1:8444", *saml_keys("sp"),
                     "http://127.0.0.1:8440/saml2/metadata", "Province"),
    ]
    names = {peer.cookie_name for peer in peers}
    assert len(names) == 4 and "__Host-ncc_flux" not in names
