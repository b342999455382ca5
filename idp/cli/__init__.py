"""``ncconnect``: the administrators' command line (console script ``idp.cli:main``)."""

from __future__ import annotations

from . import audit, keys, ldap, partner_changes, partners, proxy  # noqa: F401 - registers commands
from .base import main

__all__ = ["main"]
