"""The keyring on disk: migration of single key files, and concurrent changes."""

from __future__ import annotations

import json
import multiprocessing
import stat
from pathlib import Path

from idp.keyring import ensure_keyring
from idp.keyring import rules as keyring_rules
from idp.keyring.model import PURPOSES
from idp.keyring.storage import read_keyring
from idp.keys import KeyPaths, init_keys
from plugins.frontends.oidc.id_token import load_signing_key


def test_single_key_files_become_the_active_keys_unchanged(tmp_path):
    folder = tmp_path / "keys"
    init_keys(folder)
    (folder / "keyring.json").unlink()  # a data folder from before the keyring
    before = {p.name: p.read_bytes() for p in KeyPaths(folder).all()}

    ring = ensure_keyring(folder)

    assert {p.name: p.read_bytes() for p in KeyPaths(folder).all()} == before
    for purpose in PURPOSES.values():
        active = ring.active(purpose.name)
        assert active is not None and active.file == purpose.legacy_key
    # ID tokens keep the kid they always had (the RFC 7638 thumbprint).
    assert ring.active("oidc-signing").kid == load_signing_key(KeyPaths(folder).oidc_signing_key
                                                               ).kid
    assert init_keys(folder) == []  # nothing to add


def _add_csrf(folder: str) -> None:
    keyring_rules.add(Path(folder), "csrf", 0)


def test_concurrent_changes_are_serialised_and_atomic(tmp_path):
    folder = tmp_path / "keys"
    init_keys(folder)
    context = multiprocessing.get_context("spawn")
    with context.Pool(4) as pool:
        pool.map(_add_csrf, [str(folder)] * 8)
    ring = read_keyring(folder)
    assert len(ring.of("csrf")) == 9
    for record in ring.of("csrf"):
        path = folder / record.file
        assert path.is_file() and stat.S_IMODE(path.stat().st_mode) == 0o600
    json.loads((folder / "keyring.json").read_text())
    assert not list(folder.glob(".keyring.json.*"))  # no temporary file left
