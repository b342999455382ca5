"""The pysaml2 IdP (``Server``) of the frontend, configured in code from the plugin's config.

Nothing is written to disk: SP metadata is loaded inline from the partner registry,
key and certificate are the proxy's files. Each SP's metadata must describe that SP
and nothing else, so one partner's file can never redefine another partner; an SP that
must get encrypted assertions must publish an RSA encryption key there.
"""

from __future__ import annotations

from typing import Any

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.config import IdPConfig
from saml2.mdstore import InMemoryMetaData
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT
from saml2.server import Server
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

from plugins.saml2.crypto.context import crypto_of, install
from plugins.saml2.entity_keys import configured_files

from . import sp_metadata
from .encryption import EncryptionKeyMissing, encrypt_for, rsa_certs
from .name_id import FORMATS, allowed_formats
from .uri_names import UriNameConverter, saml_names

SIGN_ALG = SIG_RSA_SHA256
DIGEST_ALG = DIGEST_SHA256


class SPMetadataError(ValueError):
    """A partner's SAML metadata cannot be used (raised at start-up, never per request)."""


class ProxyIdP(Server):
    """pysaml2's IdP without its in-memory assertion archive.

    ``Server`` keeps every assertion it issues (for AssertionIDRequest/AuthnQuery,
    which we do not offer): unbounded memory holding personal data.
    """

    def support_AssertionIDRequest(self) -> bool:  # noqa: N802 (pysaml2's name)
        return False

    def support_AuthnQuery(self) -> bool:  # noqa: N802 (pysaml2's name)
        return False

    def _encrypt_assertion(self, encrypt_cert: str | None, sp_entity_id: str | None,
                           response: Any, node_xpath: str | None = None) -> str:
        """pysaml2's one encryption step, with our algorithms (:mod:`.encryption`) and the
        SP's first RSA encryption key from its registered metadata (never from a message)."""
        if encrypt_cert:
            certs: list[tuple[str | None, str]] = [(None, encrypt_cert)]
        elif sp_entity_id is not None:
            certs = sp_metadata.encryption_certs(self.metadata, sp_entity_id)
        else:
            certs = []
        usable = rsa_certs(certs)
        if not usable:
            raise EncryptionKeyMissing(f"{sp_entity_id}: no RSA encryption key in its metadata")
        return encrypt_for(self, usable[0], response, node_xpath)


def sso_urls(base_url: str, name: str) -> dict[str, str]:
    """Our SingleSignOnService locations, per binding."""
    return {BINDING_HTTP_REDIRECT: f"{base_url}/{name}/sso/redirect",
            BINDING_HTTP_POST: f"{base_url}/{name}/sso/post"}


def slo_urls(base_url: str, name: str) -> dict[str, str]:
    """Our SingleLogoutService locations, per binding: SPs send their LogoutRequests and
    LogoutResponses there."""
    return {BINDING_HTTP_REDIRECT: f"{base_url}/{name}/slo/redirect",
            BINDING_HTTP_POST: f"{base_url}/{name}/slo/post"}


def check_sp_metadata(entity_id: str, service_id: str, metadata_xml: str) -> None:
    """The document must describe exactly ``entity_id``, as a valid, unexpired SAML 2 SP."""
    md = InMemoryMetaData([], metadata_xml)
    try:
        md.load()
    except Exception as exc:  # pysaml2 raises many types for a broken document
        raise SPMetadataError(f"service {service_id}: SAML metadata cannot be parsed "
                              f"({type(exc).__name__})") from exc
    found = set(md.keys())
    if found != {entity_id}:
        raise SPMetadataError(
            f"service {service_id}: SAML metadata must describe exactly {entity_id} "
            f"(found: {', '.join(sorted(found)) or 'none: wrong entityID or validUntil passed'})")
    if not md[entity_id].get("spsso_descriptor"):
        raise SPMetadataError(f"service {service_id}: SAML metadata has no SAML 2 "
                              "SPSSODescriptor")


def idp_config_dict(conf: dict[str, Any], name: str) -> dict[str, Any]:
    """pysaml2's configuration dictionary for our IdP."""
    urls = sso_urls(conf["base_url"], name)
    logout = slo_urls(conf["base_url"], name)
    # The keyring's active SAML signing key when the keys folder has one (idp.keyring).
    files = configured_files(conf["key_path"], decrypts=False) or {
        "key_file": conf["key_path"], "cert_file": conf["cert_path"]}
    return {
        "entityid": conf["entity_id"],
        **files,
        "only_use_keys_in_metadata": True,
        "delete_tmpfiles": True,
        "metadata": {"inline": [sp["metadata_xml"] for sp in conf["sps"].values()]},
        "service": {"idp": {
            "endpoints": {"single_sign_on_service": [(url, b) for b, url in urls.items()],
                          "single_logout_service": [(url, b) for b, url in logout.items()]},
            "name_id_format": name_id_formats(conf["sps"].values()),
            # Decided per SP from its metadata (AuthnRequestsSigned), see sso.py.
            "want_authn_requests_signed": False,
            "sign_response": True,
            "sign_assertion": True,
            "signing_algorithm": SIGN_ALG,
            "digest_algorithm": DIGEST_ALG,
            "policy": {"default": {
                "lifetime": {"seconds": int(conf["lifetimes"]["assertion"])},
                "name_form": NAME_FORMAT_URI,
                "nameid_format": NAMEID_FORMAT_PERSISTENT,
                # Release is decided by the frontend (allowed ∩ requested); a missing
                # value must not turn into an error response.
                "fail_on_missing_requested": False,
            }},
        }},
    }


def name_id_formats(sps: Any) -> list[str]:
    """What our metadata announces: persistent, then every other format some SP may get."""
    listed = {f for sp in sps for f in allowed_formats(sp)}
    return [NAMEID_FORMAT_PERSISTENT] + [uri for f, uri in FORMATS.items()
                                         if f in listed and uri != NAMEID_FORMAT_PERSISTENT]


def build_server(conf: dict[str, Any], name: str, internal_attributes: dict) -> ProxyIdP:
    """Check every SP's metadata, then build the IdP with our URI attribute converter first."""
    for entity_id, sp in conf["sps"].items():
        check_sp_metadata(entity_id, sp["service_id"], sp["metadata_xml"])
    config = IdPConfig().load(idp_config_dict(conf, name))
    # Same list object as the metadata store's: ours wins for NameFormat uri.
    config.attribute_converters.insert(0, UriNameConverter(saml_names(internal_attributes)))
    server = install(ProxyIdP(config=config), crypto_of(conf))
    for entity_id, sp in conf["sps"].items():
        if sp.get("encrypt_assertions") and not rsa_certs(
                sp_metadata.encryption_certs(server.metadata, entity_id)):
            raise SPMetadataError(
                f"service {sp['service_id']}: saml2.encrypt_assertions: the SP's metadata has "
                "no encryption key: add one to its metadata or set encrypt_assertions: false")
    return server
