"""The rule every form of ours applies after its CSRF token (:mod:`idp.same_origin`)."""

from __future__ import annotations

import pytest
from satosa.context import Context

from idp.same_origin import posted_from

OURS = "https://connect.gouv.nc"


def _post(**headers: str) -> Context:
    context = Context()
    context.http_headers = {f"HTTP_{k.upper()}": v for k, v in headers.items()}
    return context


def test_a_post_stating_our_origin_passes():
    assert posted_from(_post(origin=OURS, sec_fetch_site="same-origin"), OURS)


def test_a_post_stating_another_origin_is_refused():
    assert not posted_from(_post(origin="https://pirate.example"), OURS)


@pytest.mark.parametrize("site", ["cross-site", "same-site", "none", ""])
def test_a_post_the_browser_says_is_not_same_origin_is_refused(site):
    assert not posted_from(_post(origin=OURS, sec_fetch_site=site), OURS)


def test_origin_null_passes_only_when_the_browser_vouches_same_origin():
    """Our pages send Referrer-Policy: no-referrer, under which Chromium posts Origin: null."""
    assert posted_from(_post(origin="null", sec_fetch_site="same-origin"), OURS)
    assert not posted_from(_post(origin="null"), OURS)
    assert not posted_from(_post(origin="null", sec_fetch_site="cross-site"), OURS)


def test_another_port_or_scheme_is_another_origin():
    assert not posted_from(_post(origin="https://connect.gouv.nc:8443"), OURS)
    assert not posted_from(_post(origin="http://connect.gouv.nc"), OURS)


def test_a_client_stating_nothing_is_left_to_the_csrf_token():
    assert posted_from(_post(), OURS)
