"""Why a SAML response was refused, before it becomes a :class:`FlowError`.

Messages are technical (element names, algorithm URIs) and never carry the
NameID or attribute values: they are logged as ``FlowError.detail``.
"""

from __future__ import annotations


class InvalidSamlResponse(Exception):
    """The response is malformed, unsigned, tampered with, or not meant for us."""
