"""SAML certificate rollovers on a running proxy (gunicorn, two workers), with the demo's
pysaml2 peers: SPs that load NC Connect's metadata once (before, or during the publication
window), and an identity source that encrypts to the key of the metadata it loaded."""

from __future__ import annotations

import requests
from defusedxml import ElementTree

from idp.keyring import view_for

from .conftest import kid_of, rotate, sign_in

MD = "{urn:oasis:names:tc:SAML:2.0:metadata}"
DS = "{http://www.w3.org/2000/09/xmldsig#}"


def _certs(fed, path: str, use: str) -> list[str]:
    root = ElementTree.fromstring(requests.get(f"{fed.proxy_url}{path}", timeout=10).content)
    return ["".join((c.text or "").split())
            for kd in root.iter(f"{MD}KeyDescriptor") if kd.get("use") == use
            for c in kd.iter(f"{DS}X509Certificate")]


def _pem_body(fed, name: str) -> str:
    text = (fed.folder / "data" / "keys" / name).read_text()
    return "".join(line for line in text.splitlines() if not line.startswith("-----"))


def test_sp_refreshing_during_publish_window_keeps_verifying_after_activation(fed):
    folder = fed.folder / "data" / "keys"
    sign_in(fed, "sp-tot")  # loads the metadata now, and never again
    assert fed.apps["sp-tot"].last_result is not None
    assert len(_certs(fed, "/saml2/metadata", "signing")) == 1

    new_kid = kid_of(rotate(fed, "add", "saml-signing", options=("--activate-after", "0")))
    ring = view_for(folder).refresh(force=True)
    old, new = ring.active("saml-signing"), ring.find("saml-signing", new_kid)
    assert old is not None and new is not None
    both = [_pem_body(fed, str(old.cert)), _pem_body(fed, str(new.cert))]
    for _ in range(4):  # every worker lists both, the active one first
        assert _certs(fed, "/saml2/metadata", "signing") == both
        assert _certs(fed, "/src-chiffre/saml2/metadata", "signing") == both  # our SP's too

    sign_in(fed, "sp-tard")  # its first login: the metadata of the publication window
    assert fed.apps["sp-tard"].last_result is not None

    rotate(fed, "activate", "saml-signing", new_kid)
    for _ in range(3):  # responses signed with the new key, on either worker
        sign_in(fed, "sp-tard")
        assert fed.apps["sp-tard"].last_result is not None
    # The SP that never refreshed breaks at activation (README says so).
    _, page = sign_in(fed, "sp-tot")
    assert fed.apps["sp-tot"].last_result is None
    assert 'data-error="reponse_invalide"' in page.text  # the signature no longer verifies
    assert _certs(fed, "/saml2/metadata", "signing")[0] == _pem_body(fed, str(new.cert))


def test_assertion_encrypted_for_old_key_is_decrypted_until_retirement(fed):
    folder = fed.folder / "data" / "keys"
    sign_in(fed, "rp-chiffre")  # the source loads our SP metadata: one encryption key
    assert fed.apps["rp-chiffre"].last_result is not None
    old = view_for(folder).refresh(force=True).active("saml-encryption")
    assert old is not None

    new_kid = kid_of(rotate(fed, "add", "saml-encryption", options=("--activate-after", "0")))
    rotate(fed, "activate", "saml-encryption", new_kid)
    new = view_for(folder).refresh(force=True).find("saml-encryption", new_kid)
    assert new is not None
    assert _certs(fed, "/src-chiffre/saml2/metadata", "encryption") == [
        _pem_body(fed, str(new.cert)), _pem_body(fed, str(old.cert))]

    for _ in range(3):  # still encrypted for the old key: decrypted on either worker
        sign_in(fed, "rp-chiffre")
        assert fed.apps["rp-chiffre"].last_result is not None

    rotate(fed, "retire", "saml-encryption", old.kid, options=("--force",))
    assert _certs(fed, "/src-chiffre/saml2/metadata", "encryption") == [
        _pem_body(fed, str(new.cert))]
    sign_in(fed, "rp-chiffre")  # the source still encrypts for the retired key
    assert fed.apps["rp-chiffre"].last_result is None
