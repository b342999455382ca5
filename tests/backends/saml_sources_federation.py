"""A federation whose SAML identity sources behave like real-world IdPs, on a real redis-server.

``ncconnect serve`` under gunicorn, configured from partner files exactly as in production,
and demo IdPs (:class:`idp.demo.saml_idp.DemoIdP`) each set up like one kind of real source:

* ``src-chiffre``: encrypts its assertions (AES-256-GCM, RSA-OAEP) to our SP's key;
* ``src-transient``: transient NameIDs, registered ``saml2.name_id: transient``; one of its
  citizens (:data:`INCOMPLETE`) comes without the whole identity pivot;
* ``src-ephemere``: transient NameIDs too, but registered as persistent (the default);
* ``src-mdp``: states SAML's ``PasswordProtectedTransport``, which its partner file maps to
  *substantial* (``loa_mapping``);
* ``src-reponse``, ``src-reponse-chiffre``: sign only the Response (Shibboleth IdP, Keycloak),
  the second over an encrypted assertion, registered ``saml2.signature: response``;
* ``src-reponse-defaut``: signs only the Response, registered with the default (assertion);

each with one OIDC demo service of its own (``rp-<source>``; ``rp-mdp`` requires
*substantial*).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from saml2.saml import NAMEID_FORMAT_TRANSIENT

from idp.demo.citizens import CITIZENS, FRANCE, Citizen
from idp.demo.saml_idp_encryption import AES256_GCM
from idp.sso.session import COOKIE
from idp.stores import Store
from idp.testbed.browser import Browser
from idp.testbed.federation import Federation, add_saml_source, build_federation
from idp.testbed.records import session_record as opened_session

PASSWORD_PROTECTED = "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
NAMES = ["given_name", "family_name", "birthdate"]

#: No gender, and a birth place that is not a COG code (dropped by normalisation).
INCOMPLETE = Citizen(username="ines.sans-pivot", password="demo", claims={
    "given_name": "Inès", "family_name": "Wahetra", "birthdate": "1994-03-09",
    "birthplace": "Lifou", "birthcountry": FRANCE, "email": "ines@example.nc"})

SERVICES: dict[str, tuple] = {
    "rp-chiffre": ("oidc", ["src-chiffre"], NAMES),
    "rp-transient": ("oidc", ["src-transient"], NAMES),
    "rp-ephemere": ("oidc", ["src-ephemere"], NAMES),
    "rp-mdp": ("oidc", ["src-mdp"], NAMES, {"loa_min": "substantial"}),
    "rp-reponse": ("oidc", ["src-reponse"], NAMES),
    "rp-reponse-chiffre": ("oidc", ["src-reponse-chiffre"], NAMES),
    "rp-reponse-defaut": ("oidc", ["src-reponse-defaut"], NAMES),
}
RESPONSE_SIGNED = {"saml2": {"signature": "response"}}


@contextmanager
def saml_sources_federation(folder: Path, store_url: str) -> Iterator[Federation]:
    fed = build_federation(folder, SERVICES)
    try:
        add_saml_source(fed, "src-chiffre", encryption=AES256_GCM)
        add_saml_source(fed, "src-transient", partner={"saml2": {"name_id": "transient"}},
                        citizens=[*CITIZENS, INCOMPLETE], name_id_format=NAMEID_FORMAT_TRANSIENT)
        add_saml_source(fed, "src-ephemere", name_id_format=NAMEID_FORMAT_TRANSIENT)
        add_saml_source(fed, "src-mdp", loa="substantial", class_ref=PASSWORD_PROTECTED,
                        partner={"loa_mapping": {"values": {PASSWORD_PROTECTED: "substantial"}}})
        add_saml_source(fed, "src-reponse", partner=RESPONSE_SIGNED, sign_assertion=False)
        add_saml_source(fed, "src-reponse-chiffre", partner=RESPONSE_SIGNED,
                        sign_assertion=False, encryption=AES256_GCM)
        add_saml_source(fed, "src-reponse-defaut", sign_assertion=False)
        fed.start_proxy(workers=2, store=store_url)
        yield fed
    finally:
        fed.stop()


def proxy_log(fed: Federation) -> str:
    return (fed.folder / "proxy.log").read_text(encoding="utf-8")


def session_record(store: Store, browser: Browser) -> dict | None:
    """The SSO session record of the browser's ``ncc_session`` cookie."""
    values = [c.value for c in browser.session.cookies if c.name == COOKIE and c.value]
    return opened_session(store, values[-1]) if values else None
