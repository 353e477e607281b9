"""Threads, pins, saved messages and group conversations in real Chromium (issue 23)."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ParleyProcess, Person, make_person, screenshot
from tests.browser.helpers import delivered, send, sign_in, wait_online

pytestmark = pytest.mark.browser

FRAME_MS = 5000  # a frame from the other page, on a busy machine
PHONE = {"width": 390, "height": 844, "is_mobile": True, "has_touch": True}


def two_in_a_room(
    server: ParleyProcess, open_page, **page: object
) -> tuple[Page, Page, Person, Person, str]:
    ana = make_person(server, "ana", "Ana Lima")
    ben = make_person(server, "ben", "Ben Okafor")
    room_id = server.create_room(ana.token, f"threads-{secrets.token_hex(3)}")
    server.api("POST", f"/api/rooms/{room_id}/members", {"username": ben.username}, ana.token)
    ana_page, ben_page = open_page(**page), open_page()
    sign_in(ana_page, server, ana, f"/rooms/{room_id}")
    sign_in(ben_page, server, ben, f"/rooms/{room_id}")
    return ana_page, ben_page, ana, ben, room_id


def message_item(page: Page, text: str):
    return page.locator("ol.messages:not(.pending) li.msg").filter(has_text=text)


def more_action(page: Page, text: str, action: str) -> None:
    item = message_item(page, text)
    item.hover()
    item.get_by_role("button", name="More actions").click()
    page.get_by_role("menu", name="More actions").get_by_role("menuitem", name=action).click()


def test_a_thread_replies_beside_the_room_and_the_root_counts_them(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben, *_ = two_in_a_room(live_server, open_page)
    send(ana, "Where do we meet?")
    expect(delivered(ben, "Where do we meet?")).to_be_visible(timeout=FRAME_MS)

    more_action(ben, "Where do we meet?", "Start a thread")
    panel = ben.get_by_role("region", name="Thread")
    expect(panel).to_be_visible()
    panel.get_by_role("textbox", name="Reply in thread").fill("At the station")
    panel.get_by_role("textbox", name="Reply in thread").press("Enter")
    expect(panel.locator(".thread-reply")).to_contain_text("At the station", timeout=FRAME_MS)

    # Ana's timeline: the root counts the reply live; the reply itself is not in it.
    line = message_item(ana, "Where do we meet?").locator(".thread-line")
    expect(line).to_contain_text("1 reply", timeout=FRAME_MS)
    expect(delivered(ana, "At the station")).to_be_hidden()
    line.click()
    ana_panel = ana.get_by_role("region", name="Thread")
    expect(ana_panel.locator(".thread-reply")).to_contain_text("At the station")
    expect(ana_panel.get_by_role("button", name="Following")).to_be_visible()

    # "Also send to the room": the reply shows in the thread and in Ben's timeline.
    ana_panel.get_by_role("checkbox", name="Also send to the room").check()
    ana_panel.get_by_role("textbox", name="Reply in thread").fill("Platform 2, at nine")
    ana_panel.get_by_role("button", name="Reply", exact=True).click()
    expect(delivered(ben, "Platform 2, at nine")).to_be_visible(timeout=FRAME_MS)
    expect(panel.locator(".thread-reply")).to_have_count(2, timeout=FRAME_MS)
    screenshot(ben, "thread-panel")
    expect(message_item(ben, "Where do we meet?").locator(".thread-line")).to_contain_text(
        "2 replies", timeout=FRAME_MS
    )

    # The Threads view lists the threads I follow.
    ben.get_by_role("button", name="Threads", exact=True).click()
    threads = ben.get_by_role("region", name="Threads")
    entry = threads.locator(".side-entry").filter(has_text="Where do we meet?")
    expect(entry).to_contain_text("2 replies")
    entry.get_by_role("button").first.click()
    expect(ben.get_by_role("region", name="Thread")).to_be_visible()


def test_pins_and_saved_messages_from_the_message_menu(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben, *_ = two_in_a_room(live_server, open_page)
    send(ana, "Wifi password is on the fridge")
    expect(delivered(ben, "Wifi password is on the fridge")).to_be_visible(timeout=FRAME_MS)

    # Ana owns the room: she pins. Ben, a member, is not offered pinning.
    more_action(ana, "Wifi password is on the fridge", "Pin to room")
    ben.get_by_role("button", name="Threads", exact=True).click()
    ben.get_by_role("button", name="Pinned").click()
    pins = ben.get_by_role("region", name="Pinned in")
    expect(pins.locator(".side-entry")).to_contain_text("Wifi password is on the fridge")
    expect(pins.get_by_role("button", name="Unpin")).to_have_count(0)

    item = message_item(ben, "Wifi password is on the fridge")
    item.hover()
    item.get_by_role("button", name="More actions").click()
    menu = ben.get_by_role("menu", name="More actions")
    expect(menu.get_by_role("menuitem", name="Pin to room")).to_have_count(0)
    menu.get_by_role("menuitem", name="Save").click()
    ben.get_by_role("button", name="Saved").click()
    saved = ben.get_by_role("region", name="Saved messages")
    expect(saved.locator(".side-entry")).to_contain_text("Wifi password is on the fridge")
    saved.get_by_role("button", name="Remove from saved").click()
    expect(saved.get_by_text("Nothing here yet.")).to_be_visible()

    # Live: ana unpins and Ben's pinned list follows.
    ben.get_by_role("button", name="Pinned").click()
    expect(pins.locator(".side-entry")).to_have_count(1)
    more_action(ana, "Wifi password is on the fridge", "Unpin")
    expect(pins.locator(".side-entry")).to_have_count(0, timeout=FRAME_MS)


def test_on_a_phone_a_thread_opens_as_a_full_screen_sheet(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, f"phone-{secrets.token_hex(3)}")
    page = open_page(**PHONE)
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    send(page, "Packing list?")
    expect(delivered(page, "Packing list?")).to_be_visible()
    delivered(page, "Packing list?").tap()
    sheet = page.get_by_role("dialog", name="Message actions")
    sheet.get_by_role("button", name="Start a thread").tap()
    panel = page.get_by_role("region", name="Thread")
    expect(panel).to_be_visible()
    box = panel.bounding_box()
    assert box is not None and box["width"] >= 380 and box["height"] >= 800, box
    screenshot(page, "thread-phone")
    panel.get_by_role("textbox", name="Reply in thread").fill("Tent, stove")
    panel.get_by_role("button", name="Reply", exact=True).tap()
    expect(panel.locator(".thread-reply")).to_contain_text("Tent, stove", timeout=FRAME_MS)
    panel.get_by_role("button", name="Close panel").tap()
    expect(message_item(page, "Packing list?").locator(".thread-line")).to_contain_text("1 reply")


def test_a_group_conversation_from_the_new_dm_dialog_becomes_a_room_when_someone_is_added(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana Lima")
    ben = make_person(live_server, "ben", "Ben Okafor")
    cat = make_person(live_server, "cat", "Cat Diaz")
    dan = make_person(live_server, "dan", "Dan Wu")
    page, cat_page = open_page(), open_page()
    sign_in(page, live_server, ana)
    sign_in(cat_page, live_server, cat)

    page.get_by_role("button", name="New direct message").click()
    dialog = page.get_by_role("dialog", name="New direct message")
    dialog.get_by_label("Username", exact=True).fill(ben.username)
    dialog.get_by_role("button", name="Add another person").click()
    dialog.get_by_label("Username 2").fill(cat.username)
    dialog.get_by_role("button", name="Open conversation").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Ben Okafor, Cat Diaz")
    send(page, "Dinner on Friday?")

    # Cat finds it among her direct messages, named after the two others.
    dms = cat_page.get_by_role("list", name="Direct messages")
    link = dms.get_by_role("link", name=re_name("Ana Lima, Ben Okafor"))
    expect(link).to_be_visible(timeout=FRAME_MS)
    link.click()
    expect(delivered(cat_page, "Dinner on Friday?")).to_be_visible()

    # Anyone in it adds a person: it becomes a private room, with its history.
    cat_page.get_by_role("button", name="Members").click()
    cat_page.get_by_role("button", name="Add people").click()
    add = cat_page.get_by_role("dialog", name="Add people")
    expect(add).to_contain_text("private room")
    add.get_by_label("Username").fill(dan.username)
    add.get_by_role("button", name="Add to room").click()
    rooms = page.get_by_role("list", name="Rooms")
    expect(rooms.get_by_role("link", name=re_name("Dan Wu"))).to_be_visible(timeout=FRAME_MS)
    expect(
        page.get_by_role("list", name="Direct messages").get_by_role(
            "link", name=re_name("Ben Okafor, Cat Diaz")
        )
    ).to_have_count(0)


def re_name(text: str) -> re.Pattern[str]:
    return re.compile(re.escape(text))


def test_seen_by_under_the_last_message_and_the_receipts_toggle(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana Lima")
    ben = make_person(live_server, "ben", "Ben Okafor")
    dm = live_server.api("POST", "/api/dms", {"username": ben.username}, ana.token)["room"]
    page, ben_page = open_page(), open_page()
    sign_in(page, live_server, ana, f"/rooms/{dm['id']}")
    send(page, "Did you get the tickets?")
    expect(delivered(page, "Did you get the tickets?")).to_be_visible()
    sign_in(ben_page, live_server, ben)
    wait_online(ben_page)  # so that opening the conversation reads it at once
    ben_page.get_by_role("link", name=re_name("Ana Lima")).click()
    expect(delivered(ben_page, "Did you get the tickets?")).to_be_visible()
    expect(page.locator(".seen-by")).to_have_text("Seen by Ben Okafor", timeout=FRAME_MS)

    # Ben turns receipts off in Account: Ana's next message is not marked seen.
    ben_page.get_by_role("button", name="Account settings").click()
    account = ben_page.get_by_role("dialog", name="Account")
    toggle = account.get_by_role("checkbox", name="Send read receipts")
    expect(toggle).to_be_checked()
    toggle.uncheck()
    expect(account.get_by_role("status").filter(has_text="nobody sees")).to_be_visible()
    assert live_server.api("GET", "/api/me/read-receipts", None, ben.token) == {"enabled": False}
    ben_page.keyboard.press("Escape")
    send(page, "Hello?")
    expect(delivered(ben_page, "Hello?")).to_be_visible(timeout=FRAME_MS)
    page.wait_for_timeout(2000)  # a receipt would come within one coalescing second
    expect(page.locator(".seen-by")).to_have_count(0)
