"""Hostile input on the interoperability surfaces ends on our page, or on the protocol error the
specification requires, with nothing released and nothing raw in the proxy's log.

The surfaces: an AuthnRequest's ``NameIDPolicy``; LogoutRequests from an SP registered
``logout_requests: unsigned_confirm`` and the confirmation form they lead to; PKCE and
``nonce`` of a client registered ``require_pkce: false``; and what identity sources state as
their level (an OIDC ``acr``, a SAML ``AuthnContextClassRef``). Each test checks the proxy's
log lines written meanwhile: no 500, no personal datum, and at most a bounded prefix of the
attacker's text (:data:`LOGGED_PREFIX`), inside a JSON string.

Its own federation (the session's ``fed`` has none of these partners), on the suite's Redis:
the testbed's ``src-op`` (OIDC, substantial) and ``src-idp`` (SAML, low), whose answers the
tests bend (:func:`id_token_bent`, :func:`class_refs`), and the services below. The tests
play the SP themselves when they send what no demo SP sends: messages written here, signed
for the Redirect binding with the SP's own key.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import pytest
import requests
import saml2.assertion
import yaml
from bs4 import BeautifulSoup
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from jwkest.jws import JWS
from saml2 import saml
from saml2.samlp import (
    STATUS_INVALID_NAMEID_POLICY,
    authn_request_from_string,
    response_from_string,
)
from saml2.time_util import instant
from saml2.xmldsig import SIG_RSA_SHA256

from idp.demo.citizens import CITIZENS, Citizen
from idp.sso.session import NAMESPACE
from idp.stores import open_store
from idp.testbed.browser import Browser, error_code_of
from idp.testbed.federation import Federation, build_federation
from idp.testbed.login import login
from plugins.frontends.oidc import binding
from plugins.saml2.inflate import redirect_message_xml
from tests.logout.steps import services_of, session_of, sign_in_to
from tests.sso.clients import OidcClient, query_of, sign_in_at_source

NAMES = ["given_name", "family_name", "birthdate"]
SERVICES: dict[str, tuple] = {
    # unsigned LogoutRequests, confirmed by the citizen (SimpleSAMLphp without a key)
    "sp-ssp": ("saml2", ["src-op"], NAMES,
               {"saml2": {"logout_requests": "unsigned_confirm"},
                "peer": {"sign_logout_requests": False}}),
    "sp-autre": ("saml2", ["src-op"], NAMES),
    # its partner file is given require_pkce: false before the proxy starts
    "rp-sans-pkce": ("oidc", ["src-op"], NAMES),
    "rp-op": ("oidc", ["src-op"], NAMES),
    "rp-idp": ("oidc", ["src-idp"], NAMES),
}
PROTOCOL = "urn:oasis:names:tc:SAML:2.0:protocol"
ASSERTION = "urn:oasis:names:tc:SAML:2.0:assertion"
PERSISTENT = "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
KERBEROS = "urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos"
SUBSTANTIAL = "http://eidas.europa.eu/LoA/substantial"
LOW = "http://eidas.europa.eu/LoA/low"
#: The most of one hostile value a log line may carry (``name_id.MAX_LOGGED_FORMAT``).
LOGGED_PREFIX = 200
TEN_KB = 10 * 1024
CONFIRM_FORM = "form#form-deconnexion"
VICTIM, ATTACKER = CITIZENS[0], CITIZENS[1]


# -- the federation ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ifed(tmp_path_factory, redis_server) -> Iterator[Federation]:
    federation = build_federation(tmp_path_factory.mktemp("interop_bad_input"), SERVICES,
                                  log_level="INFO")
    try:
        partner = federation.folder / "partenaires" / "rp-sans-pkce.yaml"
        data = yaml.safe_load(partner.read_text(encoding="utf-8"))
        data["oidc"]["require_pkce"] = False
        partner.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False),
                           encoding="utf-8")
        federation.start_proxy(workers=2, store=redis_server.url)
        yield federation
    finally:
        federation.stop()


@pytest.fixture(scope="module")
def store(redis_server):
    return open_store(redis_server.url)


class ProxyLog:
    """The proxy's log lines written since the test began."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.start = path.stat().st_size

    def text(self) -> str:
        with self.path.open("rb") as log:
            log.seek(self.start)
            return log.read().decode("utf-8", errors="replace")

    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text().splitlines() if line.startswith("{")]

    def check(self, *hostile: str, personal: tuple[str, ...] = ()) -> None:
        """No 500, no citizen's datum nor any of ``personal`` (identifiers, tokens), each
        ``hostile`` value at most as a bounded prefix; every line one JSON record (a value
        cannot start a line of its own)."""
        text = self.text()
        assert "unhandled error" not in text and "Traceback" not in text, text[-3000:]
        for line in text.splitlines():
            if line.startswith("{"):
                json.loads(line)
        for value in hostile:
            if len(value) > LOGGED_PREFIX:
                assert value[:LOGGED_PREFIX + 1] not in text, "hostile text logged unbounded"
        for citizen in CITIZENS:
            for datum in _personal(citizen):
                assert datum not in text, f"personal datum in the log: {datum!r}"
        for datum in personal:
            assert datum not in text, "identifier or token in the log"


