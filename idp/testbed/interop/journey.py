"""Where a citizen's journey through real partners stopped, said plainly in a failure.

An interop test fails far from its cause: the page in front of the browser is a
SimpleSAMLphp error, an Apache 500, or one of NC Connect's French error pages, and the
reason is in one of several logs. :func:`stopped_at` names the page (address, status,
title, NC Connect's error code) and adds the end of the logs that matter.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import requests
from bs4 import BeautifulSoup

from ..browser import error_code_of
from .process import tail


def _title(page: requests.Response) -> str:
    soup = BeautifulSoup(page.text, "html.parser")
    heading = soup.find("h1") or soup.find("title")
    return heading.get_text(" ", strip=True)[:200] if heading else page.text[:200]


def stopped_at(page: requests.Response, logs: Iterable[Path] = (), lines: int = 12) -> str:
    """The page the browser is on, and the end of ``logs``."""
    code = error_code_of(page) if "html" in page.headers.get("Content-Type", "") else None
    parts = [f"stopped at {page.url} (HTTP {page.status_code}): {_title(page)!r}"
             + (f", error code {code}" if code else "")]
    parts += [f"--- {log}:\n{tail(log, lines)}" for log in logs]
    return "\n".join(parts)
