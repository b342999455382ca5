"""The pysaml2 SP client, without its in-process memory of who logged in, and with the
crypto backend the settings choose (:mod:`plugins.saml2.crypto`).

``Saml2Client`` keeps every parsed assertion (names, attributes) in an
in-memory identity cache meant for SAML logout. We never use it: it would grow
without bound and keep personal data in each worker's memory.
"""

from __future__ import annotations

from typing import Any

from saml2.client import Saml2Client
from saml2.config import SPConfig

from plugins.saml2.crypto.context import DEFAULT, install


class _NoIdentityCache:
    """Stands in for pysaml2's identity cache and remembers nothing."""

    def set(self, *args: Any, **kwargs: Any) -> None:
        return None

    def delete(self, *args: Any, **kwargs: Any) -> None:
        return None


def make_client(conf: SPConfig) -> Saml2Client:
    """A client of ``conf`` (:func:`.sp_config.build_sp_config` records its ``crypto``)."""
    client = Saml2Client(config=conf, identity_cache=_NoIdentityCache())
    return install(client, getattr(conf, "crypto", DEFAULT))
