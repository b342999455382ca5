"""The proxy and its demo peers around the interop peers, in the order real partners join.

Identity sources must answer before the proxy starts (it reads their metadata then);
services' SAML metadata too, when registered by URL. The other direction — the peers
learning the proxy's metadata — can only happen once the proxy runs, which SimpleSAMLphp
allows since it reads its metadata files at each request. So: demo federation built,
interop peers started, their partner files written, proxy started, proxy metadata handed
to the peers.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Protocol, TypeVar

import requests

from ..federation import Federation, build_federation
from .process import tail


class Peer(Protocol):
    def start(self) -> object: ...

    def stop(self) -> None: ...


P = TypeVar("P", bound=Peer)


@contextmanager
def running(peer: P) -> Iterator[P]:
    """``peer`` started for the block, stopped (by PID) after it, even if starting failed."""
    try:
        peer.start()
        yield peer
    finally:
        peer.stop()


@contextmanager
def demo_federation(folder: Path, services: dict[str, tuple]) -> Iterator[Federation]:
    """The testbed's demo sources (``src-op``, ``src-idp``) and ``services``; proxy not
    started (partner files of the interop peers go to ``fed.folder / "partenaires"``)."""
    fed = build_federation(folder, services, log_level="INFO")
    try:
        yield fed
    finally:
        fed.stop()


def partners_folder(fed: Federation) -> Path:
    return fed.folder / "partenaires"


def start_proxy(fed: Federation, store: str, workers: int = 2) -> None:
    """``ncconnect serve``; if it refuses to start, the error names the partner file."""
    try:
        fed.start_proxy(workers=workers, store=store)
    except (RuntimeError, TimeoutError) as exc:
        raise RuntimeError(f"the proxy did not start with the interop partner files: {exc}\n"
                           f"--- {fed.folder / 'proxy.log'}:\n{tail(fed.folder / 'proxy.log')}"
                           ) from exc


def proxy_metadata(fed: Federation, path: str = "/saml2/metadata") -> str:
    """A SAML metadata document the proxy publishes (its IdP, or ``/<source>/saml2/metadata``
    for the SP it is at one source)."""
    resp = requests.get(fed.proxy_url + path, timeout=10)
    if resp.status_code != 200 or "EntityDescriptor" not in resp.text:
        raise RuntimeError(f"no SAML metadata at {fed.proxy_url}{path}: HTTP {resp.status_code}")
    return resp.text
