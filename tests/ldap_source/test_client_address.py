"""The address the rate limit counts: ``REMOTE_ADDR``, or ``X-Forwarded-For`` only when the
request came through one of the proxies the settings list (anyone can write the header)."""

from __future__ import annotations

from plugins.backends.ldap.throttle import client_address

TRUSTED = ["10.0.0.0/8", "127.0.0.1"]


def test_forwarded_for_from_an_unlisted_peer_is_ignored():
    headers = {"REMOTE_ADDR": "203.0.113.9", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client_address(headers, TRUSTED) == "203.0.113.9"


def test_forwarded_for_is_ignored_when_no_proxy_is_listed():
    headers = {"REMOTE_ADDR": "127.0.0.1", "HTTP_X_FORWARDED_FOR": "198.51.100.1"}
    assert client_address(headers, []) == "127.0.0.1"


def test_the_client_is_the_last_hop_before_our_own_proxies():
    # The client may prepend anything; only what our proxies appended counts.
    headers = {"REMOTE_ADDR": "10.1.2.3",
               "HTTP_X_FORWARDED_FOR": "1.2.3.4, 198.51.100.7, 10.9.9.9"}
    assert client_address(headers, TRUSTED) == "198.51.100.7"
