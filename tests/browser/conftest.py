"""Browser fixtures: one Debian Chromium per session, a fresh context per test, and a real
federation (demo peers, the proxy under gunicorn with Redis) to click through.

Nothing here skips: without Chromium (or Playwright) every test fails, saying to run
``scripts/setup.sh``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import pytest

from idp.demo.citizens import CITIZENS, Citizen
from idp.testbed.axe import AxeReport, run_axe
from idp.testbed.chromium import (
    ARTEFACTS,
    DEFAULT_LOCALE,
    CspRefusals,
    Screenshots,
    new_context,
    screenshot_folder,
)
from idp.testbed.federation import build_federation

if TYPE_CHECKING:  # imported by idp.testbed.chromium at launch, with a clear error if missing
    from playwright.sync_api import Browser, BrowserContext, Page


@pytest.fixture(scope="session")
def fed(tmp_path_factory, redis_server):
    federation = build_federation(tmp_path_factory.mktemp("federation"))
    try:
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test, so fixtures know at teardown if it failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def csp_refusals() -> CspRefusals:
    """What Chromium refused under the CSP in this test's pages (watched by ``new_page``)."""
    return CspRefusals()


@pytest.fixture
def new_page(request, chromium_browser: Browser,
             csp_refusals: CspRefusals) -> Iterator[Callable[..., Page]]:
    """Open a page in a new context (own cookies); ``bypass_csp=True`` only for axe checks.

    A failed test leaves a screenshot of each of its pages, and the CSP refusals it met.
    """
    contexts: list[BrowserContext] = []
    folder = screenshot_folder(request.node.name)
    for stale in folder.glob("echec-*.png"):  # from an earlier failed run of this test
        stale.unlink()

    def open_page(locale: str = DEFAULT_LOCALE, bypass_csp: bool = False) -> Page:
        context = new_context(chromium_browser, locale=locale, bypass_csp=bypass_csp)
        csp_refusals.watch(context)
        contexts.append(context)
        return context.new_page()

    yield open_page
    call = getattr(request.node, "report_call", None)
    if call is not None and call.failed:
        folder.mkdir(parents=True, exist_ok=True)
        for n, context in enumerate(contexts, 1):
            for m, failed_page in enumerate(context.pages, 1):
                failed_page.screenshot(path=str(folder / f"echec-{n}-{m}.png"), full_page=True)
        print(f"screenshots of the failure: {folder}")
        print("CSP refusals:", *csp_refusals.messages or ["none"], sep="\n  ")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page) -> Page:
    """A French-speaking page under our production Content-Security-Policy."""
    return new_page()


@pytest.fixture
def screenshots(request) -> Screenshots:
    return Screenshots(request.node.name)


@pytest.fixture
def axe(request) -> Callable[[Page], AxeReport]:
    """Run axe (WCAG 2.1 A/AA) on a page and keep its report under artefacts/axe/."""
    def check(page: Page) -> AxeReport:
        report = run_axe(page)
        report.save(ARTEFACTS / "axe" / f"{request.node.name}.json")
        print(report.summary())
        return report
    return check


@pytest.fixture
def citizen() -> Citizen:
    return CITIZENS[0]
