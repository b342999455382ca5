"""Keyboard only: a citizen who cannot use a mouse signs in with Tab and Enter, and always
sees where the focus is."""

from __future__ import annotations

from .steps import (
    CONSENT_GO_ON,
    RESULT,
    at_consent_screen,
    attributes_shown,
    choose_source,
    focused,
    later_visit_remembering_the_choice,
    open_choice_page,
)

#: Tab presses allowed to reach an element: the pages have a handful of stops.
MAX_TABS = 10


def _tab_to(page, matches) -> dict[str, str]:
    for _ in range(MAX_TABS):
        page.keyboard.press("Tab")
        element = focused(page)
        if matches(element):
            return element
    raise AssertionError(f"not reached with {MAX_TABS} Tab presses; focus on {focused(page)}")


def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_the_content(fed, page):
    open_choice_page(page, fed)
    page.keyboard.press("Tab")
    skip = focused(page)
    assert (skip["tag"], skip["text"]) == ("a", "Aller au contenu")
    assert page.locator("a.skip").is_visible()
    page.keyboard.press("Enter")
    assert focused(page)["id"] == "contenu"


def test_choice_page_is_completed_with_tab_and_enter_only(fed, page, screenshots, citizen):
    page.goto(fed.url("rp-choix") + "/")
    _tab_to(page, lambda e: e["text"] == "Se connecter avec NC Connect")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{fed.proxy_url}/choix**")

    button = _tab_to(page, lambda e: e["tag"] == "button" and e["value"] == "src-idp")
    assert button["outline"] != "none 0px", "keyboard focus must be visible"
    screenshots.take(page, "choix-focus-clavier")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{fed.url('src-idp')}/**")

    # The source's form takes the focus (autofocus is applied at a rendering step after load:
    # wait for it, bounded, rather than read it at once).
    page.wait_for_function("document.activeElement && document.activeElement.id === "
                           "'identifiant'", timeout=5000)
    page.keyboard.type(citizen.username)
    page.keyboard.press("Tab")
    page.keyboard.type(citizen.password)
    page.keyboard.press("Enter")
    if at_consent_screen(page):
        _tab_to(page, lambda e: e["tag"] == "button" and e["id"] in CONSENT_GO_ON)
        page.keyboard.press("Enter")
    page.locator(RESULT).wait_for()
    assert attributes_shown(page)["given_name"] == citizen.claims["given_name"]


def test_last_used_account_has_the_focus_so_enter_alone_continues(fed, page, new_page):
    open_choice_page(page, fed)
    choose_source(page, fed, "src-idp")

    page = later_visit_remembering_the_choice(page, new_page)
    open_choice_page(page, fed)
    page.wait_for_function("document.activeElement && document.activeElement.value === "
                           "'src-idp'", timeout=5000)  # autofocus lands after load
    assert focused(page)["value"] == "src-idp"
    page.keyboard.press("Enter")
    page.wait_for_url(f"{fed.url('src-idp')}/**")
