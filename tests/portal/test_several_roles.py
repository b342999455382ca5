"""A person holding several roles, and revoking one: from the console, from the command line.

Roles are store items keyed ``<account key>:<role>``; an administrator can also be a partner
organisation's member; one organisation per person; a revoked role closes the portal at the
holder's next page. Real proxy (two workers), real store, real command line.
"""

from __future__ import annotations

import hashlib
import time
from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from idp.csrf import csrf_secrets, csrf_token
from idp.demo.citizens import CITIZENS
from idp.keys import KeyPaths
from idp.testbed.browser import Browser, error_code_of
from plugins.frontends.admin import enrolment
from plugins.frontends.admin.frontend import PARTNER_COOKIE_NAME, REVOKE_FORM, SESSION_NAMESPACE
from plugins.frontends.admin.roles import NAMESPACE, OWNER, Roles, row_reference

from .steps import HOME, account_key, ncconnect, on_home, open_portal, portal_cookie, refusal_of

PARTNER_HOME = "/partenaires/"
REVOKE_FORM_SELECTOR = "form.retirer-role"


def _enrol(portal, browser: Browser, citizen, role: str,
           organisation: str | None = None) -> str:
    """``citizen`` opens an enrolment link to ``role`` in ``browser``: the path it lands on."""
    invitation = enrolment.invite(portal.store, role, 600, organisation)
    page = open_portal(browser, invitation.link(portal.url), citizen)
    assert page.status_code == 200, (page.status_code, refusal_of(page))
    return urlsplit(page.url).path


def _admin(portal, citizen) -> Browser:
    browser = Browser()
    assert _enrol(portal, browser, citizen, "admin") == HOME
    return browser


def _partner(portal, citizen, organisation: str) -> Browser:
    browser = Browser()
    assert _enrol(portal, browser, citizen, "partner", organisation) == PARTNER_HOME
    return browser


def _partner_key(portal, browser: Browser) -> str:
    """The account key of the partner-space session of ``browser`` (its own cookie)."""
    [value] = [c.value for c in browser.session.cookies
               if c.name == f"__Secure-{PARTNER_COOKIE_NAME}" and c.value]
    record = portal.store.get(SESSION_NAMESPACE, hashlib.sha256(value.encode()).hexdigest())
    assert record is not None, "no partner session in the store"
    return record["citizen"]


def _held(portal, key: str) -> list[tuple[str, str | None]]:
    return [(h.role, h.organisation) for h in Roles(portal.store, 395).roles_of(key)]


def _row_form(page, item: str) -> tuple[str, dict[str, str]]:
    """(action, fields) of the "Retirer ce rôle" form of the row showing the store ``item``."""
    row = BeautifulSoup(page.text, "html.parser").select_one(
        f"#table-roles tr[data-reference='{row_reference(item)}']")
    assert row is not None, f"no row for {item[:8]}"
    form = row.select_one(REVOKE_FORM_SELECTOR)
    assert form is not None, "the row has no revocation form"
    return form["action"], {i["name"]: i["value"] for i in form.select("input[type=hidden]")}


def _post(browser: Browser, action: str, data: dict, portal) -> object:
    return browser.session.post(action, data=data, allow_redirects=False,
                                headers={"Sec-Fetch-Site": "same-origin", "Origin": portal.url})


def _audit(portal, event: str) -> list[dict]:
    return [line for line in portal.fed.audit_lines() if line["event"] == event]


def test_an_administrator_who_is_also_a_partner_member_enters_both_spaces(portal):
    browser = Browser()
    assert _enrol(portal, browser, CITIZENS[0], "admin") == HOME
    assert _enrol(portal, browser, CITIZENS[0], "partner", "commune-deux") == PARTNER_HOME
    key = account_key(portal.store, browser)
    assert _held(portal, key) == [("admin", None), ("partner", "commune-deux")]
    assert set(portal.store.items(NAMESPACE, OWNER)) == {f"{key}:admin", f"{key}:partner"}

    home = browser.get(f"{portal.url}{HOME}")
    assert on_home(home)
    soup = BeautifulSoup(home.text, "html.parser")
    assert soup.select_one("#role")["data-role"] == "admin"
    assert "commune-deux" in soup.select_one("#autres-roles").get_text()
    assert soup.select_one("#lien-partenaires")["href"] == PARTNER_HOME
    assert len(soup.select("#table-roles tbody tr")) == 2  # one row per role held
    partner_page = browser.get(f"{portal.url}{PARTNER_HOME}")
    assert partner_page.status_code == 200 and urlsplit(partner_page.url).path == PARTNER_HOME


def test_admin_and_dpo_roles_are_held_together_and_the_space_works_as_admin(portal):
    browser = Browser()
    assert _enrol(portal, browser, CITIZENS[1], "dpo") == HOME
    assert _enrol(portal, browser, CITIZENS[1], "admin") == HOME
    key = account_key(portal.store, browser)
    assert _held(portal, key) == [("admin", None), ("dpo", None)]
    home = browser.get(f"{portal.url}{HOME}")
    assert BeautifulSoup(home.text, "html.parser").select_one("#role")["data-role"] == "admin"
    assert browser.get(f"{portal.url}/admin/diffusion").status_code == 200


