"""What a person does in the page, as small functions the browser tests share."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page, expect

from tests.browser.conftest import PASSWORD, ParleyProcess, Person

LIVE_MS = 1000  # "each message appears in the other page within a second"


def sign_up(page: Page, server: ParleyProcess, username: str, display_name: str) -> None:
    """Create an account through the page and wait for the chat screen."""
    page.goto(server.url + "/register")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Display name").fill(display_name)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("complementary", name="Rooms and people")).to_be_visible()


def sign_in(page: Page, server: ParleyProcess, person: Person, path: str = "/") -> None:
    """Sign in through the form and wait for the chat screen."""
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main.room")).to_be_visible()  # the chat screen, on any width
    if path != "/":
        page.goto(server.url + path)
        expect(composer(page)).to_be_visible()


def wait_online(page: Page) -> None:
    """Wait until the page's WebSocket has had its ``ready`` (the shell drops ``offline``).

    sign_in waits for the chat screen, not for the socket: a test that stops the server
    right after it could otherwise stop it before the page was ever online, and a page
    that never was online shows no "Connection lost" banner.
    """
    expect(page.locator(".shell")).not_to_have_class(re.compile(r"\boffline\b"))


def composer(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message")


def send(page: Page, text: str) -> None:
    box = composer(page)
    box.fill(text)
    box.press("Enter")


def delivered(page: Page, text: str) -> Locator:
    """Stored messages (not pending sends) whose body is exactly `text`."""
    return page.locator("ol.messages:not(.pending) .msg-body").filter(has_text=text)


def open_room(page: Page, name: str) -> None:
    page.get_by_role("link", name=name).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(name)


def room_tool(page: Page, name: str) -> None:
    """Use a header tool on a phone, where it is folded into the "Room tools" menu."""
    page.get_by_role("button", name="Room tools").tap()
    page.locator("#room-more").get_by_role("button", name=name).tap()