def _personal(citizen: Citizen) -> list[str]:
    keys = ("given_name", "family_name", "birthdate", "email", "phone_number")
    return [citizen.username] + [citizen.claims[k] for k in keys]


@pytest.fixture
def log(ifed) -> ProxyLog:
    return ProxyLog(ifed.folder / "proxy.log")


def _our_page(resp: requests.Response, code: str, status: int = 400) -> None:
    assert resp.status_code == status, (resp.status_code, resp.text[:300])
    assert error_code_of(resp) == code
    assert "Location" not in resp.headers
    assert BeautifulSoup(resp.text, "html.parser").find("html")["lang"] == "fr"


def _stopped(log: ProxyLog) -> dict[str, Any]:
    """The proxy's last "login stopped" record of the test."""
    return [r for r in log.records() if r.get("event") == "login stopped"][-1]


# -- SAML messages written by the tests, as the SP ----------------------------------------------


def _deflated(xml: str) -> str:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return base64.b64encode(compressor.compress(xml.encode()) + compressor.flush()).decode()


def _signed_query(fed: Federation, sp: str, message: str, xml: str, relay_state: str = "",
                  sign: bool = True) -> str:
    """A Redirect-binding query carrying ``xml``, signed with ``sp``'s own key (RSA-SHA256)."""
    parts = [f"{message}={quote_plus(_deflated(xml))}"]
    if relay_state:
        parts.append(f"RelayState={quote_plus(relay_state)}")
    if sign:
        parts.append(f"SigAlg={quote_plus(SIG_RSA_SHA256)}")
        key = serialization.load_pem_private_key(
            (fed.folder / "peers" / f"{sp}.pem").read_bytes(), password=None)
        signature = key.sign("&".join(parts).encode(), padding.PKCS1v15(), hashes.SHA256())
        parts.append(f"Signature={quote_plus(base64.b64encode(signature).decode())}")
    return "&".join(parts)


def _authn_request(fed: Federation, sp: str, policy: str) -> tuple[str, str]:
    """(ID, the URL sending ``sp``'s signed AuthnRequest carrying ``policy`` (raw XML))."""
    request_id = f"_{secrets.token_hex(16)}"
    xml = (f'<samlp:AuthnRequest xmlns:samlp="{PROTOCOL}" xmlns:saml="{ASSERTION}" '
           f'ID="{request_id}" Version="2.0" IssueInstant="{instant()}" '
           f'Destination="{fed.proxy_url}/saml2/sso/redirect" '
           f'AssertionConsumerServiceURL="{fed.url(sp)}/acs" '
           'ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST">'
           f'<saml:Issuer>{fed.url(sp)}/metadata</saml:Issuer>{policy}</samlp:AuthnRequest>')
    query = _signed_query(fed, sp, "SAMLRequest", xml, relay_state="etat")
    return request_id, f"{fed.proxy_url}/saml2/sso/redirect?{query}"


def _policy(format_: str | None = None, **attributes: str) -> str:
    attrs = {"Format": format_, **attributes} if format_ is not None else attributes
    written = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<samlp:NameIDPolicy{written}/>"


def _refused_to_acs(fed: Federation, resp: requests.Response, request_id: str,
                    sp: str = "sp-ssp") -> None:
    """The answer is ``InvalidNameIDPolicy``, posted to the SP's ACS, without an assertion."""
    assert resp.status_code == 200, (resp.status_code, resp.text[:300])
    form = BeautifulSoup(resp.text, "html.parser").find("form")
    assert form is not None and form["action"] == f"{fed.url(sp)}/acs"
    fields = {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}
    xml = base64.b64decode(fields["SAMLResponse"]).decode()
    answer = response_from_string(xml)
    assert answer.in_response_to == request_id
    assert answer.status.status_code.status_code.value == STATUS_INVALID_NAMEID_POLICY
    assert not answer.assertion and "Assertion" not in xml and "EncryptedAssertion" not in xml
    assert fields.get("RelayState") == "etat"


