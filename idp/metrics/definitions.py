"""Every metric of the proxy, with its labels (values from :mod:`.labels` only).

Counters count outcomes; histograms time what the proxy itself does (each step it serves,
each back-channel call to a source), never the citizen's own time between steps.

Each metric is made on first use (:class:`Lazy`): prometheus-client picks its multiprocess
mode when it is first imported, which must come after :func:`.multiprocess.prepare`, and
the command line imports the application long before it knows the data folder.
"""

from __future__ import annotations

import threading
from typing import Any


class Lazy:
    """A prometheus-client metric, created (and the library imported) at first use."""

    _lock = threading.Lock()

    def __init__(self, kind: str, name: str, documentation: str, labelnames: list[str],
                 **options: Any) -> None:
        self.kind, self.name, self.documentation = kind, name, documentation
        self.labelnames, self.options = labelnames, options
        self._metric: Any = None

    def _get(self) -> Any:
        if self._metric is None:
            with self._lock:
                if self._metric is None:
                    import prometheus_client

                    self._metric = getattr(prometheus_client, self.kind)(
                        self.name, self.documentation, self.labelnames, **self.options)
        return self._metric

    def labels(self, *values: str) -> Any:
        return self._get().labels(*values)


def Counter(name: str, documentation: str, labelnames: list[str]) -> Lazy:  # noqa: N802
    return Lazy("Counter", name, documentation, labelnames)


def Histogram(name: str, documentation: str, labelnames: list[str],  # noqa: N802
              buckets: tuple[float, ...]) -> Lazy:
    return Lazy("Histogram", name, documentation, labelnames, buckets=buckets)

#: Seconds: a step is a few ms; a source that takes seconds is the thing to see.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

LOGINS_STARTED = Counter(
    "ncc_logins_started", "Logins a service asked for.", ["service", "protocol"])
LOGINS_COMPLETED = Counter(
    "ncc_logins_completed", "Logins answered to the service.",
    ["service", "source", "path"])
LOGINS_REFUSED = Counter(
    "ncc_logins_refused", "Logins that ended without an answer, or with an error, to the "
    "service.", ["service", "reason"])
SOURCE_ANSWERS = Counter(
    "ncc_source_answers", "Identity sources' answers, by level of assurance.",
    ["source", "loa"])
SSO_REUSED = Counter(
    "ncc_sso_reused", "Logins answered from the citizen's SSO session.", ["service"])
CONSENT_DECISIONS = Counter(
    "ncc_consent_decisions", "Decisions on the consent and information screens "
    "(given, refused, remembered, required).", ["service", "decision"])
LOGOUT_NOTICES = Counter(
    "ncc_logout_notices", "Services told of a logout, by channel and outcome.",
    ["service", "channel", "outcome"])
SESSIONS_ENDED = Counter(
    "ncc_sessions_ended", "SSO sessions ended, by how.", ["how"])
STORE_ERRORS = Counter(
    "ncc_store_errors", "Requests that found the store unavailable, by step.", ["step"])
DIRECTORY_ERRORS = Counter(
    "ncc_directory_errors", "Directory (LDAP) queries that failed.", ["directory"])
SOURCE_ERRORS = Counter(
    "ncc_source_errors", "Back-channel calls to a source that failed.", ["source", "call"])
STEP_SECONDS = Histogram(
    "ncc_step_seconds", "Time the proxy spent serving one step of a login (the citizen's "
    "time between steps is not counted).", ["step"], buckets=BUCKETS)
SOURCE_CALL_SECONDS = Histogram(
    "ncc_source_call_seconds", "Back-channel round trip to an identity source (discovery, "
    "JWKS, token, userinfo).", ["source", "call"], buckets=BUCKETS)
