"""A federation for single logout, on a real redis-server, with services that can and cannot
be told.

The testbed's two demo sources (``src-op``: OIDC with an ``end_session_endpoint``;
``src-idp``: SAML with a SingleLogoutService) and real demo services: OIDC RPs that
verify back-channel logout tokens (``rp-a``, ``rp-b``), one without a back-channel URI
(``rp-sans``), one whose back-channel URI points at a closed port (``rp-panne``); SAML
SPs with Redirect and POST SingleLogoutService (``sp-a``), POST only (``sp-post``), one
that the tests stop (``sp-panne``); and ``rp-idp`` on the SAML source.

The proxy is ``ncconnect serve`` under gunicorn (two workers); a second proxy process
shares the same Redis for the cross-process test.
"""

from __future__ import annotations

import pytest

from idp.demo.citizens import CITIZENS
from idp.stores import open_store
from idp.testbed.federation import build_federation
from idp.testbed.servers import free_port

NAMES = ["given_name", "family_name"]

SERVICES: dict[str, tuple] = {
    "rp-a": ("oidc", ["src-op"], NAMES),
    "rp-b": ("oidc", ["src-op"], ["given_name"]),
    "rp-sans": ("oidc", ["src-op"], ["given_name"], {"peer": {"backchannel": False}}),
    "rp-panne": ("oidc", ["src-op"], ["given_name"],
                 {"peer": {"backchannel": f"http://127.0.0.1:{free_port()}/logout"}}),
    "sp-a": ("saml2", ["src-op"], NAMES),
    "sp-post": ("saml2", ["src-op"], ["given_name"],
                {"peer": {"slo": ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"]}}),
    "sp-panne": ("saml2", ["src-op"], ["given_name"]),
    "rp-idp": ("oidc", ["src-idp"], ["given_name"]),
}


@pytest.fixture(scope="package")
def fed(tmp_path_factory, redis_server):
    # INFO: logout events are logged, and the log is checked for names.
    federation = build_federation(tmp_path_factory.mktemp("logout"), SERVICES, log_level="INFO")
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture(scope="package")
def other_proxy(fed, redis_server):
    proxy = fed.second_host(redis_server.url)
    yield proxy
    proxy.stop()


@pytest.fixture(scope="package")
def store(redis_server):
    return open_store(redis_server.url)


@pytest.fixture
def citizen():
    return CITIZENS[2]
