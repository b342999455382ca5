"""pysaml2 SP configuration built in code from the backend's config dict (no config file).

The IdP's metadata comes inline (``idp_metadata_xml``, read by ``idp.assemble``),
so the only keys pysaml2 will ever trust for this source are the ones in that
document (``only_use_keys_in_metadata``), never a certificate embedded in a message.

Our encryption key pair (:func:`.encryption.key_pair`) is given as
``encryption_keypairs``: pysaml2 publishes its certificate as our ``KeyDescriptor
use="encryption"`` and decrypts ``EncryptedAssertion`` with it, through its crypto
backend — only once the algorithms and the opened layer have been checked
(:mod:`.encryption`).

The NameID format we ask for (``NameIDPolicy``, and in our metadata) follows the
partner file's ``saml2.name_id``: an IdP that only issues transient identifiers to us
answers ``InvalidNameIDPolicy`` to a request for persistent ones. Which signatures pysaml2
requires follows ``saml2.signature`` (:func:`.signature_policy.pysaml2_flags`; our own
checks come before and after it). Signatures and decryption go through the crypto backend
the settings choose (``saml.crypto``, :mod:`plugins.saml2.crypto`).
"""

from __future__ import annotations

from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import SPConfig
from saml2.saml import NAMEID_FORMAT_PERSISTENT, NAMEID_FORMAT_TRANSIENT
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from plugins.saml2.crypto.context import Crypto, crypto_of
from plugins.saml2.entity_keys import configured_files

from .encryption import key_pair
from .signature_policy import policy_of, pysaml2_flags

#: Clock skew tolerated on NotBefore / NotOnOrAfter / IssueInstant (seconds).
TIME_SLACK = 60


def sp_config_dict(config: dict[str, Any]) -> dict[str, Any]:
    encryption_key, encryption_cert = key_pair(config)
    name_id_format = NAMEID_FORMAT_TRANSIENT if config.get("name_id") == "transient" \
        else NAMEID_FORMAT_PERSISTENT
    # The keyring's keys when the keys folder has one (idp.keyring): the active signing key,
    # and every encryption key not retired (decryption accepts them all during a rollover).
    files = configured_files(config["key_path"], decrypts=True) or {
        "key_file": config["key_path"], "cert_file": config["cert_path"],
        "encryption_keypairs": [{"key_file": encryption_key, "cert_file": encryption_cert}]}
    return {
        "entityid": config["sp_entity_id"],
        **files,
        "metadata": {"inline": [config["idp_metadata_xml"]]},
        "only_use_keys_in_metadata": True,
        "accepted_time_diff": TIME_SLACK,
        "delete_tmpfiles": True,
        "signing_algorithm": SIG_RSA_SHA256,
        "digest_algorithm": DIGEST_SHA256,
        "service": {
            "sp": {
                "endpoints": {
                    "assertion_consumer_service": [(config["acs_url"], BINDING_HTTP_POST)],
                },
                "allow_unsolicited": False,
                "authn_requests_signed": True,
                **pysaml2_flags(policy_of(config)),
                "name_id_format": [name_id_format],
                "name_id_policy_format": name_id_format,
                "name_id_format_allow_create": True,
            },
        },
    }


class ProxySPConfig(SPConfig):
    """pysaml2's SP configuration, and the crypto backend its client gets
    (:func:`.client.make_client`): ``saml.crypto`` of the settings."""

    crypto: Crypto = "in_process"


def build_sp_config(config: dict[str, Any]) -> ProxySPConfig:
    """A loaded SPConfig; raises ``ValueError`` when the IdP metadata cannot serve this source."""
    crypto = crypto_of(config)
    conf = ProxySPConfig().load(sp_config_dict(config))
    conf.crypto = crypto
    idp = config["idp_entity_id"]
    try:
        sso = conf.metadata.single_sign_on_service(idp, BINDING_HTTP_REDIRECT)
        certs = conf.metadata.certs(idp, "idpsso", "signing")
    except KeyError:
        sso, certs = [], []
    if not sso:
        raise ValueError(f"SAML source {config['source_id']}: metadata has no IdP {idp} with an "
                         "HTTP-Redirect SingleSignOnService")
    if not certs:
        raise ValueError(f"SAML source {config['source_id']}: metadata of {idp} has no "
                         "signing certificate")
    return conf
