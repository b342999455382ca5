"""Redis stops while the usager reads the consent screen: a clear French page, and the service
receives nothing — never a response released without the usager's decision."""

from __future__ import annotations

import pytest

from idp.testbed.browser import Browser, autopost_form, error_code_of
from idp.testbed.federation import build_federation
from idp.testbed.login import consent_form
from idp.testbed.servers import RedisServer

from .conftest import SERVICES, ConsentFederation, to_screen


@pytest.fixture(scope="module")
def own_redis(tmp_path_factory):
    """A redis-server of this module's own, since the test stops it."""
    server = RedisServer(tmp_path_factory.mktemp("redis-outage"))
    yield server
    server.stop()


@pytest.fixture(scope="module")
def outage_fed(tmp_path_factory, own_redis):
    fed = build_federation(tmp_path_factory.mktemp("consent-outage"),
                           {"rp-accord": SERVICES["rp-accord"]})
    try:
        fed.start_proxy(workers=2, store=own_redis.url)
        yield ConsentFederation(fed, own_redis.url)
    finally:
        fed.stop()


def test_redis_stopped_on_the_screen_gives_a_french_503_and_releases_nothing(
        outage_fed, own_redis, citizen):
    browser = Browser()
    screen = to_screen(browser, outage_fed, "rp-accord", citizen)
    action, fields = consent_form(screen)
    own_redis.stop()
    resp = browser.post(action, fields, follow=False)
    assert resp.status_code == 503
    assert error_code_of(resp) == "service_indisponible"
    assert "Service momentanément indisponible" in resp.text
    assert "Location" not in resp.headers and autopost_form(resp) is None
    assert not any(value in resp.text for value in citizen.claims.values())
    assert outage_fed.fed.apps["rp-accord"].last_result is None
    reload = browser.get(f"{outage_fed.proxy_url}/consentement")
    assert reload.status_code == 503
