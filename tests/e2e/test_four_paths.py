"""A citizen goes from a service to an identity source and back, on the four protocol paths.

Each service is a real peer (an OIDC relying party verifying the ID token with the proxy's
JWKS, or a pysaml2 SP verifying the signed assertion); each source a real pyop OP or pysaml2
IdP. The proxy is ``ncconnect serve`` under gunicorn with three workers and Redis.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import login

OIDC_EXPECTED = {"sub", "given_name", "family_name", "birthdate"}
SAML_EXPECTED = {"nameid", "urn:oid:2.5.4.42", "urn:oid:2.5.4.4", "urn:oid:1.3.6.1.5.5.7.9.1"}


def test_oidc_service_through_oidc_source_gets_exactly_its_claims(fed, citizen):
    attrs = attributes_of(login(Browser(), fed.url("rp-op"), citizen))
    assert set(attrs) == OIDC_EXPECTED
    assert attrs["given_name"] == citizen.claims["given_name"]
    assert attrs["family_name"] == citizen.claims["family_name"]
    assert attrs["birthdate"] == citizen.claims["birthdate"]


def test_oidc_service_through_saml_source_gets_exactly_its_claims(fed, citizen):
    attrs = attributes_of(login(Browser(), fed.url("rp-idp"), citizen))
    assert set(attrs) == OIDC_EXPECTED
    assert attrs["family_name"] == citizen.claims["family_name"]
    assert attrs["birthdate"] == citizen.claims["birthdate"]


def test_saml_service_through_oidc_source_gets_exactly_its_attributes(fed, citizen):
    attrs = attributes_of(login(Browser(), fed.url("sp-op"), citizen))
    assert set(attrs) == SAML_EXPECTED
    assert attrs["urn:oid:2.5.4.42"] == citizen.claims["given_name"]
    assert attrs["urn:oid:1.3.6.1.5.5.7.9.1"] == citizen.claims["birthdate"]


def test_saml_service_through_saml_source_gets_exactly_its_attributes(fed, citizen):
    attrs = attributes_of(login(Browser(), fed.url("sp-idp"), citizen))
    assert set(attrs) == SAML_EXPECTED
    assert attrs["urn:oid:2.5.4.4"] == citizen.claims["family_name"]


def test_pairwise_subject_is_stable_for_one_service_and_differs_between_services(fed, citizen):
    first = attributes_of(login(Browser(), fed.url("rp-op"), citizen))["sub"]
    again = attributes_of(login(Browser(), fed.url("rp-op"), citizen))["sub"]
    other = attributes_of(login(Browser(), fed.url("rp-choix"), citizen, source="src-op"))["sub"]
    assert first == again
    assert first != other


def test_concurrent_logins_on_three_workers_all_succeed(fed):
    """Twenty-four logins from eight browsers at once: every step may land on any worker."""
    services = ["rp-op", "rp-idp", "sp-op", "sp-idp"]

    def run(i: int) -> bool:
        citizen = CITIZENS[i % len(CITIZENS)]
        attrs = attributes_of(login(Browser(), fed.url(services[i % 4]), citizen))
        name = attrs.get("given_name") or attrs.get("urn:oid:2.5.4.42")
        return name == citizen.claims["given_name"]

    mark = fed.access_log_mark()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(run, range(24)))
    assert all(results)
    assert len(fed.worker_pids_seen(since=mark)) >= 2, "all requests landed on one worker"
