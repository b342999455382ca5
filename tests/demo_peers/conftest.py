"""Key material and server lifecycle for the demo peers' tests (loopback only)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from idp.demo.serve import BackgroundServer, free_port
from idp.keys import rsa_key_pem, write_key_pair


@pytest.fixture(scope="session")
def rsa_pem() -> bytes:
    return rsa_key_pem()[1]


@pytest.fixture(scope="session")
def saml_keys(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, Path]]:
    """A key/certificate pair per name, created once per session."""
    folder = tmp_path_factory.mktemp("saml-keys")
    made: dict[str, tuple[Path, Path]] = {}

    def pair(name: str) -> tuple[Path, Path]:
        if name not in made:
            key, cert = folder / f"{name}.pem", folder / f"{name}.crt"
            write_key_pair(key, cert, f"demo test {name}")
            made[name] = (key, cert)
        return made[name]

    return pair


@pytest.fixture
def serve() -> Iterator[Callable[..., BackgroundServer]]:
    """Start apps on loopback; every server is stopped at the end of the test."""
    started: list[BackgroundServer] = []

    def start(app: Callable, port: int = 0) -> BackgroundServer:
        server = BackgroundServer(app, port=port).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def port() -> Callable[[], int]:
    return free_port