def test_a_sign_in_renews_every_role_of_the_person(portal):
    browser = Browser()
    _enrol(portal, browser, CITIZENS[2], "dpo")
    _enrol(portal, browser, CITIZENS[2], "partner", "commune-trois")
    key = account_key(portal.store, browser)
    before = {h.role: h.expires_at for h in Roles(portal.store, 395).roles_of(key)}
    renewed_before = len(_audit(portal, "role_renewed"))
    time.sleep(1.1)
    # A fresh sign-in to the partner space only: the dpo role is renewed too.
    page = open_portal(Browser(), f"{portal.url}{PARTNER_HOME}", CITIZENS[2])
    assert page.status_code == 200 and urlsplit(page.url).path == PARTNER_HOME
    after = {h.role: h.expires_at for h in Roles(portal.store, 395).roles_of(key)}
    assert after.keys() == before.keys() and all(after[r] > before[r] for r in before)
    renewed = _audit(portal, "role_renewed")[renewed_before:]
    assert sorted(line["role"] for line in renewed if line["citizen"] == key) == ["dpo",
                                                                                "partner"]


def test_a_second_partner_invitation_replaces_the_first_organisation(portal):
    first = _partner(portal, CITIZENS[3], "commune-une")
    key = _partner_key(portal, first)
    _partner(portal, CITIZENS[3], "commune-autre")
    assert _held(portal, key) == [("partner", "commune-autre")]
    granted = _audit(portal, "role_granted")[-1]
    assert granted["organisation"] == "commune-autre"
    assert granted["replaced_organisation"] == "commune-une"
    # The first organisation's space is gone with it: the open session now works for the other.
    page = first.get(f"{portal.url}{PARTNER_HOME}")
    assert page.status_code == 200 and "commune-autre" in page.text
    assert "commune-une" not in page.text


def test_an_administrator_revokes_a_partner_role_and_the_partner_next_page_is_refused(portal):
    admin = _admin(portal, CITIZENS[0])
    member = _partner(portal, CITIZENS[4], "commune-quatre")
    member_key = _partner_key(portal, member)
    assert member.get(f"{portal.url}{PARTNER_HOME}").status_code == 200

    home = admin.get(f"{portal.url}{HOME}")
    assert "Retirer ce rôle" in home.text and member_key not in home.text
    action, data = _row_form(home, f"{member_key}:partner")
    done = _post(admin, action, data, portal)
    assert done.status_code == 303 and done.headers["Location"].endswith("/admin/#roles")

    assert _held(portal, member_key) == []
    refused = member.get(f"{portal.url}{PARTNER_HOME}")
    assert refused.status_code == 403 and refusal_of(refused) == "sans_role_partenaire"
    revoked = _audit(portal, "role_revoked")[-1]
    assert (revoked["role"], revoked["holder"], revoked["organisation"], revoked["via"]) == (
        "partner", member_key[:8], "commune-quatre", "console")
    assert member_key not in str(revoked)
    # The row is gone; the administrator is still signed in.
    again = admin.get(f"{portal.url}{HOME}")
    assert on_home(again)
    assert not BeautifulSoup(again.text, "html.parser").select(
        f"tr[data-reference='{row_reference(member_key + ':partner')}']")


def test_revoking_one_role_leaves_the_persons_other_roles(portal):
    admin = _admin(portal, CITIZENS[0])
    both = Browser()
    _enrol(portal, both, CITIZENS[1], "dpo")
    _enrol(portal, both, CITIZENS[1], "partner", "commune-cinq")
    key = account_key(portal.store, both)
    action, data = _row_form(admin.get(f"{portal.url}{HOME}"), f"{key}:partner")
    assert _post(admin, action, data, portal).status_code == 303
    assert _held(portal, key) == [("dpo", None)]
    assert on_home(both.get(f"{portal.url}{HOME}"))
    assert both.get(f"{portal.url}{PARTNER_HOME}").status_code == 403


def test_a_revoke_post_without_the_rows_token_is_refused(portal):
    admin = _admin(portal, CITIZENS[0])
    partner_key = _partner_key(portal, _partner(portal, CITIZENS[2], "commune-six"))
    dpo = Browser()
    _enrol(portal, dpo, CITIZENS[3], "dpo")
    dpo_key = account_key(portal.store, dpo)
    home = admin.get(f"{portal.url}{HOME}")
    action, data = _row_form(home, f"{partner_key}:partner")
    _, other = _row_form(home, f"{dpo_key}:dpo")
    for forged in ({"role": data["role"]}, {**data, "csrf": "0" * 64},
                   {**data, "csrf": other["csrf"]},  # another row's token
                   {**data, "role": "x" * 32}, {"csrf": data["csrf"]}):
        refused = _post(admin, action, forged, portal)
        assert refused.status_code == 403, forged
        assert error_code_of(refused) == "compte_formulaire_invalide"
    assert _held(portal, partner_key) == [("partner", "commune-six")]
    assert on_home(admin.get(f"{portal.url}{HOME}"))


