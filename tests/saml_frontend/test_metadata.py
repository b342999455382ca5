"""Our IdP metadata, and the checks on each SP's metadata when the frontend starts."""

from __future__ import annotations

import base64
import copy
import re

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from defusedxml import ElementTree
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT

from plugins.frontends.saml2.frontend import SAML2Frontend
from plugins.frontends.saml2.idp_config import SPMetadataError

from .conftest import BASE, IDP_ENTITY, NS, SPS, SSO_POST, SSO_REDIRECT

PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
TRANSIENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:transient"
EMAIL = "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress"


@pytest.fixture(scope="module")
def served(federation):
    resp = federation.browser().get(f"{BASE}/saml2/metadata")
    return resp, ElementTree.fromstring(resp.get_data())


def _start_frontend(federation, sps):
    conf = copy.deepcopy(federation.frontend_conf)
    conf["sps"] = sps
    return SAML2Frontend(lambda *_: None, {"attributes": {}}, conf, BASE, "saml2")


def test_metadata_is_served_as_saml_metadata(served):
    resp, _root = served
    assert resp.status_code == 200
    assert resp.headers["Content-Type"].startswith("application/samlmetadata+xml")


def test_metadata_names_our_entity_id(served):
    _resp, root = served
    assert root.tag == f"{{{NS['md']}}}EntityDescriptor"
    assert root.get("entityID") == IDP_ENTITY


def test_metadata_lists_sso_for_redirect_and_post_bindings(served):
    _resp, root = served
    sso = {(s.get("Binding"), s.get("Location"))
           for s in root.findall("md:IDPSSODescriptor/md:SingleSignOnService", NS)}
    assert sso == {(BINDING_HTTP_REDIRECT, SSO_REDIRECT), (BINDING_HTTP_POST, SSO_POST)}


def test_metadata_signing_key_is_our_certificate(federation, served):
    _resp, root = served
    keys = root.findall("md:IDPSSODescriptor/md:KeyDescriptor", NS)
    assert [k.get("use") for k in keys] == ["signing"]
    published = re.sub(r"\s", "", keys[0].findtext(".//ds:X509Certificate", namespaces=NS))
    ours = x509.load_pem_x509_certificate(federation.idp_cert_path.read_bytes())
    assert base64.b64decode(published) == ours.public_bytes(Encoding.DER)


def test_metadata_announces_persistent_then_every_format_a_partner_file_allows(served):
    _resp, root = served
    assert [n.text for n in root.findall("md:IDPSSODescriptor/md:NameIDFormat", NS)] == [
        PERSISTENT, TRANSIENT, EMAIL]


def test_metadata_announces_only_persistent_when_every_sp_is_pinned_to_it(federation):
    pinned = federation.frontend_conf["sps"][SPS["pinned"].entity_id]
    frontend = _start_frontend(federation, {SPS["pinned"].entity_id: pinned})
    root = ElementTree.fromstring(frontend.metadata_xml)
    assert [n.text for n in root.findall("md:IDPSSODescriptor/md:NameIDFormat", NS)] == [
        PERSISTENT]


def test_sp_metadata_describing_another_entity_is_refused_at_start(federation):
    genuine = federation.frontend_conf["sps"][SPS["b"].entity_id]
    with pytest.raises(SPMetadataError, match="must describe exactly"):
        _start_frontend(federation, {SPS["a"].entity_id: genuine})


def test_sp_metadata_smuggling_a_second_entity_is_refused_at_start(federation):
    sps = federation.frontend_conf["sps"]
    a, b = sps[SPS["a"].entity_id], sps[SPS["b"].entity_id]
    body = "".join(re.sub(r"^<\?xml[^>]*>", "", m["metadata_xml"]) for m in (a, b))
    bundle = ('<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata">'
              f"{body}</md:EntitiesDescriptor>")
    with pytest.raises(SPMetadataError, match="must describe exactly"):
        _start_frontend(federation, {SPS["a"].entity_id: {**a, "metadata_xml": bundle}})


def test_unparsable_sp_metadata_is_refused_at_start(federation):
    a = federation.frontend_conf["sps"][SPS["a"].entity_id]
    with pytest.raises(SPMetadataError, match="cannot be parsed"):
        _start_frontend(federation, {SPS["a"].entity_id: {**a, "metadata_xml": "<nope"}})


def test_frontend_starts_without_any_saml_service(federation):
    frontend = _start_frontend(federation, {})
    assert f'entityID="{IDP_ENTITY}"' in frontend.metadata_xml