def _to_source(fed: Federation, resp: requests.Response) -> bool:
    """The proxy sent the browser on to the identity source (the login goes on)."""
    return resp.status_code in (302, 303) and resp.headers["Location"].startswith(
        fed.url("src-op"))


def _nameid_refusal(log: ProxyLog) -> dict[str, Any]:
    return [r for r in log.records() if r.get("event") == "NameIDPolicy refused"][-1]


# -- 1. NameIDPolicy --------------------------------------------------------------------------


def test_a_10_kb_name_id_format_is_answered_invalid_name_id_policy_logging_a_prefix(ifed, log):
    junk = "urn:x:" + "A" * TEN_KB
    request_id, url = _authn_request(ifed, "sp-ssp", _policy(junk))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    _refused_to_acs(ifed, resp, request_id)
    assert _nameid_refusal(log)["asked"] == junk[:LOGGED_PREFIX]
    log.check(junk)


def test_a_unicode_look_alike_of_persistent_is_answered_invalid_name_id_policy(ifed, log):
    look_alike = PERSISTENT.replace("persistent", "p\u0435rsist\u0435nt\u202e")  # Cyrillic е
    request_id, url = _authn_request(ifed, "sp-ssp", _policy(look_alike))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    _refused_to_acs(ifed, resp, request_id)
    assert _nameid_refusal(log)["asked"] == look_alike
    log.check()


def test_a_control_character_in_the_format_is_refused_on_our_page(ifed, log):
    request_id, url = _authn_request(ifed, "sp-ssp", _policy(f"{PERSISTENT}&#x1b;[2J"))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    _our_page(resp, "requete_invalide")
    log.check()


def test_a_line_break_in_the_format_cannot_forge_a_log_line(ifed, log):
    forged = '{"level": "info", "event": "SAML response sent"}'
    escaped = forged.replace('"', "&quot;")
    request_id, url = _authn_request(ifed, "sp-ssp", _policy(f"{PERSISTENT}&#xA;{escaped}"))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    _refused_to_acs(ifed, resp, request_id)
    assert not any(line.startswith(forged) for line in log.text().splitlines())
    log.check()


def test_another_valid_format_uri_kerberos_is_answered_invalid_name_id_policy(ifed, log):
    request_id, url = _authn_request(ifed, "sp-ssp", _policy(KERBEROS))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    _refused_to_acs(ifed, resp, request_id)
    assert _nameid_refusal(log)["asked"] == KERBEROS
    log.check()


def test_an_empty_format_is_read_as_unspecified_and_the_login_goes_on(ifed, log):
    _, url = _authn_request(ifed, "sp-ssp", _policy(""))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    assert _to_source(ifed, resp)
    log.check()


def test_an_sp_name_qualifier_of_another_sp_is_answered_invalid_name_id_policy(ifed, log):
    request_id, url = _authn_request(ifed, "sp-ssp", _policy(
        PERSISTENT, SPNameQualifier=f"{ifed.url('sp-autre')}/metadata"))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    _refused_to_acs(ifed, resp, request_id)
    assert _nameid_refusal(log)["reason"] == "SPNameQualifier is not the SP's entity id"
    log.check()


def test_allow_create_garbage_is_refused_on_our_page(ifed, log):
    _, url = _authn_request(ifed, "sp-ssp", _policy(PERSISTENT, AllowCreate="peut-être"))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    _our_page(resp, "requete_invalide")
    log.check()


def test_two_name_id_policies_are_refused_on_our_page(ifed, log):
    _, url = _authn_request(ifed, "sp-ssp", _policy(KERBEROS) + _policy(PERSISTENT))

    resp = requests.get(url, allow_redirects=False, timeout=10)

    _our_page(resp, "requete_invalide")
    log.check()


# -- 2. LogoutRequests of an SP registered unsigned_confirm -----------------------------------


def _signed_in(fed: Federation, store, citizen: Citizen,
               services: list[str]) -> tuple[Browser, dict[str, Any]]:
    browser = Browser()
    sign_in_to(fed, browser, citizen, services)
    return browser, session_of(store, browser)


def _alive(store, record: dict[str, Any]) -> bool:
    return store.get(NAMESPACE, record["key"]) is not None


