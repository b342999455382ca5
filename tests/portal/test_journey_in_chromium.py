"""The whole partner journey of issue 16, in Debian Chromium, axe on every page:

an administrator invites a partner; the partner signs in through NC Connect, submits a request
with one mistake, sees the message next to the field, fixes it, submits; the administrator
requests a change, the partner makes it; the administrator approves; the file appears in
``partenaires/``, the proxy reloads, and a real test RP logs in with the secret shown once;
the partner regenerates the secret and both work during the overlap, then only the new one.

The overlap is set to 36 seconds here (``portal.secret_overlap_hours: 0.01``) so the test sees
it end. Screenshots go to artefacts/screenshots/<test>/ (the README's come from there).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from urllib.parse import urlencode

import pytest
import yaml
from bs4 import BeautifulSoup

from idp.demo.citizens import CITIZENS
from idp.demo.rp import make_demo_rp
from idp.testbed.axe import assert_no_serious_violation, run_axe
from idp.testbed.browser import Browser, attributes_of, error_code_of
from idp.testbed.chromium import ARTEFACTS, Screenshots, new_context
from idp.testbed.federation import DEFAULT_SERVICES
from idp.testbed.login import login
from idp.testbed.servers import free_port
from plugins.frontends.admin import enrolment

from .conftest import Portal, portal_federation
from .steps import eventually, fill_request_in_chromium, png_image

ADMIN, MEMBER, USAGER = CITIZENS[0], CITIZENS[1], CITIZENS[4]
OVERLAP_HOURS = 0.01
SERVICE_ID = "dumbea-inscriptions-scolaires"
LOGO = png_image(16, 16)


@pytest.fixture(scope="module")
def fed(tmp_path_factory) -> Iterator[Portal]:
    with portal_federation(tmp_path_factory.mktemp("parcours"),
                           {"rp-op": DEFAULT_SERVICES["rp-op"]},
                           {"secret_overlap_hours": OVERLAP_HOURS}) as found:
        yield found



class Screen:
    """One person's Chromium window: each page they reach is checked with axe and, when
    named, photographed."""

    def __init__(self, chromium_browser, shots: Screenshots, who: str) -> None:
        self.context = new_context(chromium_browser, bypass_csp=True)
        self.page = self.context.new_page()
        self.page.set_viewport_size({"width": 1280, "height": 800})
        self.shots, self.who, self.checked = shots, who, 0

    def check(self, screen: str | None = None) -> None:
        self.checked += 1
        report = run_axe(self.page)
        report.save(ARTEFACTS / "axe" / f"parcours-{self.who}-{self.checked:02d}.json")
        assert_no_serious_violation(report)
        if screen:
            self.shots.take(self.page, screen)

    def sign_in(self, link: str, citizen, lands: str) -> None:
        self.page.goto(link)
        self.check()
        self.page.get_by_label("Identifiant").fill(citizen.username)
        self.page.get_by_label("Mot de passe").fill(citizen.password)
        self.page.get_by_role("button", name="Se connecter").click()
        self.page.wait_for_url(lands)
        self.check()

    def submit(self, button: str, url: str = "**") -> None:
        self.page.get_by_role("button", name=button).click()
        self.page.wait_for_url(url)
        self.page.wait_for_load_state()

    def text(self, selector: str) -> str:
        return self.page.locator(selector).inner_text().strip()


def logs_in_with(rp, secret: str) -> bool:
    """A real login at the test RP, whose token request authenticates with ``secret``."""
    rp.client_secret = secret
    page = login(Browser(), rp.base_url, USAGER)
    if page.status_code != 200 or BeautifulSoup(page.text, "html.parser").select_one(
            "table#attributs") is None:
        return False
    return attributes_of(page)["family_name"] == USAGER.claims["family_name"]


def test_a_partner_is_invited_asks_is_approved_logs_in_and_rotates_its_secret(
        fed, chromium_browser, request):
    shots = Screenshots(request.node.name)
    partners = fed.fed.folder / "partenaires"
    rp_port = free_port()
    rp_url = f"http://127.0.0.1:{rp_port}"
    admin = Screen(chromium_browser, shots, "admin")
    partner = Screen(chromium_browser, shots, "partenaire")
    try:
        # 1. The administrator (enrolled by 'ncconnect admin add') invites a partner's member.
        admin.sign_in(enrolment.invite(fed.store, "admin", 600).link(fed.url), ADMIN,
                      f"{fed.url}/admin/")
        admin.page.fill("#champ-organisation", "commune-dumbea")
        admin.submit("Créer le lien d'inscription")
        link = admin.text("#lien")
        admin.check("admin-invitation")

        # 2. The partner signs in through NC Connect with the link; the space is theirs.
        partner.sign_in(link, MEMBER, f"{fed.url}/partenaires/")
        partner.page.get_by_role("link", name="Demander le raccordement d'un nouveau "
                                 "service").click()
        partner.page.wait_for_url("**/partenaires/demande")
        partner.check()

        # 3. A request with one mistake: the message is next to the field, the input kept.
        p = partner.page
        fill_request_in_chromium(
            p, "Commune de Dumbéa", "dpo@dumbea.nc", "Dumbéa — inscriptions scolaires",
            "Inscrire vos enfants à l'école et à la cantine.",
            "http://ecoles.dumbea.nc/callback",  # the mistake
            [("family_name", "Inscrire l'enfant au nom de son responsable."),
             ("given_name", "Saluer le responsable légal par son prénom.")], loa="substantial")
        partner.submit("Envoyer la demande")
        assert "must use https" in partner.text("#erreur-redirect_uris")
        assert p.locator("#champ-redirect_uris").get_attribute("aria-invalid") == "true"
        partner.page.locator("#erreur-redirect_uris").scroll_into_view_if_needed()
        partner.check("partenaire-demande-erreur")
        p.fill("#champ-redirect_uris", f"{rp_url}/callback")
        p.set_input_files("#champ-logo", files=[{"name": "dumbea.png", "mimeType": "image/png",
                                                 "buffer": LOGO}])
        partner.submit("Envoyer la demande", "**/partenaires/demandes/*")
        assert p.locator("#statut-demande").get_attribute("data-status") == "submitted"
        partner.check("partenaire-demande-envoyee")
        request_url = p.url

        # 4. The administrator reviews it (the diff, the data it would receive) and asks for
        #    a change, with a message the partner reads.
        admin.page.goto(f"{fed.url}/admin/")
        admin.check("admin-file")
        admin.page.get_by_role("link", name="Dumbéa — inscriptions scolaires").first.click()
        admin.page.wait_for_url("**/admin/demandes/commune-dumbea/*")
        assert admin.page.locator("#table-diff tr[data-field='oidc.redirect_uris']").count() \
            == 1
        admin.check("admin-demande")
        admin.page.fill("#champ-message", "Précisez la délibération qui fonde le service.")
        admin.submit("Demander des modifications")
        assert admin.page.locator("#statut-demande").get_attribute("data-status") == \
            "changes_requested"

        # 5. The partner makes the change and submits again.
        p.goto(request_url)
        assert "Précisez la délibération" in partner.text("#message-admin")
        partner.check("partenaire-modifications-demandees")
        p.fill("#champ-legal_reference", "Délibération n° 2024-12 du 3 mars 2024")
        partner.submit("Envoyer la demande", request_url)
        assert p.locator("#statut-demande").get_attribute("data-status") == "submitted"

        # 6. Approved: the file appears in partenaires/ and the proxy reloads.
        authorize = f"{fed.url}/oidc/authorize?" + urlencode({
            "client_id": SERVICE_ID, "response_type": "code", "scope": "openid",
            "redirect_uri": f"{rp_url}/callback", "state": "s" * 16, "nonce": "n" * 16,
            "code_challenge": "c" * 43, "code_challenge_method": "S256"})
        assert error_code_of(Browser().get(authorize)) == "client_inconnu"
        admin.page.goto(admin.page.url)
        admin.submit("Approuver et raccorder")
        assert admin.page.locator("#statut-demande").get_attribute("data-status") == "approved"
        assert admin.page.locator("#probleme").count() == 0
        written = yaml.safe_load((partners / f"{SERVICE_ID}.yaml").read_text(encoding="utf-8"))
        assert written["organisation_id"] == "commune-dumbea"
        assert written["legal_reference"] == "Délibération n° 2024-12 du 3 mars 2024"
        assert (partners / written["logo"]).read_bytes() == LOGO
        eventually(lambda: error_code_of(Browser().get(authorize)) != "client_inconnu",
                   "the reloaded proxy knows the new client")

        # 7. The partner's secret, shown once; a real RP logs in with it.
        p.goto(request_url)
        assert partner.text("#client-id") == SERVICE_ID
        partner.submit("Générer le secret du client")
        first = partner.text("#client-secret")
        partner.check("partenaire-secret")
        p.reload()  # shown once: never again
        assert first not in p.content()
        rp = make_demo_rp(rp_url, fed.url, SERVICE_ID, first, "Dumbéa")
        fed.fed.add("dumbea", rp, rp_port)
        eventually(lambda: logs_in_with(rp, first), "a login with the secret shown once")

        # 8. The partner regenerates it: both secrets work during the overlap.
        p.get_by_role("link", name="Voir le service raccordé (secret, modifications)").click()
        p.wait_for_url(f"**/partenaires/services/{SERVICE_ID}")
        partner.check()
        partner.submit("Générer un nouveau secret")
        second = partner.text("#client-secret")
        regenerated = time.monotonic()
        assert second != first and partner.text("#ancien-secret")
        text = (partners / f"{SERVICE_ID}.yaml").read_text(encoding="utf-8")
        oidc = yaml.safe_load(text)["oidc"]
        assert oidc["client_secret_sha256"] == hashlib.sha256(second.encode()).hexdigest()
        assert oidc["previous_client_secret"]["sha256"] == \
            hashlib.sha256(first.encode()).hexdigest()
        assert first not in text and second not in text
        eventually(lambda: logs_in_with(rp, second), "a login with the new secret")
        assert logs_in_with(rp, first), "the previous secret works during the overlap"
        assert time.monotonic() - regenerated < OVERLAP_HOURS * 3600
        # The page still shows the new secret: checked (axe, screenshot) once the overlap's
        # assertions, which race its clock, are made.
        partner.check("partenaire-nouveau-secret")

        # 9. Once the overlap is over, only the new one.
        time.sleep(max(0.0, OVERLAP_HOURS * 3600 - (time.monotonic() - regenerated)) + 1)
        assert not logs_in_with(rp, first), "the previous secret is refused after the overlap"
        assert logs_in_with(rp, second)
    finally:
        admin.context.close()
        partner.context.close()
