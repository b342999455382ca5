"""`ncconnect demo` starts the demo federation and a citizen can log in through it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from idp.demo.citizens import CITIZENS
from idp.demo.run import RP, SP, url
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import login
from idp.testbed.servers import wait_for


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    data = tmp_path_factory.mktemp("demo-data")
    proc = subprocess.Popen([sys.executable, "-m", "idp.cli", "demo", "--data-dir", str(data)],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        wait_for("http://127.0.0.1:8440/healthz", timeout=90, proc=proc)
        yield proc
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def test_demo_oidc_service_login_through_the_oidc_source(demo):
    citizen = CITIZENS[1]
    started = time.perf_counter()
    page = login(Browser(), url(RP), citizen, source="demo-oidc")
    elapsed = time.perf_counter() - started
    attrs = attributes_of(page)
    assert attrs["family_name"] == citizen.claims["family_name"]
    assert set(attrs) == {"sub", "given_name", "family_name", "birthdate", "email"}
    print(f"demo OIDC login took {elapsed * 1000:.0f} ms")


def test_demo_saml_service_login_through_the_saml_source(demo):
    citizen = CITIZENS[2]
    attrs = attributes_of(login(Browser(), url(SP), citizen, source="demo-saml"))
    assert attrs["urn:oid:2.5.4.42"] == citizen.claims["given_name"]