def _entry(store, record: dict[str, Any], service: str) -> dict[str, Any]:
    """The session's entry for ``service``: the NameID it received (``subject``) and its
    SessionIndex (``sid``)."""
    return services_of(store, record["sid"])[service]


def _logout_request(fed: Federation, sp: str, name_id: str, session_index: str | None = None,
                    binding: str = "redirect") -> str:
    indexes = f"<samlp:SessionIndex>{session_index}</samlp:SessionIndex>" \
        if session_index else ""
    return (f'<samlp:LogoutRequest xmlns:samlp="{PROTOCOL}" xmlns:saml="{ASSERTION}" '
            f'ID="_{secrets.token_hex(16)}" Version="2.0" IssueInstant="{instant()}" '
            f'Destination="{fed.proxy_url}/saml2/slo/{binding}">'
            f'<saml:Issuer>{fed.url(sp)}/metadata</saml:Issuer>'
            f'<saml:NameID Format="{PERSISTENT}">{name_id}</saml:NameID>{indexes}'
            '</samlp:LogoutRequest>')


def _unsigned_logout_url(fed: Federation, name_id: str, session_index: str | None = None,
                         relay_state: str = "") -> str:
    query = _signed_query(fed, "sp-ssp", "SAMLRequest",
                          _logout_request(fed, "sp-ssp", name_id, session_index),
                          relay_state=relay_state, sign=False)
    return f"{_slo(fed)}?{query}"


def _slo(fed: Federation) -> str:
    return f"{fed.proxy_url}/saml2/slo/redirect"


def _confirmation(page: requests.Response) -> dict[str, str]:
    """The confirmation form's action and hidden fields (the page must be it)."""
    form = BeautifulSoup(page.text, "html.parser").select_one(CONFIRM_FORM)
    assert page.status_code == 200 and form is not None, f"not the confirmation: {page.url}"
    return {"action": form["action"],
            **{i["name"]: i.get("value", "") for i in form.find_all("input", type="hidden")}}


def _asked(fed: Federation, browser: Browser) -> dict[str, str]:
    """The SP's own logout link (an unsigned LogoutRequest); the confirmation form we show."""
    return _confirmation(browser.get(f"{fed.url('sp-ssp')}/logout"))


@pytest.fixture(scope="module")
def victim(ifed, store) -> dict[str, Any]:
    """A citizen signed in at both SAML services, whom the attacker's requests name."""
    _, record = _signed_in(ifed, store, VICTIM, ["sp-ssp", "sp-autre"])
    return record


def test_an_unsigned_logout_naming_another_citizen_is_refused_and_ends_nothing(
        ifed, store, victim, log):
    attacker, own = _signed_in(ifed, store, ATTACKER, ["sp-ssp"])
    their_name_id = _entry(store, victim, "sp-ssp")["subject"]

    page = attacker.get(_unsigned_logout_url(ifed, their_name_id))

    _our_page(page, "deconnexion_invalide")
    assert _alive(store, victim) and _alive(store, own)
    log.check(personal=(their_name_id,))


def test_an_unsigned_logout_naming_another_sps_session_index_is_refused_and_ends_nothing(
        ifed, store, victim, log):
    attacker, own = _signed_in(ifed, store, ATTACKER, ["sp-ssp"])
    own_name_id = _entry(store, own, "sp-ssp")["subject"]
    their_index = _entry(store, victim, "sp-autre")["sid"]

    page = attacker.get(_unsigned_logout_url(ifed, own_name_id, their_index))

    _our_page(page, "deconnexion_invalide")
    assert _alive(store, victim) and _alive(store, own)
    log.check(personal=(own_name_id, their_index))


def test_a_confirmation_carrying_the_token_of_another_session_ends_nothing(ifed, store, log):
    browser, record = _signed_in(ifed, store, CITIZENS[2], ["sp-ssp"])
    attacker, _ = _signed_in(ifed, store, CITIZENS[3], ["sp-ssp"])
    theirs, foreign = _asked(ifed, browser), _asked(ifed, attacker)

    forged = browser.post_form_data(theirs["action"], {
        "demande": theirs["demande"], "csrf": foreign["csrf"], "confirmer": "oui"})

    _our_page(forged, "deconnexion_formulaire_invalide", 403)
    assert _alive(store, record)
    log.check(personal=(foreign["csrf"], theirs["demande"]))