def test_a_revoke_post_from_a_partner_or_dpo_session_is_refused(portal):
    admin = _admin(portal, CITIZENS[0])
    partner = _partner(portal, CITIZENS[2], "commune-sept")
    dpo = Browser()
    _enrol(portal, dpo, CITIZENS[3], "dpo")
    dpo_key = account_key(portal.store, dpo)
    action, data = _row_form(admin.get(f"{portal.url}{HOME}"), f"{dpo_key}:dpo")
    # The partner's browser has no /admin/ session: its cookie is for /partenaires/ only.
    refused = _post(partner, action, data, portal)
    assert refused.status_code == 403 and error_code_of(refused) == \
        "compte_formulaire_invalide"
    # A dpo's session with a token of its own session: the role is not enough.
    secrets = csrf_secrets(KeyPaths(portal.fed.folder / "data" / "keys").csrf_secret)
    own = csrf_token(secrets, portal_cookie(dpo), REVOKE_FORM.format(data["role"]))
    refused = _post(dpo, action, {**data, "csrf": own}, portal)
    assert refused.status_code == 403 and refusal_of(refused) == "sans_role"
    assert _held(portal, dpo_key) == [("dpo", None)]


def test_an_administrator_cannot_revoke_their_own_admin_role_from_the_console(portal):
    admin = _admin(portal, CITIZENS[4])
    key = account_key(portal.store, admin)
    home = admin.get(f"{portal.url}{HOME}")
    row = BeautifulSoup(home.text, "html.parser").select_one(
        f"#table-roles tr[data-reference='{row_reference(f'{key}:admin')}']")
    assert row is not None and row.select_one(REVOKE_FORM_SELECTOR) is None
    # Even with a valid token for that row (as the proxy would compute it): refused.
    secrets = csrf_secrets(KeyPaths(portal.fed.folder / "data" / "keys").csrf_secret)
    reference = row_reference(f"{key}:admin")
    token = csrf_token(secrets, portal_cookie(admin), REVOKE_FORM.format(reference))
    refused = _post(admin, f"{portal.url}/admin/roles/retirer",
                    {"csrf": token, "role": reference}, portal)
    assert refused.status_code == 403 and refusal_of(refused) == "role_propre"
    assert _held(portal, key) == [("admin", None)]


def test_admin_revoke_on_the_command_line_takes_one_role_away(portal):
    browser = Browser()
    _enrol(portal, browser, CITIZENS[1], "admin")
    _enrol(portal, browser, CITIZENS[1], "partner", "commune-huit")
    key = account_key(portal.store, browser)
    config = ("--config", str(portal.fed.config))

    listed = ncconnect("admin", "list", *config)
    assert listed.returncode == 0
    assert [line.split()[1] for line in listed.stdout.splitlines() if key in line] == [
        "admin", "partner"]

    wrong = ncconnect("admin", "revoke", key, "--role", "partner", "--organisation",
                      "commune-autre", *config)
    assert wrong.returncode == 2 and "nothing revoked" in wrong.stderr
    absent = ncconnect("admin", "revoke", key, "--role", "dpo", *config)
    assert absent.returncode == 2 and "holds no current role dpo" in absent.stderr

    done = ncconnect("admin", "revoke", key, "--role", "admin", *config)
    assert done.returncode == 0, done.stderr
    assert _held(portal, key) == [("partner", "commune-huit")]
    page = browser.get(f"{portal.url}{HOME}")
    assert page.status_code == 403 and refusal_of(page) == "sans_role"
    assert browser.get(f"{portal.url}{PARTNER_HOME}").status_code == 200
    revoked = _audit(portal, "role_revoked")[-1]
    assert (revoked["role"], revoked["holder"], revoked["via"]) == ("admin", key[:8],
                                                                    "command")


def test_an_item_of_the_single_role_format_is_still_read_and_moved_at_the_next_sign_in(
        portal):
    browser = Browser()
    _enrol(portal, browser, CITIZENS[2], "dpo")
    key = account_key(portal.store, browser)
    # What the previous version wrote: keyed by the bare account key, no "account" field.
    record = portal.store.items(NAMESPACE, OWNER)[f"{key}:dpo"]
    portal.store.delete_item(NAMESPACE, OWNER, f"{key}:dpo")
    legacy = {k: v for k, v in record.items() if k != "account"}
    portal.store.put_item(NAMESPACE, OWNER, key, legacy, 3600)

    assert _held(portal, key) == [("dpo", None)]
    assert on_home(browser.get(f"{portal.url}{HOME}"))  # the open session keeps working
    listed = ncconnect("admin", "list", "--config", str(portal.fed.config))
    assert key in listed.stdout and "dpo" in listed.stdout

    assert on_home(open_portal(Browser(), f"{portal.url}{HOME}", CITIZENS[2]))
    items = portal.store.items(NAMESPACE, OWNER)
    assert key not in items and items[f"{key}:dpo"]["granted_at"] == record["granted_at"]
    assert _held(portal, key) == [("dpo", None)]
