"""``ncconnect serve --pid-file`` elsewhere than the data folder: a change made in the
console still reloads this host.

On the embedded store no generation watcher runs, so the SIGHUP the portal sends to the
master named by that file is the host's only reload: the workers are replaced.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser
from idp.testbed.federation import DEFAULT_SERVICES
from plugins.frontends.admin import enrolment

from .conftest import Portal, portal_federation
from .steps import eventually, on_home, open_portal, post_form


@pytest.fixture(scope="module")
def pid_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    return folder / "proxy.pid"


@pytest.fixture(scope="module")
def fed(tmp_path_factory, pid_file) -> Iterator[Portal]:
    with portal_federation(tmp_path_factory.mktemp("pid-file"),
                           {"rp-op": DEFAULT_SERVICES["rp-op"]}, pid_file=pid_file) as found:
        yield found


def test_serve_writes_the_master_pid_where_it_was_told(fed, pid_file):
    assert pid_file.read_text().strip() == str(fed.fed.proxy.proc.pid)
    assert not (fed.fed.folder / "data" / "ncconnect.pid").exists()


def test_a_change_in_the_console_reloads_the_master_named_by_that_pid_file(fed):
    admin = Browser()
    assert on_home(open_portal(admin, enrolment.invite(fed.store, "admin", 600).link(fed.url),
                               CITIZENS[0]))
    before = set(fed.fed.proxy.worker_pids())
    home = admin.get(f"{fed.url}/admin/")
    post_form(admin, home, "#table-services tr[data-service='rp-op'] form")

    def replaced() -> bool:
        now = set(fed.fed.proxy.worker_pids())
        return len(now) == 2 and not now & before
    eventually(replaced, "the workers replaced after the SIGHUP")
