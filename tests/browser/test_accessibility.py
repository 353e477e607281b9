"""Accessibility measured (issue 21): axe-core on every main screen, in both themes and at
phone size, finds nothing serious or critical.

axe-core comes bundled with axe-playwright-python (MPL-2.0); it runs inside the page, so
what it judges is what the browser drew: colours, names, roles and structure.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page, expect

from tests.browser.conftest import ParleyProcess, make_person
from tests.browser.helpers import composer, delivered, send, sign_in

pytestmark = pytest.mark.browser

AXE = Axe()
BLOCKING = {"serious", "critical"}
PHONE = {"width": 390, "height": 844, "has_touch": True, "is_mobile": True}


def problems(page: Page, screen: str) -> list[str]:
    """axe's serious and critical violations on the page as it is now, one line each."""
    results = AXE.run(page).response
    found = []
    for violation in results["violations"]:
        if violation["impact"] in BLOCKING:
            targets = [", ".join(node["target"]) for node in violation["nodes"][:4]]
            found.append(f"{screen}: {violation['id']} ({violation['impact']}) at {targets}")
    return found


def chat_screens(page: Page, server: ParleyProcess, phone: bool) -> list[str]:
    """Walk the chat screen, its dialogs, the emoji picker and the search pane."""
    ana = make_person(server, "ana", "Ana Lima")
    ben = make_person(server, "ben", "Ben Okafor")
    room_id = server.create_room(ana.token, f"axe-{secrets.token_hex(3)}", topic="Checks")
    server.create_room(ana.token, f"axe-private-{secrets.token_hex(3)}", "private")
    server.api("POST", f"/api/rooms/{room_id}/members", {"username": ben.username}, ana.token)
    server.post(ben.token, room_id, "Hello **there**, see https://example.invalid/x")
    sign_in(page, server, ana, f"/rooms/{room_id}")
    send(page, "A reply with `code`")
    expect(delivered(page, "A reply with code")).to_be_visible()
    found = problems(page, "chat")

    if phone:
        page.get_by_role("button", name="Rooms menu").click()
        expect(page.get_by_role("complementary", name="Rooms and people")).to_be_visible()
        found += problems(page, "rooms menu")
        page.keyboard.press("Escape")

    page.get_by_role("button", name="Insert emoji").click()
    expect(page.get_by_role("dialog", name="Emoji picker")).to_be_visible()
    expect(page.locator(".picker-emoji").first).to_be_visible()
    found += problems(page, "emoji picker")
    page.keyboard.press("Escape")

    box = page.get_by_role("searchbox", name="Search messages")
    if box.is_visible():
        box.fill("hello")
        box.press("Enter")
        results = page.get_by_role("list", name="Search results")
        expect(results.get_by_role("button")).to_have_count(1)
        found += problems(page, "search")
        box.fill("")

    def dialog(opener: Callable[[], None], name: str) -> None:
        nonlocal found
        opener()
        shown = page.get_by_role("dialog", name=name)
        expect(shown).to_be_visible()
        found += problems(page, f"{name} dialog")
        page.keyboard.press("Escape")
        expect(shown).to_have_count(0)

    def from_menu(button: str) -> Callable[[], None]:
        def click() -> None:
            if phone:
                page.get_by_role("button", name="Rooms menu").click()
            page.get_by_role("button", name=button).click()

        return click

    dialog(from_menu("Account settings"), "Account")
    dialog(from_menu("New room"), "New room")
    settings = page.get_by_role("button", name="Room settings")
    if settings.is_visible():
        dialog(settings.click, "Room settings")
    return found


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_sign_in_and_sign_up_have_no_serious_accessibility_problems(
    open_page, live_server: ParleyProcess, scheme: str
) -> None:
    found: list[str] = []
    for size in ({}, PHONE):
        page = open_page(color_scheme=scheme, **size)
        page.goto(live_server.url + "/login")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        found += problems(page, f"sign in {size or 'desktop'}")
        page.get_by_role("button", name="Sign in").click()  # empty: the error shows
        expect(page.get_by_role("alert")).to_be_visible()
        found += problems(page, "sign-in error")
        page.goto(live_server.url + "/register")
        expect(page.get_by_role("button", name="Create account")).to_be_visible()
        found += problems(page, "create account")
    assert not found, "\n".join(found)


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_chat_screen_its_dialogs_and_the_picker_have_no_serious_problems(
    open_page, live_server: ParleyProcess, scheme: str
) -> None:
    page = open_page(color_scheme=scheme)
    found = chat_screens(page, live_server, phone=False)
    assert not found, "\n".join(found)
    expect(composer(page)).to_be_visible()


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_chat_screen_at_phone_size_has_no_serious_problems(
    open_page, live_server: ParleyProcess, scheme: str
) -> None:
    page = open_page(color_scheme=scheme, **PHONE)
    found = chat_screens(page, live_server, phone=True)
    assert not found, "\n".join(found)
