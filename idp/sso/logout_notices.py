"""Telling services, server to server, that a citizen's session ended: in parallel, bounded.

Single logout must never wait on the slowest partner, nor fail because one is down:
every notice (an OIDC logout token, a SAML LogoutRequest over SOAP) is one HTTP POST
with a short timeout, no redirects and a bounded answer, run on a small pool of
threads; a notice that fails is *collected* with the service's id and the reason
kind, never raised. The proxy session is already gone when these run.

Only https URLs are called (plain http on loopback in demo mode), even though the
registry checked them: the check is cheap and the URL is about to receive a token.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import requests
import urllib3

from ..audit.events import audit_event
from ..metrics.definitions import LOGOUT_NOTICES
from ..partners.registry import check_url

logger = logging.getLogger("ncconnect.logout")

#: (connect, read) seconds: a partner that does not answer this fast is "not reached".
TIMEOUT = (2, 5)
#: Notices sent at once; more wait for a free thread.
MAX_PARALLEL = 8
#: Largest answer read (and ignored, but for a SOAP LogoutResponse).
MAX_ANSWER_BYTES = 64 * 1024


class NoticeFailed(RuntimeError):
    """The service was not told (unreachable, refused, answered an error): the reason kind
    only, never a token or a personal datum."""


@dataclass(frozen=True)
class Notice:
    """One service to tell: ``send`` raises :class:`NoticeFailed` (or anything) on failure."""

    service_id: str
    send: Callable[[], None]


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    body: bytes


def post(url: str, *, allow_loopback_http: bool, data: dict[str, str] | None = None,
         body: bytes | None = None, headers: dict[str, str] | None = None) -> Answer:
    """POST to a partner's logout endpoint; :class:`NoticeFailed` unless it answered 2xx."""
    if check_url(url, allow_loopback_http) is not None:
        raise NoticeFailed("endpoint URL not allowed")
    try:
        with requests.post(url, data=data if data is not None else body, headers=headers,
                           timeout=TIMEOUT, allow_redirects=False, stream=True) as resp:
            status = resp.status_code
            ctype = resp.headers.get("Content-Type", "")
            answer = resp.raw.read(MAX_ANSWER_BYTES + 1, decode_content=True)
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError) as exc:
        raise NoticeFailed(f"unreachable ({type(exc).__name__})") from exc
    if not 200 <= status < 300:
        raise NoticeFailed(f"answered HTTP {status}")
    if len(answer) > MAX_ANSWER_BYTES:
        raise NoticeFailed("answer too large")
    return Answer(status, ctype, answer)


def deliver(notices: list[Notice]) -> tuple[list[str], list[str]]:
    """Send every notice; ``(reached, failed)`` service ids, in the order given."""
    if not notices:
        return [], []
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(notices)),
                            thread_name_prefix="ncc-logout") as pool:
        futures = [(n, pool.submit(n.send)) for n in notices]
        reached, failed = [], []
        for notice, future in futures:
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001 - collected, never raised: logout goes on
                why = str(exc) if isinstance(exc, NoticeFailed) else type(exc).__name__
                logger.warning("service not told of the logout",
                               extra={"service": notice.service_id, "reason": why})
                failed.append(notice.service_id)
                noted(notice.service_id, "back", False)
            else:
                logger.info("service told of the logout", extra={"service": notice.service_id})
                reached.append(notice.service_id)
                noted(notice.service_id, "back", True)
    return reached, failed


def noted(service_id: str, channel: str, reached: bool) -> None:
    """A service told (or not) of a logout, on the back or front channel: metrics and audit
    (service ids come from the session's records, written from the registry)."""
    outcome = "reached" if reached else "failed"
    LOGOUT_NOTICES.labels(service_id, channel, outcome).inc()
    audit_event("logout_notice", service=service_id, channel=channel, outcome=outcome)
