"""The audit stream's files: their own folder and modes, one JSON line per event with the
login id and the citizen bound to the request, nothing in the general logs, and nothing kept
past the retention."""

from __future__ import annotations

import datetime as dt
import json
import logging
import stat

import pytest

from idp import correlation
from idp.audit.events import AUDIT_LOGGER, audit_event
from idp.audit.stream import day_file, setup_audit


@pytest.fixture()
def stream(tmp_path):
    handler = setup_audit(tmp_path / "audit", retention_days=30)
    yield tmp_path / "audit"
    handler.close()
    logger = logging.getLogger(AUDIT_LOGGER)
    logger.handlers[:] = []
    logger.propagate = True


def lines(folder):
    return [json.loads(line) for f in sorted(folder.glob("audit-*.jsonl"))
            for line in f.read_text(encoding="utf-8").splitlines()]


def test_an_event_is_one_line_with_the_login_and_the_citizen_bound(stream):
    correlation.bind("0123456789abcdef", "cle-du-citoyen")
    try:
        audit_event("attributes_released", service="rp-op", source="src-op",
                    released=["given_name"], withheld=["email"])
    finally:
        correlation.bind(None)
    [line] = lines(stream)
    assert line["event"] == "attributes_released" and line["login_id"] == "0123456789abcdef"
    assert line["citizen"] == "cle-du-citoyen" and line["released"] == ["given_name"]


def test_an_event_about_another_citizen_names_them(stream):
    audit_event("session_ended", citizen="autre-citoyen", how="account_all", services=[])
    assert lines(stream)[0]["citizen"] == "autre-citoyen"


def test_files_are_private_to_the_proxy(stream):
    audit_event("login_started", service="rp-op", protocol="oidc")
    [file] = stream.glob("audit-*.jsonl")
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE(stream.stat().st_mode) == 0o700


def test_the_general_logs_never_receive_an_audit_line(stream):
    """(pytest's own capture attaches to non-propagating loggers too: a handler of the
    general logs, on the root logger, is what must see nothing.)"""
    seen: list[logging.LogRecord] = []

    class General(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    general = General(logging.DEBUG)
    logging.getLogger().addHandler(general)
    try:
        audit_event("login_started", service="rp-op", protocol="oidc")
    finally:
        logging.getLogger().removeHandler(general)
    assert not [r for r in seen if r.name == AUDIT_LOGGER]
    assert lines(stream)


def test_files_older_than_the_retention_are_deleted_when_a_day_begins(stream):
    today = dt.datetime.now(dt.UTC).date()
    old = day_file(stream, today - dt.timedelta(days=31))
    kept = day_file(stream, today - dt.timedelta(days=30))
    old.write_text("{}\n")
    kept.write_text("{}\n")
    audit_event("login_started", service="rp-op", protocol="oidc")  # opens today's file
    assert not old.exists() and kept.exists()


def test_an_unknown_event_name_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown audit event"):
        audit_event("quelque_chose")
