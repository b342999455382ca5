"""Single logout started at a partner SP, whatever its software: the contract every SAML
service module of this folder checks against its own peer.

A module subclasses :class:`ServiceLogoutContract` in a ``Test…`` class and provides two
fixtures: ``peers`` (the federation as ``peers.fed`` and ``peers.why(page)`` to explain a
failure) and ``signed_in`` (a function ``browser, citizen -> page`` that signs a citizen in
at the service through the proxy). ``peers.sp`` is the partner software: its own logout
link (:meth:`logout_url`), where that logout lands (``logged_out_url``) and its protected
page (``protected_url``).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from idp.testbed.browser import Browser


class ServiceLogoutContract:
    def test_logout_returns_to_the_service_s_own_page(self, peers, signed_in, citizen):
        browser = Browser()
        signed_in(browser, citizen)

        page = browser.get(peers.sp.logout_url())

        assert page.url == peers.sp.logged_out_url, peers.why(page)

    def test_logout_ends_the_proxy_session(self, peers, signed_in, citizen):
        browser = Browser()
        signed_in(browser, citizen)
        browser.get(peers.sp.logout_url())

        again = browser.get(peers.sp.protected_url)

        assert urlsplit(again.url).path == "/choix", peers.why(again)

    def test_logout_ends_the_session_at_the_source(self, peers, signed_in, citizen):
        browser = Browser()
        signed_in(browser, citizen)
        source = peers.fed.apps["src-op"]
        before = source.end_session_requests

        browser.get(peers.sp.logout_url())

        assert source.end_session_requests == before + 1
