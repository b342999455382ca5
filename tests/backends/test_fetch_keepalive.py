"""Back-channel calls to a source reuse one kept-alive connection, on a real loopback server.

The server counts the TCP connections it accepts: two calls to the same source over one
:class:`Trust` must arrive on one connection; an oversized answer's connection is dropped,
not reused; a cookie set by the source is never sent back; a redirect is still refused; a
GET whose kept-alive connection the source closes as it goes out is sent once more, a POST
never.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from plugins.backends.oidc import fetch
from plugins.backends.oidc.errors import InvalidSourceResponse, SourceUnavailable
from plugins.backends.oidc.fetch import SYSTEM_STORE, Trust, call_json


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.accepted = 0
        self.cookies_seen: list[str] = []
        self.requests_seen: list[str] = []

    def get_request(self):
        conn = super().get_request()
        self.accepted += 1
        return conn


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive

    def log_message(self, *args) -> None:
        pass

    def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def _closed_on_reuse(self) -> bool:
        """On ``/idle-timeout`` paths, the first request of a connection is answered and kept
        alive; a later one on it finds the connection closed without an answer, as when the
        source's idle timeout fires just as the request goes out."""
        self.server.requests_seen.append(f"{self.command} {self.path}")
        if not self.path.startswith("/idle-timeout"):
            return False
        if getattr(self, "answered_once", False):
            self.close_connection = True
            return True
        self.answered_once = True
        return False

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        if self._closed_on_reuse():
            return
        if self.headers.get("Cookie"):
            self.server.cookies_seen.append(self.headers["Cookie"])
        if self.path == "/big":
            self._send(200, json.dumps({"x": "a" * (fetch.MAX_JSON_BYTES + 10)}).encode())
        elif self.path == "/redirect":
            self._send(302, b"{}", {"Location": "/json"})
        elif self.path == "/cookie":
            self._send(200, b'{"ok": true}', {"Set-Cookie": "citizen=alice; Path=/"})
        else:
            self._send(200, b'{"ok": true}')

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self._closed_on_reuse():
            return
        self._send(200, b'{"token": "t"}')


@pytest.fixture()
def server() -> Iterator[_Server]:
    srv = _Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    fetch._forget_pools()  # connections of earlier tests are not this server's
    fetch._proxies.cache_clear()
    yield srv
    srv.shutdown()
    srv.server_close()
    fetch._forget_pools()
    # A later test's server may get this port: it must not inherit a proxy read here.
    fetch._proxies.cache_clear()


def _url(srv: _Server, path: str) -> str:
    return f"http://127.0.0.1:{srv.server_address[1]}{path}"


def test_calls_to_one_source_share_one_connection(server: _Server) -> None:
    for _ in range(3):
        assert call_json("GET", _url(server, "/json"), what="jwks", trust=SYSTEM_STORE
                         ).data == {"ok": True}
    assert call_json("POST", _url(server, "/token"), what="token", trust=SYSTEM_STORE,
                     data={"code": "c"}).data == {"token": "t"}
    assert server.accepted == 1


def test_another_trust_gets_its_own_connection(server: _Server, tmp_path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("unused for plain http\n")
    call_json("GET", _url(server, "/json"), what="jwks", trust=SYSTEM_STORE)
    call_json("GET", _url(server, "/json"), what="jwks", trust=Trust(str(ca)))
    assert server.accepted == 2
    assert fetch.pool_for(Trust(str(ca))) is not fetch.pool_for(SYSTEM_STORE)


def test_oversized_answer_is_refused_and_its_connection_not_reused(server: _Server) -> None:
    with pytest.raises(InvalidSourceResponse, match="larger than"):
        call_json("GET", _url(server, "/big"), what="userinfo", trust=SYSTEM_STORE)
    assert call_json("GET", _url(server, "/json"), what="jwks", trust=SYSTEM_STORE
                     ).data == {"ok": True}
    assert server.accepted == 2


def test_redirect_still_refused(server: _Server) -> None:
    with pytest.raises(InvalidSourceResponse, match="redirect"):
        call_json("GET", _url(server, "/redirect"), what="discovery", trust=SYSTEM_STORE)


def test_cookie_of_a_source_never_sent_back(server: _Server) -> None:
    call_json("GET", _url(server, "/cookie"), what="userinfo", trust=SYSTEM_STORE)
    call_json("GET", _url(server, "/json"), what="userinfo", trust=SYSTEM_STORE)
    assert server.cookies_seen == []


def test_proxy_environment_read_once_per_host_and_still_honoured(server: _Server,
                                                                 monkeypatch) -> None:
    calls = []
    real = fetch.requests.utils.get_environ_proxies

    def counted(url, no_proxy=None):
        calls.append(url)
        return real(url, no_proxy)

    monkeypatch.setattr(fetch.requests.utils, "get_environ_proxies", counted)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # would fail: bypassed by NO_PROXY
    for _ in range(3):
        call_json("GET", _url(server, "/json"), what="jwks", trust=SYSTEM_STORE)
    assert len(calls) == 1

    fetch._proxies.cache_clear()
    monkeypatch.delenv("NO_PROXY")
    with pytest.raises(SourceUnavailable, match="unreachable"):  # through the dead proxy
        call_json("GET", _url(server, "/json"), what="jwks", trust=SYSTEM_STORE)


def test_get_on_a_connection_the_source_just_closed_is_sent_again_on_a_new_one(
        server: _Server) -> None:
    call_json("GET", _url(server, "/idle-timeout"), what="jwks", trust=SYSTEM_STORE)
    assert call_json("GET", _url(server, "/idle-timeout"), what="jwks", trust=SYSTEM_STORE
                     ).data == {"ok": True}
    assert server.accepted == 2
    assert server.requests_seen == ["GET /idle-timeout"] * 3


def test_post_on_a_connection_the_source_just_closed_is_not_sent_again(
        server: _Server) -> None:
    call_json("POST", _url(server, "/idle-timeout"), what="token", trust=SYSTEM_STORE,
              data={"code": "c"})
    with pytest.raises(SourceUnavailable, match="unreachable"):
        call_json("POST", _url(server, "/idle-timeout"), what="token", trust=SYSTEM_STORE,
                  data={"code": "c"})
    assert server.requests_seen == ["POST /idle-timeout"] * 2
