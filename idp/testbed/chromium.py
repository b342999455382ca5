"""Debian's Chromium, driven by Playwright, for tests of the screens an usager sees.

Playwright's own browser download cannot work on our machines (only package registries are
reachable), so Playwright drives the ``chromium`` Debian package through ``executable_path``;
``scripts/setup.sh`` installs it. The flags keep Chromium from calling Google's services,
which this closed network refuses many times a second; Playwright gives every launch a fresh
temporary ``--user-data-dir`` of its own (it refuses one passed in ``args``), so no profile
state leaks between runs.

Screenshots are test artefacts, under ``artefacts/screenshots/<test name>/`` (gitignored),
numbered in the order the usager saw the screens.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # playwright is a test dependency: imported at run time only when launching
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page

ROOT = Path(__file__).resolve().parents[2]
ARTEFACTS = ROOT / "artefacts"
SCREENSHOTS = ARTEFACTS / "screenshots"

#: Where the Debian package puts the browser.
DEBIAN_CHROMIUM = Path("/usr/bin/chromium")

#: --headless and --no-sandbox come from ``headless=True`` and ``chromium_sandbox=False``.
CHROMIUM_FLAGS = (
    "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
)

#: The locale of a new context unless a test asks for another: New Caledonia speaks French.
DEFAULT_LOCALE = "fr-FR"

#: Playwright's wait for any one step, in ms: a stuck page fails in seconds, not minutes.
STEP_TIMEOUT_MS = 20_000


class ChromiumMissing(RuntimeError):
    """Debian's chromium is not installed: the browser tests cannot run, and must say so."""


def chromium_executable() -> Path:
    """Debian's chromium, and Playwright to drive it, or ChromiumMissing saying what to run."""
    if importlib.util.find_spec("playwright") is None:
        raise ChromiumMissing("playwright is not installed in this environment: run "
                              "`bash scripts/setup.sh` (it installs the test extra)")
    found = shutil.which("chromium")
    path = Path(found) if found else DEBIAN_CHROMIUM
    if not path.is_file():
        raise ChromiumMissing(
            f"Debian's chromium is not installed ({DEBIAN_CHROMIUM} not found): the browser "
            "tests need it; run `bash scripts/setup.sh`, which installs it with apt-get")
    return path


@contextmanager
def chromium() -> Iterator[Browser]:
    """One headless Chromium for a whole test session (a launch costs about a second)."""
    executable = chromium_executable()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(executable), headless=True, chromium_sandbox=False,
            args=list(CHROMIUM_FLAGS))
        try:
            yield browser
        finally:
            browser.close()


def new_context(browser: Browser, locale: str = DEFAULT_LOCALE,
                bypass_csp: bool = False) -> BrowserContext:
    """A fresh browser context: empty cookie jar, ``Accept-Language`` from ``locale``.

    ``bypass_csp`` only for pages that axe-core checks (see ``idp.testbed.axe``): everywhere
    else our production Content-Security-Policy applies as it does for the usager.
    """
    context = browser.new_context(locale=locale, bypass_csp=bypass_csp,
                                  viewport={"width": 1024, "height": 768})
    context.set_default_timeout(STEP_TIMEOUT_MS)
    return context


@dataclass
class CspRefusals:
    """Every resource or script Chromium refused under the page's Content-Security-Policy.

    Chromium reports each refusal as a console error; listening on the context covers every
    page and every navigation of it.
    """

    messages: list[str] = field(default_factory=list)

    def watch(self, context: BrowserContext) -> CspRefusals:
        context.on("console", self._on_console)
        return self

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.messages.append(message.text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:150] or "page"


def screenshot_folder(test_name: str, root: Path = SCREENSHOTS) -> Path:
    """The folder of one test's screenshots, named after the test (parameters included)."""
    return root / _slug(test_name)


class Screenshots:
    """Numbered full-page screenshots of one test, in a folder of its own.

    The folder is emptied first so that it only ever shows the last run of that test.
    """

    def __init__(self, test_name: str, root: Path = SCREENSHOTS) -> None:
        self.folder = screenshot_folder(test_name, root)
        if self.folder.exists():
            for old in self.folder.glob("*.png"):
                old.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[Path] = []

    def take(self, page: Page, screen: str) -> Path:
        path = self.folder / f"{len(self.taken) + 1:02d}-{_slug(screen)}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(path)
        return path
