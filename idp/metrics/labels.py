"""Bounded label values: what the registry knows, or one fixed word.

A label value taken from a request (a client_id, an entity id, a path) would let anyone
create series at will and fill the scraper's memory. Every value here is a partner id from
the registry, one of a fixed list, or :data:`OTHER`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

OTHER = "autre"
PROTOCOLS = ("oidc", "saml2", "compte")
#: Steps of a login as the proxy serves them (the citizen's own time is between them).
STEPS = ("service_request", "source_choice", "source_answer", "screen", "token", "userinfo",
         "logout", "account", "metadata", OTHER)


class Labels:
    """The registry's partner ids, and how requesters map to services."""

    def __init__(self, services: Mapping[str, str] | None = None,
                 sources: Iterable[str] = (), directories: Iterable[str] = ()) -> None:
        #: requester (OIDC client_id, SAML entity id, NC Connect's own space) -> service id
        self.services = dict(services or {})
        self.service_ids = frozenset(self.services.values())
        self.sources = frozenset(sources)
        self.directories = frozenset(directories)

    def service(self, requester: object) -> str:
        found = self.services.get(requester) if isinstance(requester, str) else None
        return found or OTHER

    def service_id(self, service_id: object) -> str:
        return service_id if isinstance(service_id, str) and service_id in self.service_ids \
            else OTHER

    def source(self, source: object) -> str:
        return source if isinstance(source, str) and source in self.sources else OTHER

    def directory(self, directory: object) -> str:
        return directory if isinstance(directory, str) and directory in self.directories \
            else OTHER

    @staticmethod
    def one_of(value: object, allowed: Iterable[str]) -> str:
        return value if isinstance(value, str) and value in set(allowed) else OTHER


def step_of(path: str, backends: Iterable[str]) -> str:
    """The step a request path serves, from its shape only (the path is the request's: the
    result is one of :data:`STEPS`)."""
    first = path.split("/", 1)[0]
    if path in ("oidc/token",):
        return "token"
    if path in ("oidc/userinfo",):
        return "userinfo"
    if path.startswith(("oidc/authorize", "saml2/sso")):
        return "service_request"
    if "logout" in path or path.startswith(("saml2/slo", "oidc/end_session", "deconnexion")):
        return "logout"
    if first in set(backends):
        return "source_answer"
    if path.startswith("choix"):
        return "source_choice"
    if path.startswith("consentement"):
        return "screen"
    if path.startswith("mon-compte"):
        return "account"
    if path.endswith(("metadata", "jwks", "openid-configuration")):
        return "metadata"
    return OTHER