def test_a_confirmation_without_a_token_ends_nothing(ifed, store, log):
    browser, record = _signed_in(ifed, store, CITIZENS[2], ["sp-ssp"])
    fields = _asked(ifed, browser)

    forged = browser.post_form_data(fields["action"], {"demande": fields["demande"],
                                                       "confirmer": "oui"})

    _our_page(forged, "deconnexion_formulaire_invalide", 403)
    assert _alive(store, record)
    log.check()


def test_a_confirmation_replayed_is_refused_on_our_page(ifed, store, log):
    browser, record = _signed_in(ifed, store, CITIZENS[2], ["sp-ssp"])
    fields = _asked(ifed, browser)
    action = fields.pop("action")
    first = browser.post_form_data(action, {**fields, "confirmer": "oui"})
    assert first.status_code == 303 and not _alive(store, record)

    again = browser.post_form_data(action, {**fields, "confirmer": "oui"})

    _our_page(again, "deconnexion_expiree")
    log.check()


def test_a_confirmation_posted_from_a_foreign_origin_ends_nothing(ifed, store, log):
    browser, record = _signed_in(ifed, store, CITIZENS[2], ["sp-ssp"])
    fields = _asked(ifed, browser)

    forged = browser.session.post(fields.pop("action"), data={**fields, "confirmer": "oui"},
                                  headers={"Origin": "https://pirate.example"},
                                  allow_redirects=False, timeout=30)

    _our_page(forged, "deconnexion_formulaire_invalide", 403)
    assert _alive(store, record)
    log.check()


def _two_saml_requests(fed: Federation, signed_for: dict[str, Any],
                       unsigned_for: dict[str, Any]) -> str:
    """A Redirect query carrying two SAMLRequests: the first signed by the SP, naming
    ``signed_for``'s session, then an unsigned one naming ``unsigned_for``'s."""
    signed = _signed_query(fed, "sp-ssp", "SAMLRequest", _logout_request(
        fed, "sp-ssp", signed_for["subject"], signed_for["sid"]))
    unsigned = _signed_query(fed, "sp-ssp", "SAMLRequest", _logout_request(
        fed, "sp-ssp", unsigned_for["subject"], unsigned_for["sid"]), sign=False)
    return f"{_slo(fed)}?{signed}&{unsigned}"


def test_a_second_unsigned_saml_request_in_a_redirect_query_is_never_acted_on(
        ifed, store, victim, log):
    attacker, own = _signed_in(ifed, store, ATTACKER, ["sp-ssp"])
    mine, theirs = _entry(store, own, "sp-ssp"), _entry(store, victim, "sp-ssp")

    page = attacker.get(_two_saml_requests(ifed, mine, theirs), follow=False)

    assert page.status_code < 500
    assert _alive(store, victim)
    log.check(personal=(mine["subject"], theirs["subject"]))


def test_a_redirect_query_with_two_saml_requests_is_refused(ifed, store, victim, log):
    attacker, own = _signed_in(ifed, store, ATTACKER, ["sp-ssp"])
    mine, theirs = _entry(store, own, "sp-ssp"), _entry(store, victim, "sp-ssp")

    page = attacker.get(_two_saml_requests(ifed, mine, theirs), follow=False)

    _our_page(page, "deconnexion_invalide")
    assert _alive(store, own)


def test_a_10_kb_relay_state_is_refused_on_our_page(ifed, store, log):
    browser, record = _signed_in(ifed, store, CITIZENS[2], ["sp-ssp"])
    relay_state = "R" * TEN_KB
    xml = _logout_request(ifed, "sp-ssp", _entry(store, record, "sp-ssp")["subject"],
                          binding="post")

    page = browser.post_form_data(f"{ifed.proxy_url}/saml2/slo/post", {
        "SAMLRequest": base64.b64encode(xml.encode()).decode(), "RelayState": relay_state})

    _our_page(page, "deconnexion_invalide")
    assert _alive(store, record)
    log.check(relay_state)


# -- 3. PKCE and nonce of a client registered require_pkce: false ----------------------------


def _authorize(fed: Federation, client: str, **params: str) -> requests.Response:
    query = {"response_type": "code", "client_id": client, "scope": "openid profile",
             "redirect_uri": f"{fed.url(client)}/callback", "state": "etat", **params}
    return requests.get(f"{fed.proxy_url}/oidc/authorize?{urlencode(query)}",
                        allow_redirects=False, timeout=10)


def _oauth_error(fed: Federation, resp: requests.Response, client: str) -> dict[str, str]:
    """The OAuth error sent to the client's registered redirect URI (with its state)."""
    assert resp.status_code in (302, 303), (resp.status_code, resp.text[:300])
    assert resp.headers["Location"].startswith(f"{fed.url(client)}/callback?")
    answer = query_of(resp)
    assert answer["state"] == "etat" and "code" not in answer
    return answer


