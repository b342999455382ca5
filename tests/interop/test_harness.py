"""The interop harness itself: what it says when the machine is not ready or a peer is
misconfigured, so that a failure points at the fix rather than at a timeout."""

from __future__ import annotations

import pytest

from idp.testbed.interop.apache import PrivateApache
from idp.testbed.interop.process import MissingSoftware, require_executable

from .conftest import required_software


def test_a_missing_program_names_its_debian_package_and_setup_sh():
    with pytest.raises(MissingSoftware) as missing:
        require_executable("ncc-no-such-program", "ncc-no-such-package")

    assert "ncc-no-such-package" in str(missing.value)
    assert "scripts/setup.sh" in str(missing.value)


def test_an_apache_configuration_error_is_reported_before_anything_starts(tmp_path):
    with required_software():
        apache = PrivateApache(tmp_path / "logs", (), "NoSuchDirective on\n", {})
    with pytest.raises(RuntimeError, match="NoSuchDirective"):
        apache.start()
    assert not apache.root.exists()
