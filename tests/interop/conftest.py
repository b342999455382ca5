"""Real third-party partners of NC Connect, from Debian, each on its own loopback port.

Every module here builds its own small federation (the testbed's demo sources, the proxy
under gunicorn on the suite's redis-server) around one kind of real partner software,
so a partner that the proxy cannot serve yet fails its own module only. Peers are
module-scoped: started once, stopped by PID when the module ends. A missing Debian
package fails (never skips) with the message to run scripts/setup.sh.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from idp.demo.citizens import CITIZENS, Citizen
from idp.testbed.interop.process import MissingSoftware

#: The demo federation around every interop peer: one demo RP is enough (the testbed
#: always starts the demo sources ``src-op``, OIDC, and ``src-idp``, SAML).
DEMO_SERVICES: dict[str, tuple] = {"rp-demo": ("oidc", ["src-op"], ["given_name"])}


@pytest.fixture(scope="session")
def citizen() -> Citizen:
    return CITIZENS[0]


@contextmanager
def required_software() -> Iterator[None]:
    """A missing Debian package fails the test (not a skip), saying to run setup.sh."""
    try:
        yield
    except MissingSoftware as exc:
        pytest.fail(str(exc), pytrace=False)