def _challenge(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()
                                    ).rstrip(b"=").decode()


def test_an_empty_nonce_without_pkce_is_refused_to_the_client_naming_the_setting(ifed, log):
    resp = _authorize(ifed, "rp-sans-pkce", nonce="")

    answer = _oauth_error(ifed, resp, "rp-sans-pkce")
    assert answer["error"] == "invalid_request"
    assert "oidc.require_pkce" in answer["error_description"]
    log.check()


def test_a_10_kb_nonce_in_the_query_releases_nothing_and_logs_nothing(ifed, log):
    nonce = "n" * TEN_KB

    resp = _authorize(ifed, "rp-sans-pkce", nonce=nonce)

    assert resp.status_code == 414 and "Location" not in resp.headers
    log.check(nonce)


def test_a_10_kb_nonce_in_the_query_is_refused_by_the_server_before_the_proxy(ifed):
    """gunicorn refuses a request line over 8190 bytes itself (414, its own plain page):
    nothing reaches the proxy, nothing is redirected, no 500."""
    resp = _authorize(ifed, "rp-sans-pkce", nonce="n" * TEN_KB)

    assert resp.status_code == 414 and "Location" not in resp.headers


def test_a_10_kb_nonce_posted_is_refused_to_the_client(ifed, log):
    nonce = "n" * TEN_KB

    resp = requests.post(f"{ifed.proxy_url}/oidc/authorize", timeout=10, allow_redirects=False,
                         data={"response_type": "code", "client_id": "rp-sans-pkce",
                               "scope": "openid", "state": "etat", "nonce": nonce,
                               "redirect_uri": f"{ifed.url('rp-sans-pkce')}/callback"})

    answer = _oauth_error(ifed, resp, "rp-sans-pkce")
    assert answer["error"] == "invalid_request" and "nonce" in answer["error_description"]
    log.check(nonce)


@pytest.mark.parametrize("method", ["plain", "s256", "S256\u200b", "S512", "M" * 300])
def test_a_garbage_code_challenge_method_is_refused_to_the_client(ifed, log, method):
    resp = _authorize(ifed, "rp-sans-pkce", nonce="n",
                      code_challenge=_challenge(secrets.token_urlsafe(48)),
                      code_challenge_method=method)

    answer = _oauth_error(ifed, resp, "rp-sans-pkce")
    assert answer["error"] == "invalid_request"
    assert answer["error_description"] in (binding.METHOD_NOT_S256,
                                           "code_challenge_method is malformed or too long")
    log.check(method)


@pytest.mark.parametrize("challenge", [
    "A" * 42, "A" * 129, "A" * 300, "+/" * 22, "é" * 43, "A" * 42 + "=", "A" * 42 + "\x00"],
    ids=["42", "129", "300", "plus-slash", "unicode", "padding", "nul"])
def test_a_code_challenge_of_wrong_length_or_charset_is_refused_to_the_client(ifed, log,
                                                                            challenge):
    resp = _authorize(ifed, "rp-sans-pkce", nonce="n", code_challenge=challenge,
                      code_challenge_method="S256")

    answer = _oauth_error(ifed, resp, "rp-sans-pkce")
    assert answer["error"] == "invalid_request"
    assert answer["error_description"] in (binding.CHALLENGE_MALFORMED,
                                           "code_challenge is malformed or too long")
    log.check(challenge)


def _code(fed: Federation, citizen: Citizen) -> tuple[OidcClient, Any, str]:
    """A login of the require_pkce: false client sending PKCE: (client, request, code)."""
    client = OidcClient(fed, "rp-sans-pkce")
    req = client.request()
    browser = Browser()
    page = sign_in_at_source(browser, client.start(browser, req), citizen, client.redirect_uri)
    assert client.returned(page), page.url
    return client, req, query_of(page)["code"]


def _redeem(client: OidcClient, code: str, verifier: str) -> requests.Response:
    return requests.post(f"{client.proxy}/oidc/token", auth=(client.client_id, client.secret),
                         timeout=10, data={"grant_type": "authorization_code", "code": code,
                                           "redirect_uri": client.redirect_uri,
                                           "code_verifier": verifier})


