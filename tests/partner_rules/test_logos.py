"""Partner logos are served by the proxy itself, so every page keeps images from 'self' only."""

from __future__ import annotations

import requests

from .conftest import LOGO


def test_a_partners_logo_is_served_from_its_registered_file(fed):
    resp = requests.get(f"{fed.proxy_url}/logos/rp-autre", timeout=10)
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("image/svg+xml")
    assert resp.content == LOGO
    assert "default-src 'none'" in resp.headers["Content-Security-Policy"]
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_a_partner_without_logo_or_an_unknown_one_is_a_404_page(fed):
    for path in ("logos/rp-min-op", "logos/inconnu", "logos/../proxy.yaml"):
        assert requests.get(f"{fed.proxy_url}/{path}", timeout=10).status_code == 404, path
