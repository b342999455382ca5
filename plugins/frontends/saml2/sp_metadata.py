"""What a registered SP's metadata says, read from pysaml2's metadata store.

The request may *name* an ACS or an AttributeConsumingService, but every value
we act on (where to post, which key verifies, what is requested) comes from the
metadata the partner registered, never from the message.
"""

from __future__ import annotations

from typing import Any

from saml2 import BINDING_HTTP_POST
from saml2.mdstore import MetadataStore


def _descriptors(mds: MetadataStore, sp: str) -> list[dict[str, Any]]:
    return mds[sp].get("spsso_descriptor") or []


def _is_true(value: Any) -> bool:
    return str(value).strip().lower() in ("true", "1")


def authn_requests_signed(mds: MetadataStore, sp: str) -> bool:
    """``AuthnRequestsSigned="true"`` on the SP's descriptor: unsigned requests are refused."""
    return any(_is_true(d.get("authn_requests_signed")) for d in _descriptors(mds, sp))


def signing_certs(mds: MetadataStore, sp: str) -> list[str]:
    """Base64 DER certificates the SP signs with (``use="signing"`` or no ``use``)."""
    return [cert for _name, cert in mds.certs(sp, "spsso", "signing")]


def encryption_certs(mds: MetadataStore, sp: str) -> list[tuple[str | None, str]]:
    """``(KeyName, base64 DER certificate)`` the SP decrypts with (``use="encryption"`` or no
    ``use``, SAML Metadata §2.4.1.1), in the metadata's order."""
    return list(mds.certs(sp, "spsso", "encryption"))


def _post_endpoints(mds: MetadataStore, sp: str) -> list[dict[str, Any]]:
    return [acs for d in _descriptors(mds, sp) for acs in d.get("assertion_consumer_service") or []
            if acs.get("binding") == BINDING_HTTP_POST and acs.get("location")]


def default_acs(endpoints: list[dict[str, Any]]) -> str | None:
    """SAML Metadata §2.2.3: ``isDefault="true"``, else the first not marked false, else first."""
    for acs in endpoints:
        if _is_true(acs.get("is_default")):
            return acs["location"]
    for acs in endpoints:
        if "is_default" not in acs:
            return acs["location"]
    return endpoints[0]["location"] if endpoints else None


def choose_acs(mds: MetadataStore, sp: str, url: str | None, index: str | None) -> str | None:
    """The HTTP-POST ACS to answer on, or None when the request names one the SP never declared."""
    endpoints = _post_endpoints(mds, sp)
    if url is not None and index is not None:  # mutually exclusive (SAML Core §3.4.1)
        return None
    if url is not None:
        return url if any(acs["location"] == url for acs in endpoints) else None
    if index is not None:
        matches = [acs["location"] for acs in endpoints if str(acs.get("index")) == str(index)]
        return matches[0] if matches else None
    return default_acs(endpoints)


def requested_attribute_names(mds: MetadataStore, sp: str, index: str | None) -> list[str] | None:
    """Names in the chosen ``AttributeConsumingService``; None when the SP declares none.

    With an index, that service (an unknown index gives an empty list: nothing
    requested); without, the default service (``isDefault``, else the first).
    """
    services = [s for d in _descriptors(mds, sp)
                for s in d.get("attribute_consuming_service") or []]
    if not services:
        return None
    if index is not None:
        chosen = [s for s in services if str(s.get("index")) == str(index)]
    else:
        chosen = [s for s in services if _is_true(s.get("is_default"))] or services[:1]
    return [a["name"] for s in chosen for a in s.get("requested_attribute") or [] if a.get("name")]


def slo_endpoints(mds: MetadataStore, sp: str) -> dict[str, dict[str, str]]:
    """The SP's SingleLogoutService per binding: ``{binding: {"location", "response_location"}}``
    (the first of each binding; ``ResponseLocation`` defaults to ``Location``, SAML
    Metadata §2.2.2). Where single logout sends this SP's requests and responses; never an
    address taken from a message."""
    found: dict[str, dict[str, str]] = {}
    for d in _descriptors(mds, sp):
        for slo in d.get("single_logout_service") or []:
            binding, location = slo.get("binding"), slo.get("location")
            if binding and location and binding not in found:
                found[binding] = {"location": location,
                                  "response_location": slo.get("response_location") or location}
    return found