def test_a_10_kb_verifier_is_refused_at_the_token_endpoint(ifed, log):
    client, _, code = _code(ifed, CITIZENS[4])
    verifier = "v" * TEN_KB

    token = _redeem(client, code, verifier)

    assert token.status_code == 400 and token.json()["error"] == "invalid_request"
    assert "id_token" not in token.text and "access_token" not in token.text
    log.check(verifier, personal=(code,))


def test_a_verifier_of_wrong_charset_is_refused_and_burns_the_code(ifed, log):
    client, req, code = _code(ifed, CITIZENS[4])
    verifier = "é+/" * 20

    token = _redeem(client, code, verifier)

    assert token.status_code == 400 and token.json()["error"] == "invalid_grant"
    assert "id_token" not in token.text
    assert _redeem(client, code, req.verifier).json()["error"] == "invalid_grant"
    log.check(verifier, personal=(code,))


# -- 4. What identity sources state as their level ---------------------------------------------


@contextmanager
def id_token_bent(fed: Federation, header: dict[str, Any] | None = None,
                  **claims: Any) -> Iterator[None]:
    """``src-op``'s ID tokens state ``claims`` (any JSON value: pyop only writes strings),
    re-signed with the source's own key; with ``header``, that header instead (unsigned)."""
    op = fed.apps["src-op"]
    issue = op.token

    def token(request):
        resp = issue(request)
        body = json.loads(resp.get_data(as_text=True))
        if "id_token" in body:
            head, payload, signature = body["id_token"].split(".")
            stated = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
            stated.update(claims)
            body["id_token"] = JWS(json.dumps(stated), alg="RS256").sign_compact(
                [op.provider.signing_key])
            if header is not None:
                head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=")
                body["id_token"] = ".".join([head.decode(), payload, signature])
            resp.set_data(json.dumps(body))
        return resp

    op.route(["POST"], "/token", token)
    try:
        yield
    finally:
        op.route(["POST"], "/token", issue)


def _login(fed: Federation, service: str) -> requests.Response:
    """A citizen's whole login at the demo ``service``: the page the browser ends on."""
    return login(Browser(), fed.url(service), CITIZENS[0])


@pytest.mark.parametrize("acr", [
    [SUBSTANTIAL, LOW], [SUBSTANTIAL], 2, 2.0, True, {"value": SUBSTANTIAL}],
    ids=["list", "list-of-one", "number", "float", "boolean", "object"])
def test_an_acr_that_is_not_a_string_ends_on_niveau_insuffisant(ifed, log, acr):
    with id_token_bent(ifed, acr=acr):
        page = _login(ifed, "rp-op")

    _our_page(page, "niveau_insuffisant", 403)
    assert f"src-op: the answer states level <{type(acr).__name__}>" in _stopped(log)["detail"]
    log.check()


def test_a_10_kb_acr_ends_on_niveau_insuffisant_quoting_a_bounded_prefix(ifed, log):
    acr = "urn:x:" + "L" * TEN_KB
    with id_token_bent(ifed, acr=acr):
        page = _login(ifed, "rp-op")

    _our_page(page, "niveau_insuffisant", 403)
    assert f"'{acr[:40]}" in _stopped(log)["detail"]
    log.check(acr)


def test_a_unicode_acr_ends_on_niveau_insuffisant_quoted_in_ascii(ifed, log):
    acr = SUBSTANTIAL.replace("substantial", "substantiаl\u202e\u2028")  # Cyrillic а
    with id_token_bent(ifed, acr=acr):
        page = _login(ifed, "rp-op")

    _our_page(page, "niveau_insuffisant", 403)
    detail = _stopped(log)["detail"]
    assert ascii(acr) in detail
    assert "\u202e" not in detail and "а" not in detail, "no raw right-to-left override"
    log.check()


def test_a_10_kb_id_token_alg_ends_on_our_page_quoting_a_bounded_prefix(ifed, log):
    alg = "X" * TEN_KB
    with id_token_bent(ifed, header={"alg": alg, "kid": "k"}):
        page = _login(ifed, "rp-op")

    _our_page(page, "reponse_source_invalide")
    assert "src-op: id_token: alg 'XXXX" in _stopped(log)["detail"]
    log.check(alg)


