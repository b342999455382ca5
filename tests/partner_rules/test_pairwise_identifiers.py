"""Pairwise identifiers through the protocols: stable per service, the same whichever source
gives the same identity pivot, shared within a declared sector, and surviving a restart."""

from __future__ import annotations

from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, attributes_of
from idp.testbed.login import login


def sub_at(fed, service: str, citizen, source: str | None = None) -> str:
    attrs = attributes_of(login(Browser(), fed.url(service), citizen, source=source))
    return attrs.get("sub") or attrs["nameid"]


def test_the_same_citizen_gets_the_same_id_at_a_service_across_logins(fed, citizen):
    assert sub_at(fed, "rp-autre", citizen) == sub_at(fed, "rp-autre", citizen)


def test_two_sources_returning_the_same_pivot_give_the_same_id(fed, citizen):
    via_oidc = sub_at(fed, "rp-deux-sources", citizen, source="src-op")
    via_saml = sub_at(fed, "rp-deux-sources", citizen, source="src-idp")
    assert via_oidc == via_saml


def test_two_services_get_two_unlinkable_ids(fed, citizen):
    assert sub_at(fed, "rp-autre", citizen) != sub_at(fed, "rp-deux-sources", citizen, "src-op")


def test_services_of_one_sector_share_the_id_across_protocols(fed, citizen):
    oidc = sub_at(fed, "rp-sante-a", citizen, source="src-op")
    saml = sub_at(fed, "sp-sante-b", citizen, source="src-idp")
    assert oidc == saml
    assert oidc != sub_at(fed, "rp-autre", citizen)


def test_two_citizens_get_two_ids(fed):
    assert sub_at(fed, "rp-autre", CITIZENS[0]) != sub_at(fed, "rp-autre", CITIZENS[1])


def test_the_id_survives_a_restart_of_the_proxy_processes(fed, citizen):
    before = sub_at(fed, "rp-sante-a", citizen, source="src-op")
    old_pids = set(fed.proxy.worker_pids())
    fed.proxy.stop()
    fed.start_proxy(workers=2)
    assert not old_pids & set(fed.proxy.worker_pids())
    assert sub_at(fed, "rp-sante-a", citizen, source="src-idp") == before
