"""Server-to-server notices: every one is tried, in parallel, failures collected not raised; only
https (or loopback http in demo mode) is ever called."""

from __future__ import annotations

import time

import pytest
from werkzeug.wrappers import Request, Response

from idp.demo.serve import BackgroundServer
from idp.sso.logout_notices import Notice, NoticeFailed, deliver, post
from idp.testbed.servers import free_port


@pytest.fixture(scope="module")
def partner():
    """A relying party's back-channel endpoint: 200, 500, or slow, by path."""
    def app(environ, start_response):
        request = Request(environ)
        if request.path == "/lent":
            time.sleep(1)
        status = 500 if request.path == "/erreur" else 200
        return Response("", status=status)(environ, start_response)

    server = BackgroundServer(app).start()
    yield server.url
    server.stop()


def _to(url: str, service: str) -> Notice:
    return Notice(service, lambda: post(url, allow_loopback_http=True, data={"logout_token": "t"}))


def test_failures_are_collected_and_the_others_still_told(partner):
    dead = f"http://127.0.0.1:{free_port()}/logout"

    reached, failed = deliver([_to(f"{partner}/ok", "a"), _to(dead, "b"),
                               _to(f"{partner}/erreur", "c"), _to(f"{partner}/ok", "d")])

    assert reached == ["a", "d"] and failed == ["b", "c"]


def test_notices_are_sent_in_parallel(partner):
    started = time.monotonic()

    reached, _ = deliver([_to(f"{partner}/lent", str(i)) for i in range(6)])

    assert len(reached) == 6 and time.monotonic() - started < 4


@pytest.mark.parametrize(("url", "loopback_allowed"), [
    ("http://example.org/logout", True),
    ("http://127.0.0.1:9/logout", False),
    ("ftp://example.org/logout", True),
])
def test_only_https_or_demo_loopback_is_called(url, loopback_allowed):
    with pytest.raises(NoticeFailed, match="not allowed"):
        post(url, allow_loopback_http=loopback_allowed, data={"logout_token": "t"})
