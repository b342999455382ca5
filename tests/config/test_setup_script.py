"""``scripts/setup.sh`` says what it does, step by step, and does only what is missing.

It runs here in a copy of the checkout, with stand-ins for ``dpkg``, ``apt-get``, ``sudo`` and
Python on the PATH (each logs its calls), and the temporary policy-rc.d in the sandbox: the
machine running the tests is never changed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = re.search(r"DEBIAN_PACKAGES=\((.*?)\)",
                     (ROOT / "scripts" / "setup.sh").read_text(), flags=re.S).group(1).split()

STUBS = {
    # dpkg -s PACKAGE: installed unless listed in $MISSING (and not installed since).
    "dpkg": """#!/bin/bash
pkg="${@: -1}"
case " $MISSING " in *" $pkg "*) grep -qx "$pkg" "$LOG.installed" 2>/dev/null || exit 1;; esac
exit 0
""",
    "apt-get": """#!/bin/bash
policy=absent; [ -x "$NCC_POLICY_RC_D" ] && policy=present
echo "apt-get $* (policy-rc.d $policy)" >> "$LOG"
if [ "$1" = install ]; then for p in "${@:4}"; do echo "$p" >> "$LOG.installed"; done; fi
""",
    "sudo": """#!/bin/bash
exec "$@"
""",
    # python3.11 -m venv .venv: a .venv whose python is this same stand-in.
    "python3.11": """#!/bin/bash
case "$1" in
  --version) echo "Python 3.11.7";;
  -m) case "$2" in
        venv) mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; touch "$3/bin/ncconnect";
              chmod +x "$3/bin/ncconnect";;
        pip) echo "pip ${*:3}" >> "$LOG";;
        idp.testbed.axe) echo "axe-core 4.14.1: .cache/axe/axe-core-4.14.1.tgz";;
      esac;;
  -c) exit 0;;
esac
""",
}


@pytest.fixture
def sandbox(tmp_path) -> dict:
    checkout = tmp_path / "checkout"
    (checkout / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "setup.sh", checkout / "scripts" / "setup.sh")
    shutil.copy(ROOT / "setup.py", checkout / "setup.py")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, text in STUBS.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return {"checkout": checkout, "log": tmp_path / "calls.log",
            "env": {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
                    "LOG": str(tmp_path / "calls.log"), "PYTHON": "python3.11",
                    "NCC_POLICY_RC_D": str(tmp_path / "policy-rc.d"), "MISSING": ""}}


def setup(sandbox: dict, **env: str) -> list[str]:
    run = subprocess.run(["bash", str(sandbox["checkout"] / "scripts" / "setup.sh")],
                         env={**sandbox["env"], **env}, capture_output=True, text=True,
                         timeout=60)
    assert run.returncode == 0, run.stderr
    return [re.sub(r"\(\d+s\)$", "(Ns)", line) for line in run.stdout.splitlines()]


def calls(sandbox: dict) -> list[str]:
    log = sandbox["log"]
    out = log.read_text().splitlines() if log.exists() else []
    log.write_text("")
    return out


def test_a_fresh_machine_gets_one_numbered_line_per_step_and_what_it_installs(sandbox):
    lines = setup(sandbox, MISSING="slapd chromium")
    assert lines[:8] == [
        f"setup: [1/4] Debian packages: installing 2 of {len(PACKAGES)}: chromium slapd "
        "(apt-get update, then install: several minutes on a fresh machine)",
        "setup: [1/4] Debian packages: installed chromium slapd (Ns)",
        "setup: [2/4] Python: creating .venv with python3.11 (Python 3.11.7)",
        "setup: [2/4] Python: .venv created (Ns)",
        "setup: [3/4] Python packages: pip install -e '.[test]' into .venv (a few minutes on a "
        "fresh machine)",
        "setup: [3/4] Python packages: installed (Ns)",
        "setup: [4/4] axe-core (accessibility tests): checking the pinned copy in .cache/axe/",
        "setup: [4/4] axe-core 4.14.1: .cache/axe/axe-core-4.14.1.tgz (Ns)"]
    assert re.fullmatch(r"setup: done in \d+s", lines[-1]) and len(lines) == 9
    # No service starts while Debian installs (policy-rc.d), and it is removed afterwards.
    assert calls(sandbox) == ["apt-get update -qq (policy-rc.d present)",
                              "apt-get install -y -qq chromium slapd (policy-rc.d present)",
                              "pip install -q --upgrade pip", "pip install -q -e .[test]"]
    assert not Path(sandbox["env"]["NCC_POLICY_RC_D"]).exists()


def test_run_again_it_does_nothing_and_says_so_in_one_line_per_step(sandbox):
    setup(sandbox, MISSING="slapd")
    calls(sandbox)
    lines = setup(sandbox, MISSING="slapd")
    assert lines[:4] == [
        f"setup: [1/4] Debian packages: all {len(PACKAGES)} already installed "
        f"({' '.join(PACKAGES)})",
        "setup: [2/4] Python: .venv already there (Python 3.11.7)",
        "setup: [3/4] Python packages: up to date with setup.py, nothing to install",
        "setup: [4/4] axe-core (accessibility tests): checking the pinned copy in .cache/axe/"]
    assert calls(sandbox) == []


def test_python_packages_are_installed_again_when_setup_py_changes_or_when_forced(sandbox):
    setup(sandbox)
    calls(sandbox)
    setup_py = sandbox["checkout"] / "setup.py"
    setup_py.write_text(setup_py.read_text() + "\n# a new dependency\n")
    assert "setup: [3/4] Python packages: installed (Ns)" in setup(sandbox)
    assert calls(sandbox) == ["pip install -q --upgrade pip", "pip install -q -e .[test]"]
    assert "setup: [3/4] Python packages: installed (Ns)" in setup(sandbox, NCC_SETUP_FORCE="1")


def test_an_existing_policy_rc_d_is_left_as_it_was(sandbox):
    policy = Path(sandbox["env"]["NCC_POLICY_RC_D"])
    policy.write_text("#!/bin/sh\nexit 0\n")
    policy.chmod(0o755)
    setup(sandbox, MISSING="apache2")
    assert calls(sandbox)[:2] == ["apt-get update -qq (policy-rc.d present)",
                                  "apt-get install -y -qq apache2 (policy-rc.d present)"]
    assert policy.read_text() == "#!/bin/sh\nexit 0\n"
