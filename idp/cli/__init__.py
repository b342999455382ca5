"""``ncconnect``: the administrators' command line (console script ``idp.cli:main``)."""

from __future__ import annotations

from . import (  # noqa: F401 - registers commands
    admin,
    audit,
    keys,
    ldap,
    partner_changes,
    partners,
    proxy,
)
from .base import main

__all__ = ["main"]
