"""Which signature a SAML source's answer needs: the assertion's by default, the Response's
where the partner file allows it (``saml2.signature: response``) — and never one that a
signature-wrapping shape could make cover another assertion than the one we read.

Sources (:mod:`tests.backends.saml_sources_federation`), all signing only the Response, as
the Shibboleth IdP and Keycloak do by default: ``src-reponse`` and ``src-reponse-chiffre``
(its assertion encrypted), registered ``saml2.signature: response``; ``src-reponse-defaut``,
registered with the default.
"""

from __future__ import annotations

import base64
import re

import pytest
import requests
from defusedxml import ElementTree

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of, autopost_form, error_code_of
from idp.testbed.login import decide, login, on_consent_screen, sign_in, start
from tests.backends.saml_sources_federation import proxy_log

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
DS = "http://www.w3.org/2000/09/xmldsig#"
MD = "urn:oasis:names:tc:SAML:2.0:metadata"
CITIZEN = CITIZENS[0]
#: The value a forged assertion carries instead of the citizen's given name.
MALLORY = "Mallory"


# -- a browser holding the source's answer -------------------------------------------------


def _acs(fed, source: str) -> str:
    return f"{fed.proxy_url}/{source}/saml2/acs"


def _held(fed, browser: Browser, source: str, cancel: bool = False) -> tuple[str, dict]:
    """Sign in at ``source`` (or cancel there) and stop before the browser posts its answer."""
    form_page = start(browser, fed.url(source.replace("src-", "rp-", 1)))
    if cancel:
        page = browser.submit(form_page, {}, button=("action", "annuler"),
                              stop_at=_acs(fed, source))
    else:
        page = sign_in(browser, form_page, CITIZEN, stop_at=_acs(fed, source))
    form = autopost_form(page)
    assert form is not None and form[0] == _acs(fed, source), page.url
    return form


def _xml(fields: dict[str, str]) -> str:
    return base64.b64decode(fields["SAMLResponse"]).decode("utf-8")


def _post(browser: Browser, action: str, fields: dict[str, str],
          xml: str | None = None) -> requests.Response:
    if xml is not None:
        fields = {**fields, "SAMLResponse": base64.b64encode(xml.encode()).decode("ascii")}
    return browser.post(action, fields)


def _logged_in(browser: Browser, page: requests.Response) -> dict[str, str]:
    if on_consent_screen(page):  # the information screen, as after any login
        page = decide(browser, page)
    return attributes_of(page)


def _refused(fed, page: requests.Response, reason: str) -> None:
    assert page.status_code == 400 and error_code_of(page) == "reponse_source_invalide"
    assert reason in proxy_log(fed)
    assert MALLORY not in page.text


def _signed(xml: str) -> tuple[bool, bool]:
    """(Response signed, assertion signed) as posted; an encrypted assertion counts unsigned."""
    root = ElementTree.fromstring(xml)
    assertion = root.find(f"{{{SAML}}}Assertion")
    return (root.find(f"{{{DS}}}Signature") is not None,
            assertion is not None and assertion.find(f"{{{DS}}}Signature") is not None)


# -- taking answers apart, as an attacker does -------------------------------------------


def _unsigned(xml: str) -> str:
    """Without its first signature in document order: the Response's."""
    stripped, count = re.subn(r"<(\w+):Signature\b.*?</\1:Signature>", "", xml, count=1,
                              flags=re.DOTALL)
    assert count == 1
    return stripped


def _parts(xml: str) -> dict[str, str]:
    """The root's prefix, opening tag, Issuer, Signature, Status, Assertion and ID, verbatim."""
    body = re.sub(r"^<\?xml[^>]*\?>\s*", "", xml)
    root = re.match(r"<(\w+):Response\b[^>]*>", body)
    assert root is not None
    parts = {"p": root.group(1), "open": root.group(0), "whole": body,
             "id": re.search(r'\bID="([^"]+)"', root.group(0)).group(1)}
    for name in ("Issuer", "Signature", "Status", "Assertion"):
        found = re.search(rf"<(\w+):{name}\b.*?</\1:{name}>", body, re.DOTALL)
        parts[name] = found.group(0) if found else ""
    return parts


