"""A copy of the demo partner registry per test, and the command line run in-process."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from idp.cli import main
from idp.dictionary import Dictionary, load_dictionary
from idp.partners import Registry, load_registry

ROOT = Path(__file__).resolve().parents[2]
DEMO_CONFIG = ROOT / "config" / "demo.yaml"
DEMO_PARTNERS = ROOT / "partenaires" / "demo"
DICTIONARY = ROOT / "attributs" / "dictionnaire.yaml"


def ncconnect(*args: str | Path) -> Result:
    return CliRunner().invoke(main, [str(a) for a in args])


@dataclass
class Setup:
    """Settings file, partner folder and dictionary of one registry."""

    config: Path
    folder: Path

    @property
    def dictionary(self) -> Dictionary:
        return load_dictionary(DICTIONARY)

    def registry(self, keep_undeliverable: bool = False) -> Registry:
        return load_registry(self.folder, self.dictionary, allow_loopback_http=True,
                             keep_undeliverable=keep_undeliverable)

    def snapshot(self) -> dict[str, bytes]:
        """Every file of the partner folder, to show that nothing was written."""
        return {str(p.relative_to(self.folder)): p.read_bytes()
                for p in sorted(self.folder.rglob("*")) if p.is_file()}


@pytest.fixture
def demo() -> Setup:
    """The demo registry itself, for read-only commands."""
    return Setup(DEMO_CONFIG, DEMO_PARTNERS)


@pytest.fixture
def copy(tmp_path) -> Setup:
    """A writable copy of the demo registry with its own settings file."""
    folder = tmp_path / "partenaires"
    shutil.copytree(DEMO_PARTNERS, folder)
    config = tmp_path / "proxy.yaml"
    config.write_text(yaml.safe_dump({
        "base_url": "http://127.0.0.1:8440", "data_dir": "data", "partners_dir": "partenaires",
        "dictionary": str(DICTIONARY), "allow_loopback_http": True}), encoding="utf-8")
    return Setup(config, folder)
