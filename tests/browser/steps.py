"""What a citizen does in the browser, step by step, shared by the browser tests."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from idp.demo.citizens import Citizen
from idp.testbed.federation import Federation
from plugins.micro_services.choix import REMEMBER_COOKIE

if TYPE_CHECKING:
    from playwright.sync_api import Page

#: Display names of the test federation's sources (idp.testbed.federation).
SOURCES = {"src-op": "Identité OIDC de test", "src-idp": "Annuaire SAML de test"}

CONNECT = "Se connecter avec NC Connect"

#: NC Connect's consent / information screen, shown after the source when the flow needs it.
CONSENT_FORM = "form#form-consentement"
CONSENT_GO_ON = ("accepter", "continuer")  # ids of its "Accepter" and "Continuer" buttons
RESULT = "table#attributs"
#: Error pages: NC Connect's (code[data-code]) and the demo peers' (#erreur[data-error]).
ERROR = "code[data-code], #erreur[data-error]"


def open_choice_page(page: Page, fed: Federation, service: str = "rp-choix") -> None:
    """The service sends the browser to NC Connect, which shows its choice page."""
    page.goto(f"{fed.url(service)}/login")
    page.wait_for_url(f"{fed.proxy_url}/choix**")


def choose_source(page: Page, fed: Federation, source: str) -> None:
    page.get_by_role("button", name=re.compile(SOURCES[source])).click()
    page.wait_for_url(f"{fed.url(source)}/**")


def later_visit_remembering_the_choice(page: Page, new_page: Callable[..., Page],
                                       **options: object) -> Page:
    """A new page that keeps only the remembered-choice cookie of ``page``'s browser: a later
    visit, after the single sign-on session has ended but within the months of the choice."""
    name = "__Host-" + REMEMBER_COOKIE  # the proxy under test is Secure: prefixed
    kept = [c for c in page.context.cookies() if c["name"] == name]
    assert kept, f"no {name} cookie after choosing a source"
    later = new_page(**options)
    later.context.add_cookies(kept)
    return later


def fill_source_form(page: Page, citizen: Citizen) -> None:
    page.get_by_label("Identifiant").fill(citizen.username)
    page.get_by_label("Mot de passe").fill(citizen.password)


def submit_source_form(page: Page, on_consent: Callable[[Page], None] | None = None) -> None:
    """Sign in at the source and follow every hop back to the service's result page."""
    page.get_by_role("button", name="Se connecter").click()
    if at_consent_screen(page):
        if on_consent is not None:
            on_consent(page)
        go_on = ", ".join(f"{CONSENT_FORM} button#{i}" for i in CONSENT_GO_ON)
        page.locator(go_on).click()
    page.locator(RESULT).wait_for()


def at_consent_screen(page: Page) -> bool:
    """Wait for the next stop after the source: the service's result or the consent screen;
    an error page on the way fails at once, naming its code."""
    result, consent, error = (page.locator(RESULT), page.locator(CONSENT_FORM),
                              page.locator(ERROR))
    result.or_(consent).or_(error).first.wait_for()
    if error.count():
        code = error.first.get_attribute("data-code") or error.first.get_attribute("data-error")
        where = urlsplit(page.url)
        raise AssertionError(f"the login ended on an error page: {code} at "
                             f"{where.scheme}://{where.netloc}{where.path}")
    return consent.is_visible()


def attributes_shown(page: Page) -> dict[str, str]:
    """The service's table of received attributes: data-name -> value."""
    rows = page.locator("table#attributs tr[data-name]")
    return {str(rows.nth(i).get_attribute("data-name")): rows.nth(i).locator("td").inner_text()
            for i in range(rows.count())}


def focused(page: Page) -> dict[str, str]:
    """The element that has keyboard focus, and whether its focus ring is drawn."""
    return page.evaluate("""() => {
      const el = document.activeElement, style = getComputedStyle(el);
      return {tag: el.tagName.toLowerCase(), id: el.id || "", name: el.name || "",
              value: el.value || "", text: (el.innerText || "").trim(),
              outline: style.outlineStyle + " " + style.outlineWidth};
    }""")


def mairie_with_consent(name: str) -> tuple:
    """A test service whose legal basis is consent, remembering the choice for 30 days, with
    one optional attribute: its screen asks, with "Accepter" / "Refuser"."""
    return ("oidc", ["src-op", "src-idp"], [], {
        "name": name,
        "purpose": "Délivrer vos actes d'état civil en ligne.",
        "legal_basis": "consent",
        "consent": {"remember_days": 30},
        "attributes": {
            "family_name": {"justification": "Établir l'acte au bon nom."},
            "given_name": {"justification": "Établir l'acte au bon nom."},
            "birthdate": {"justification": "Retrouver l'acte dans les registres."},
            "email": {"justification": "Vous envoyer l'acte.", "optional": True},
        }})
