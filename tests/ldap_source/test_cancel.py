"""The account form's "Annuler": back to the choice of account, then "Revenir au service"
gives the service access_denied (the same journey as a cancel at a partner source)."""

from __future__ import annotations

from urllib.parse import urlsplit

from bs4 import BeautifulSoup

from idp.testbed.browser import Browser, error_code_of

from .conftest import SOURCE
from .journey import form_of, open_form


def _cancel(browser: Browser, form_page):
    return browser.submit(form_page, {}, form_selector="form#form-annuler",
                          button=("action", "annuler"))


def _sources(page) -> list[str]:
    assert urlsplit(page.url).path == "/choix", f"{page.status_code} {page.url}"
    return sorted(b["value"] for b in BeautifulSoup(page.text, "html.parser")
                  .select("button[name=source]"))


def test_cancel_on_the_account_form_comes_back_to_the_choice(fed, browser):
    back = _cancel(browser, open_form(browser, fed, "rp-choix"))
    assert _sources(back) == sorted([SOURCE, "src-op"])
    assert "Vous avez annulé la connexion avec" in back.text
    # Choosing the account again shows the form again.
    again = browser.submit(back, {}, button=("source", SOURCE))
    assert form_of(again) is not None


def test_cancel_with_the_only_account_then_back_to_the_service(fed, browser):
    back = _cancel(browser, open_form(browser, fed, "rp-compte"))
    assert _sources(back) == [SOURCE]
    resp = browser.submit(back, {}, form_selector="form#form-retour", button=("retour", "1"))
    assert error_code_of(resp) == "access_denied"


def test_cancel_without_the_form_token_is_refused(fed, browser):
    form_page = open_form(browser, fed, "rp-compte")
    resp = browser.submit(form_page, {"csrf": "forged"}, form_selector="form#form-annuler",
                          button=("action", "annuler"))
    assert resp.status_code == 403 and error_code_of(resp) == "csrf"
