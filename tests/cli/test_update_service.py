"""``idp.partners.update``: a change proposal, once approved, rewrites the service's file with
what the request changes and keeps everything the federation decided; a file edited by hand
is refused rather than rewritten without its comments."""

from __future__ import annotations

import copy as copying
from pathlib import Path

import pytest
import yaml

from idp.partners.edit import add_service
from idp.partners.registration import RegistrationRequest
from idp.partners.update import update_service
from idp.schema_errors import ConfigError
from tests.cli.test_add import OIDC_REQUEST

SERVICE = "dumbea-inscriptions-scolaires"


@pytest.fixture
def registered(copy, tmp_path) -> Path:
    """The OIDC request of test_add, registered for commune-dumbea: its partner file."""
    added = add_service(copy.folder, tmp_path / "demande.yaml",
                        RegistrationRequest.model_validate(OIDC_REQUEST), copy.dictionary, True,
                        organisation_id="commune-dumbea")
    return added.path


def changed(**fields) -> RegistrationRequest:
    data = copying.deepcopy(OIDC_REQUEST)
    data.update(fields)
    return RegistrationRequest.model_validate(data)


def test_a_change_rewrites_what_the_request_says_and_keeps_what_the_federation_decided(
        copy, registered):
    before = yaml.safe_load(registered.read_text(encoding="utf-8"))
    attributes = {**OIDC_REQUEST["attributes"],
                  "birthdate": {"justification": "Vérifier l'âge de l'enfant inscrit."}}
    update_service(copy.folder, SERVICE,
                   changed(attributes=attributes, consent={"remember_days": 90}),
                   copy.dictionary, True)
    after = yaml.safe_load(registered.read_text(encoding="utf-8"))
    assert set(after["attributes"]) == {"family_name", "email", "birthdate"}
    assert after["consent"] == {"remember_days": 90}
    for key in ("id", "organisation_id", "active"):
        assert after[key] == before[key]
    assert after["oidc"]["client_secret_sha256"] == before["oidc"]["client_secret_sha256"]
    assert after["oidc"]["client_id"] == before["oidc"]["client_id"]


def test_the_header_is_kept_and_one_change_line_replaces_the_last(copy, registered):
    header = [line for line in registered.read_text(encoding="utf-8").splitlines()
              if line.startswith("# ")][:2]
    update_service(copy.folder, SERVICE, changed(contact="numerique@dumbea.nc"),
                   copy.dictionary, True)
    update_service(copy.folder, SERVICE, changed(contact="dsi@dumbea.nc"), copy.dictionary,
                   True)
    text = registered.read_text(encoding="utf-8")
    assert text.splitlines()[:2] == header
    assert text.count("# Changed through the partner portal on") == 1


def test_an_english_text_left_as_it_was_is_kept(copy, registered):
    text = registered.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    data["name"] = {"fr": OIDC_REQUEST["service_name"], "en": "Dumbéa — school enrolment"}
    registered.write_text(text.replace(
        f"name: {OIDC_REQUEST['service_name']}\n",
        yaml.safe_dump({"name": data["name"]}, allow_unicode=True)), encoding="utf-8")
    update_service(copy.folder, SERVICE, changed(contact="numerique@dumbea.nc"),
                   copy.dictionary, True)
    assert yaml.safe_load(registered.read_text(encoding="utf-8"))["name"]["en"] == \
        "Dumbéa — school enrolment"


def test_a_file_with_hand_written_comments_is_refused_and_left_alone(copy, registered):
    text = registered.read_text(encoding="utf-8").replace(
        "oidc:\n", "oidc:\n  # URI ajoutée à la main le 3 mars\n")
    registered.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="comments written by hand"):
        update_service(copy.folder, SERVICE, changed(contact="numerique@dumbea.nc"),
                       copy.dictionary, True)
    assert registered.read_text(encoding="utf-8") == text


def test_a_change_of_protocol_is_refused(copy, registered):
    saml = {k: v for k, v in OIDC_REQUEST.items() if k != "oidc"}
    request = RegistrationRequest.model_validate({
        **saml, "protocol": "saml2", "saml2": {"entity_id": "https://sp.dumbea.nc/saml",
                                                "metadata_url": "https://sp.dumbea.nc/md"}})
    before = registered.read_text(encoding="utf-8")
    with pytest.raises(ConfigError, match="request a new service instead"):
        update_service(copy.folder, SERVICE, request, copy.dictionary, True)
    assert registered.read_text(encoding="utf-8") == before


def test_a_change_the_registry_refuses_writes_nothing(copy, registered):
    before = registered.read_text(encoding="utf-8")
    with pytest.raises(ConfigError):
        update_service(copy.folder, SERVICE, changed(sources=["no-such-source"]),
                       copy.dictionary, True)
    assert registered.read_text(encoding="utf-8") == before


def test_switching_to_private_key_jwt_drops_the_secret_hashes(copy, registered):
    oidc = {**OIDC_REQUEST["oidc"], "token_endpoint_auth_method": "private_key_jwt",
            "jwks_uri": "https://ecoles.dumbea.nc/jwks.json"}
    update_service(copy.folder, SERVICE, changed(oidc=oidc), copy.dictionary, True)
    after = yaml.safe_load(registered.read_text(encoding="utf-8"))["oidc"]
    assert after["token_endpoint_auth_method"] == "private_key_jwt"
    assert after["jwks_uri"] == "https://ecoles.dumbea.nc/jwks.json"
    assert "client_secret_sha256" not in after
