"""Our IdP metadata, built from the pysaml2 configuration (again when the keyring changes).

Built from pysaml2's descriptor helpers rather than ``create_metadata_string``:
that one advertises every algorithm the local xmlsec1 supports (SHA-1
included), which would misstate what we accept.
"""

from __future__ import annotations

from saml2 import md
from saml2.config import IdPConfig
from saml2.metadata import do_idpsso_descriptor, metadata_tostring_fix
from saml2.sigver import read_cert_from_file
from saml2.validate import valid_instance

CONTENT_TYPE = "application/samlmetadata+xml"


def idp_metadata_xml(config: IdPConfig, certs: list[str] | None = None) -> str:
    """EntityDescriptor with our signing certificates, persistent NameID, SSO Redirect and
    POST. ``certs`` (base64 DER): the keyring's, the active one first, then the next one of a
    rollover (:mod:`plugins.saml2.entity_keys`); default: the configuration's one."""
    certs = certs or [read_cert_from_file(config.cert_file)]
    previous = config.context
    config.context = "idp"
    try:
        descriptor = md.EntityDescriptor(entity_id=config.entityid,
                                         idpsso_descriptor=do_idpsso_descriptor(config, certs))
    finally:
        config.context = previous
    valid_instance(descriptor)
    text = metadata_tostring_fix(descriptor, {"xs": "http://www.w3.org/2001/XMLSchema"})
    return text.decode("utf-8") if isinstance(text, bytes) else text
