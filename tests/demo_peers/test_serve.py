"""BackgroundServer and free_port: the loopback runner of the demo peers."""

from __future__ import annotations

import socket

import pytest
import requests

from idp.demo.serve import BackgroundServer, free_port


def _hello(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [b"bonjour"]


def test_server_answers_on_its_url_until_stopped():
    server = BackgroundServer(_hello).start()
    assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
    assert requests.get(server.url, timeout=5).text == "bonjour"
    server.stop()
    with pytest.raises(requests.ConnectionError):
        requests.get(server.url, timeout=5)


def test_server_binds_the_port_it_is_given():
    port = free_port()
    with BackgroundServer(_hello, port=port) as server:
        assert server.port == port
        assert requests.get(f"http://127.0.0.1:{port}/", timeout=5).status_code == 200


def test_starting_on_a_busy_port_raises_oserror():
    with BackgroundServer(_hello) as first:
        with pytest.raises(OSError):
            BackgroundServer(_hello, port=first.port).start()


def test_free_port_can_be_bound_on_loopback():
    port = free_port()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", port))
