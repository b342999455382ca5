"""Enrolment links: printed by ``ncconnect admin add``, used once, only at level substantial."""

from __future__ import annotations

import time
from urllib.parse import parse_qs, urlsplit

from idp import loa
from idp.demo.citizens import CITIZENS
from idp.testbed.browser import Browser, error_code_of
from idp.testbed.login import sign_in
from plugins.frontends.admin import enrolment
from plugins.frontends.admin.roles import Roles

from .steps import (
    HOME,
    account_key,
    ncconnect,
    on_home,
    open_portal,
    refusal_of,
    role_shown,
    to_source,
)


def _link(portal, role: str, *extra: str) -> str:
    done = ncconnect("admin", "add", "--role", role, "--config", str(portal.fed.config), *extra)
    assert done.returncode == 0, done.stderr
    link = done.stdout.strip()
    assert link.startswith(f"{portal.url}/admin/inscription?jeton="), link
    return link


def test_the_cli_link_binds_the_role_once_and_its_second_use_is_refused(portal):
    link = _link(portal, "admin")
    token = parse_qs(urlsplit(link).query)["jeton"][0]
    key = enrolment.invitation_key(token)
    assert portal.store.get(enrolment.NAMESPACE, key) is not None
    assert token not in str(portal.store.get(enrolment.NAMESPACE, key))

    # A second browser opens the link too, and reaches the source before the first is done.
    late = Browser()
    late_form = to_source(late, late.get(link))

    first = Browser()
    page = open_portal(first, link, CITIZENS[0])
    assert on_home(page) and role_shown(page) == "admin"
    [holder] = Roles(portal.store, 395).roles_of(account_key(portal.store, first))
    assert holder.role == "admin"
    assert portal.store.get(enrolment.NAMESPACE, key) is None  # taken

    # The late browser's sign-in ends on "used or expired"; nothing is bound to its citizen.
    refused = sign_in(late, late_form, CITIZENS[1])
    assert refused.status_code == 410 and refusal_of(refused) == "lien_invalide"
    assert "nouveau lien" in refused.text
    # Opening the link again: refused at once, without a sign-in.
    again = Browser().get(link)
    assert again.status_code == 410 and refusal_of(again) == "lien_invalide"
    granted = [line for line in portal.fed.audit_lines() if line["event"] == "role_granted"
               and line.get("invitation") == enrolment.reference(key)]
    assert len(granted) == 1 and granted[0]["role"] == "admin"
    assert granted[0]["citizen"] == holder.account and token not in str(granted)


def test_an_expired_link_is_refused(portal):
    invitation = enrolment.invite(portal.store, "dpo", 1)  # the command's code path, 1 s
    time.sleep(1.5)
    page = Browser().get(invitation.link(portal.url))
    assert page.status_code == 410 and refusal_of(page) == "lien_invalide"
    assert "utilisé ou expiré" in page.text


def test_a_sign_in_at_level_low_is_refused_and_keeps_the_invitation(portal):
    invitation = enrolment.invite(portal.store, "dpo", 3600)
    source = portal.fed.apps["src-op"]
    source.acr = loa.URIS[loa.LOW]  # the OIDC test source now vouches for low only
    try:
        browser = Browser()
        page = open_portal(browser, invitation.link(portal.url), CITIZENS[2])
    finally:
        source.acr = loa.URIS[loa.SUBSTANTIAL]
    assert page.status_code == 403 and error_code_of(page) == "niveau_insuffisant"
    assert "Niveau de sécurité non atteint" in page.text
    assert enrolment.pending(portal.store, invitation.key)
    assert not [c for c in browser.session.cookies if c.name.endswith("ncc_admin")]
    # The same link, with an account at the right level: it still works.
    retry = Browser()
    page = open_portal(retry, invitation.link(portal.url), CITIZENS[2])
    assert on_home(page) and role_shown(page) == "dpo"


def test_only_sources_reaching_substantial_are_offered(portal):
    page = Browser().get(f"{portal.url}{HOME}")
    # src-idp (low) is not offered: the single source reaching the level is used at once.
    assert urlsplit(page.url).netloc == urlsplit(portal.fed.url("src-op")).netloc


def test_a_malformed_or_repeated_token_is_refused_without_error(portal):
    browser = Browser()
    for query in ("jeton=abc", "jeton=" + "A" * 43, "", "jeton=%ff%fe",
                  "jeton=" + "A" * 43 + "&jeton=" + "B" * 43):
        page = browser.get(f"{portal.url}/{enrolment.PATH}?{query}")
        assert page.status_code in (404, 410), (query, page.status_code)
        assert refusal_of(page) == "lien_invalide"