def _forged_assertion(xml: str, in_response_to: str | None = None) -> str:
    """The answer's assertion with another given name and a new ID (retargeted to another
    request when ``in_response_to`` is given), declaring the namespaces it took from its
    Response: what an attacker wants read, wherever it is put."""
    parts = _parts(xml)
    declarations = "".join(re.findall(r'\sxmlns:\w+="[^"]*"', parts["open"]))
    assertion = re.sub(r"^(<\w+:Assertion)\b", rf"\1{declarations}", parts["Assertion"])
    assert assertion.count(CITIZEN.claims["given_name"]) == 1
    forged = re.sub(r'\bID="([^"]+)"', r'ID="\1-forge"', assertion.replace(
        CITIZEN.claims["given_name"], MALLORY), count=1)
    if in_response_to is not None:
        forged = re.sub(r'InResponseTo="[^"]+"', f'InResponseTo="{in_response_to}"', forged)
    return forged


def _wrapper(signed: str, assertion: str, keep_id: bool) -> str:
    """A new Response holding ``assertion``, with the signed Response ``signed`` moved into
    its Extensions; with ``keep_id``, it takes that Response's ID and a copy of its signature
    (the signature then references the wrapper's ID)."""
    p = _parts(signed)
    open_tag = p["open"] if keep_id else p["open"].replace(f'ID="{p["id"]}"',
                                                            f'ID="{p["id"]}-wrap"')
    signature = p["Signature"] if keep_id else ""
    success = (f'<{p["p"]}:Status><{p["p"]}:StatusCode '
               'Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></' + p["p"] + ":Status>")
    return (f'{open_tag}{p["Issuer"]}{signature}<{p["p"]}:Extensions>{p["whole"]}'
            f'</{p["p"]}:Extensions>{success}{assertion}</{p["p"]}:Response>')


# -- what the partner file allows ---------------------------------------------------------


def test_a_response_signed_alone_logs_in_from_a_source_registered_signature_response(
        saml_sources):
    browser = Browser()

    page = login(browser, saml_sources.url("rp-reponse"), CITIZEN)

    assert attributes_of(page)["given_name"] == CITIZEN.claims["given_name"]
    [posted] = [_xml(f) for url, f in browser.posts if url == _acs(saml_sources, "src-reponse")]
    assert _signed(posted) == (True, False)


def test_a_response_signed_alone_is_refused_from_a_source_registered_with_the_default(
        saml_sources):
    page = login(Browser(), saml_sources.url("rp-reponse-defaut"), CITIZEN)

    _refused(saml_sources, page, "src-reponse-defaut: assertion unsigned and the source's "
             "partner file requires a signed assertion (saml2.signature: assertion); if the "
             "source signs only the Response, set saml2.signature: response")


@pytest.mark.parametrize("source", ["src-reponse", "src-reponse-defaut", "src-reponse-chiffre"])
def test_an_answer_signed_nowhere_is_refused_whatever_the_setting(saml_sources, source):
    browser = Browser()
    action, fields = _held(saml_sources, browser, source)

    page = _post(browser, action, fields, _unsigned(_xml(fields)))

    _refused(saml_sources, page, f"{source}: neither the Response nor the assertion is signed")


def test_a_signed_assertion_in_an_unsigned_response_logs_in_under_signature_response(
        saml_sources):
    idp = saml_sources.apps["src-reponse"]
    browser = Browser()
    idp.sign_assertion = True
    try:
        action, fields = _held(saml_sources, browser, "src-reponse")
    finally:
        idp.sign_assertion = False
    xml = _unsigned(_xml(fields))
    assert _signed(xml) == (False, True)

    page = _post(browser, action, fields, xml)

    assert _logged_in(browser, page)["given_name"] == CITIZEN.claims["given_name"]


