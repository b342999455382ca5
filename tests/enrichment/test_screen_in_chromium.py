"""The information screen in a real Chromium, under the production Content-Security-Policy:
the values the Province directory supplied say so beside them, and the page stays accessible
(axe, WCAG 2.1 A/AA: no serious or critical finding)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.axe import assert_no_serious_violation, run_axe
from idp.testbed.chromium import new_context

from .conftest import PROVINCE, SCOPE

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

MARIE = CITIZENS[0]


@pytest.fixture
def open_page(chromium_browser: Browser) -> Iterator[Callable[..., Page]]:
    contexts = []

    def open_one(bypass_csp: bool = False) -> Page:
        contexts.append(new_context(chromium_browser, bypass_csp=bypass_csp))
        return contexts[-1].new_page()

    yield open_one
    for context in contexts:
        context.close()


def _to_screen(page: Page, fed) -> None:
    page.goto(f"{fed.url('rp-province')}/login?{urlencode({'scope': SCOPE})}")
    page.get_by_label("Identifiant").fill(MARIE.username)
    page.get_by_label("Mot de passe").fill(MARIE.password)
    page.get_by_role("button", name="Se connecter").click()
    page.locator("form#form-consentement").wait_for()


def test_chromium_shows_the_provenance_beside_each_added_value(fed, open_page):
    page = open_page()
    _to_screen(page, fed)
    line = page.locator('li.attribut[data-name="province"] .ligne')
    assert " ".join(line.inner_text().split()) == \
        f"Province de résidence : Province Sud (fourni par {PROVINCE})"
    assert page.locator('li.attribut[data-name="given_name"] .provenance').count() == 0
    page.get_by_role("button", name="Continuer").click()
    result = page.locator('table#attributs tr[data-name="province"] td')
    assert result.inner_text() == "Province Sud"


def test_screen_with_provenance_has_no_serious_accessibility_finding(fed, open_page):
    page = open_page(bypass_csp=True)  # axe is injected as a script
    _to_screen(page, fed)
    assert_no_serious_violation(run_axe(page))
