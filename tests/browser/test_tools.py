"""The browser-test tools refuse loudly: a tampered axe-core is never run, and a machine
without Chromium is told how to get it."""

from __future__ import annotations

import pytest

from idp.testbed import axe, chromium


def test_axe_core_tarball_is_accepted_only_with_the_pinned_integrity():
    genuine = axe.axe_tarball().read_bytes()
    tampered = bytearray(genuine)
    tampered[len(tampered) // 2] ^= 0xFF
    assert axe._integrity_ok(genuine)
    assert not axe._integrity_ok(bytes(tampered))


def test_axe_core_source_is_the_pinned_release():
    assert axe.axe_source().startswith(f"/*! axe v{axe.AXE_VERSION}")


def test_missing_chromium_fails_saying_to_run_setup(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(chromium, "DEBIAN_CHROMIUM", tmp_path / "chromium")
    with pytest.raises(chromium.ChromiumMissing, match="scripts/setup.sh"):
        chromium.chromium_executable()