def test_a_response_signed_alone_over_an_encrypted_assertion_logs_in(saml_sources):
    browser = Browser()

    page = login(browser, saml_sources.url("rp-reponse-chiffre"), CITIZEN)

    assert attributes_of(page)["given_name"] == CITIZEN.claims["given_name"]
    [posted] = [_xml(f) for url, f in browser.posts
                if url == _acs(saml_sources, "src-reponse-chiffre")]
    root = ElementTree.fromstring(posted)
    assert root.find(f"{{{SAML}}}EncryptedAssertion") is not None
    assert root.find(f"{{{DS}}}Signature") is not None
    assert CITIZEN.claims["family_name"] not in posted


def test_our_metadata_asks_signed_assertions_only_of_sources_registered_so(saml_sources):
    def wants(source: str) -> str | None:
        xml = requests.get(f"{saml_sources.proxy_url}/{source}/saml2/metadata", timeout=10).text
        return ElementTree.fromstring(xml).find(f"{{{MD}}}SPSSODescriptor").get(
            "WantAssertionsSigned")

    assert (wants("src-reponse-defaut"), wants("src-reponse")) == ("true", "false")


# -- signature wrapping --------------------------------------------------------------------


def test_an_unsigned_assertion_added_inside_the_signed_response_is_refused(saml_sources):
    browser = Browser()
    action, fields = _held(saml_sources, browser, "src-reponse")
    xml = _xml(fields)
    genuine = _parts(xml)["Assertion"]

    page = _post(browser, action, fields,
                 xml.replace(genuine, _forged_assertion(xml) + genuine))

    _refused(saml_sources, page, "src-reponse: expected exactly one Assertion, found 2")


def test_a_signed_response_moved_into_the_extensions_of_a_forged_one_is_refused(
        saml_sources):
    browser = Browser()
    action, fields = _held(saml_sources, browser, "src-reponse")
    xml = _xml(fields)

    page = _post(browser, action, fields, _wrapper(xml, _forged_assertion(xml), keep_id=False))

    _refused(saml_sources, page, "src-reponse: expected exactly one Assertion, found 2")


def test_a_signed_refusal_wrapped_around_an_unsigned_assertion_is_refused(saml_sources):
    """The source's own signed answer to this very request — a refusal, which holds no
    assertion — moved into a forged success carrying another login's unsigned assertion:
    one assertion in the document, and a valid signature by the source's key in it."""
    victim, other = Browser(), Browser()
    action, fields = _held(saml_sources, victim, "src-reponse", cancel=True)
    refusal = _xml(fields)
    assert _signed(refusal) == (True, False) and "Assertion" not in refusal
    request_id = re.search(r'InResponseTo="([^"]+)"', refusal).group(1)
    assertion = _forged_assertion(_xml(_held(saml_sources, other, "src-reponse")[1]),
                                  in_response_to=request_id)

    page = _post(victim, action, fields, _wrapper(refusal, assertion, keep_id=False))

    _refused(saml_sources, page, "src-reponse: Signature outside the Response and its assertion")


def test_a_forged_response_taking_the_signed_ones_id_and_signature_is_refused(saml_sources):
    victim, other = Browser(), Browser()
    action, fields = _held(saml_sources, victim, "src-reponse", cancel=True)
    refusal = _xml(fields)
    request_id = re.search(r'InResponseTo="([^"]+)"', refusal).group(1)
    assertion = _forged_assertion(_xml(_held(saml_sources, other, "src-reponse")[1]),
                                  in_response_to=request_id)

    page = _post(victim, action, fields, _wrapper(refusal, assertion, keep_id=True))

    _refused(saml_sources, page, "src-reponse: two elements share one ID")
