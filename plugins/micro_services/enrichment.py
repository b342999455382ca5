"""Enrichment ("dites-le nous une seule fois"): an administration's directory completes a login.

A response micro-service after the pairwise subject and **before** minimisation and consent, so
that what a directory adds is cut by minimisation and shown on the consent screen like any
attribute. For each active directory of the registry (``kind: directory``):

* nothing happens when the service opted out (``enrichment: false``), or when none of the
  directory's attributes is allowed for the service, asked in this request and missing from
  what the source gave: a directory is only asked what a service will actually receive;
* the citizen is found by the directory's match filter filled from the attributes the login
  already has (:mod:`idp.partners.match_filter`: escaped, a missing one means no lookup), at
  most two entries read; exactly one entry is a match, none or several add nothing (logged without
  personal data: an ambiguous match must never give someone else's address);
* the entry's values go through the same dictionary normalisation as a source's, and only the
  attributes the source did not give are added.

Each added attribute's provenance (directory id and organisation) is kept in the flow state
(:mod:`.provenance`): ``data.attributes`` holds values only, and the consent screen and
the history, later in the chain or on a page of their own, read the flow state.

A directory that is down: ``when_unavailable: continue`` goes on without its data,
``stop`` ends the login on our page (``annuaire_indisponible``); the directory's connect and
search timeouts bound the wait either way.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from satosa.context import Context
from satosa.internal import InternalData
from satosa.micro_services.base import ResponseMicroService
from satosa.response import Response

from idp.audit.events import audit_event
from idp.dictionary.normalise import SourceAttributes
from idp.errors import FlowError
from idp.metrics.definitions import DIRECTORY_ERRORS
from idp.partners.match_filter import fill
from plugins.ldap.directory import Directory, DirectorySettings, DirectoryUnavailable

from .minimisation import STATE_KEY as ASKED_STATE_KEY
from .provenance import PROVENANCE_KEY

logger = logging.getLogger("ncconnect.enrichment")

#: At most this many entries are read: two already means the match is ambiguous.
SEARCH_LIMIT = 2


@dataclass
class AdministrationDirectory:
    """One directory as the micro-service uses it (built from ``idp.assemble``'s config)."""

    id: str
    organisation: str
    match: str
    when_unavailable: str
    supplies: frozenset[str]
    directory: Directory
    normaliser: SourceAttributes
    #: The LDAP attribute names read from an entry.
    ldap_attributes: tuple[str, ...]

    @classmethod
    def from_config(cls, conf: Mapping[str, Any]) -> AdministrationDirectory:
        # LDAP attribute names are case-insensitive: read and looked up in lower case.
        readings = {name: {**reading, "external": [x.lower() for x in reading["external"]]}
                    for name, reading in conf["attributes"].items()}
        normaliser = SourceAttributes(conf["id"], readings)
        return cls(id=conf["id"], organisation=conf["organisation"], match=conf["match"],
                   when_unavailable=conf["when_unavailable"], supplies=frozenset(readings),
                   directory=Directory(DirectorySettings.from_config(conf["ldap"])),
                   normaliser=normaliser,
                   ldap_attributes=tuple(sorted({x for r in normaliser.readings
                                                 for x in r.external})))

    def lookup(self, attributes: Mapping[str, Any]) -> dict[str, list[str]] | None:
        """The normalised attributes of the one entry matching this citizen; ``None`` when no
        lookup could be made or the entry is not unique (logged by outcome only)."""
        ldap_filter = fill(self.match, attributes)
        if ldap_filter is None:
            logger.info("no lookup", extra={"directory": self.id,
                                            "reason": "match attribute missing"})
            return None
        entries = self.directory.search(ldap_filter, self.ldap_attributes, limit=SEARCH_LIMIT)
        if len(entries) != 1:
            logger.info("no match" if not entries else "ambiguous",
                        extra={"directory": self.id, "entries": len(entries)})
            return None
        _dn, raw = entries[0]
        return self.normaliser.to_internal({k.lower(): v for k, v in raw.items()})


class Enrichment(ResponseMicroService):
    """``config`` is what ``idp.assemble._enrichment_service`` builds."""

    def __init__(self, config: Mapping[str, Any], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        #: requester -> {"service_id", "allowed": [...], "enrichment": bool}.
        self.services: dict[str, dict[str, Any]] = dict(config["services"])
        self.directories = [AdministrationDirectory.from_config(d)
                            for d in config["directories"]]

    def process(self, context: Context, data: InternalData) -> Response:
        context.state[PROVENANCE_KEY] = {}
        service = self.services.get(data.requester)
        if service is None or not service.get("enrichment") or not self.directories:
            return super().process(context, data)
        attributes = data.attributes if isinstance(data.attributes, dict) else {}
        recorded = context.state.get(ASKED_STATE_KEY)
        asked = set(recorded.get("asked") or ()) if isinstance(recorded, dict) \
            and recorded.get("requester") == data.requester else set()
        wanted_by_service = set(service["allowed"]) & asked
        provenance: dict[str, dict[str, str]] = {}
        for directory in self.directories:
            wanted = (directory.supplies & wanted_by_service) - set(attributes)
            if not wanted:
                continue
            try:
                found = directory.lookup(attributes)
            except DirectoryUnavailable:
                self._unavailable(directory, service)
                continue
            added = {name: found[name] for name in sorted(wanted) if found and name in found}
            if not added:
                continue
            attributes.update(added)
            for name in added:
                provenance[name] = {"directory": directory.id,
                                    "organisation": directory.organisation}
            audit_event("attributes_added", service=service["service_id"],
                        directory=directory.id, added=sorted(added))
        data.attributes = attributes
        context.state[PROVENANCE_KEY] = provenance
        return super().process(context, data)

    @staticmethod
    def _unavailable(directory: AdministrationDirectory, service: Mapping[str, Any]) -> None:
        stop = directory.when_unavailable == "stop"
        DIRECTORY_ERRORS.labels(directory.id).inc()
        audit_event("directory_unavailable", logging.WARNING, service=service["service_id"],
                    directory=directory.id, outcome="stop" if stop else "continue")
        if stop:
            raise FlowError("annuaire_indisponible", 503,
                            f"enrichment: directory {directory.id} unavailable")