@pytest.fixture
def class_refs(ifed, monkeypatch) -> Iterator[Callable[..., None]]:
    """``states(*refs)``: ``src-idp``'s assertions state these ``AuthnContextClassRef``, as
    many as given, each as given ("" an empty element). pysaml2 builds one from a string:
    the test IdP (in this process) is given a tuple, which this builder expands."""
    idp = ifed.apps["src-idp"]
    build_one = saml2.assertion._authn_context_class_ref

    def build(authn_class, authn_auth=None):
        if not isinstance(authn_class, tuple):
            return build_one(authn_class, authn_auth)
        return saml.AuthnContext(
            authn_context_class_ref=[saml.AuthnContextClassRef(text=r) for r in authn_class],
            authenticating_authority=saml.AuthenticatingAuthority(text=authn_auth))

    def states(*refs: str) -> None:
        idp.class_ref = refs

    monkeypatch.setattr(saml2.assertion, "_authn_context_class_ref", build)
    kept = idp.class_ref
    yield states
    idp.class_ref = kept


@pytest.mark.parametrize("refs", [
    pytest.param((LOW, "urn:x:inconnu"), id="valid-first"),
    pytest.param(("urn:x:inconnu", LOW), id="valid-last")])
def test_two_authn_context_class_refs_end_on_our_page(ifed, log, class_refs, refs):
    class_refs(*refs)

    page = _login(ifed, "rp-idp")

    assert error_code_of(page) in ("niveau_insuffisant", "reponse_source_invalide")
    assert page.status_code in (400, 403) and "Location" not in page.headers
    log.check()


def test_an_empty_authn_context_class_ref_ends_on_niveau_insuffisant(ifed, log, class_refs):
    class_refs("")

    page = _login(ifed, "rp-idp")

    _our_page(page, "niveau_insuffisant", 403)
    assert "states no level" in _stopped(log)["detail"]
    log.check()


def test_a_10_kb_authn_context_class_ref_ends_on_niveau_insuffisant_quoting_a_prefix(
        ifed, log, class_refs):
    ref = "urn:x:" + "C" * TEN_KB
    class_refs(ref)

    page = _login(ifed, "rp-idp")

    _our_page(page, "niveau_insuffisant", 403)
    assert f"'{ref[:40]}" in _stopped(log)["detail"]
    log.check(ref)


def _at_saml_source(fed: Federation, service: str) -> tuple[Browser, str, str, str]:
    """A login of the browser stopped where the proxy sends it to ``src-idp``: (browser, the
    proxy's ACS, the AuthnRequest's ID, its RelayState) — all a forger needs to answer it."""
    browser = Browser()
    to_source = browser.follow(browser.get(f"{fed.url(service)}/login", follow=False),
                               stop_at=fed.url("src-idp"))
    query = {k: v[0] for k, v in parse_qs(urlsplit(to_source.headers["Location"]).query).items()}
    request = authn_request_from_string(redirect_message_xml(query["SAMLRequest"]))
    return browser, request.assertion_consumer_service_url, request.id, query["RelayState"]


def _forged_answer(fed: Federation, service: str, inside: str) -> requests.Response:
    """An unsigned Response posted to the proxy's ACS for the browser's own login, carrying
    ``inside`` after its Issuer."""
    browser, acs, request_id, relay_state = _at_saml_source(fed, service)
    xml = (f'<samlp:Response xmlns:samlp="{PROTOCOL}" xmlns:saml="{ASSERTION}" '
           f'xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="_{secrets.token_hex(16)}" '
           f'Version="2.0" IssueInstant="{instant()}" Destination="{acs}" '
           f'InResponseTo="{request_id}"><saml:Issuer>{fed.url("src-idp")}/metadata'
           f'</saml:Issuer>{inside}</samlp:Response>')
    return browser.post_form_data(acs, {"SAMLResponse": base64.b64encode(xml.encode()).decode(),
                                        "RelayState": relay_state})


def test_a_10_kb_error_status_ends_on_our_page_quoting_a_bounded_prefix(ifed, log):
    status = "urn:x:" + "S" * TEN_KB

    page = _forged_answer(ifed, "rp-idp", f'<samlp:Status><samlp:StatusCode Value="{status}"/>'
                                          "</samlp:Status>")

    _our_page(page, "reponse_source_invalide")
    log.check(status)


def test_a_10_kb_signature_algorithm_ends_on_our_page_quoting_a_bounded_prefix(ifed, log):
    algorithm = "urn:x:" + "G" * TEN_KB

    page = _forged_answer(ifed, "rp-idp", (
        f'<ds:Signature><ds:SignedInfo><ds:SignatureMethod Algorithm="{algorithm}"/>'
        "</ds:SignedInfo></ds:Signature><samlp:Status><samlp:StatusCode "
        'Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'))

    _our_page(page, "reponse_source_invalide")
    log.check(algorithm)
