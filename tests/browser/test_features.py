"""Team features in real Chromium: edit, delete, react, reply, mentions, search, settings."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ParleyProcess, Person, make_person
from tests.browser.helpers import composer, delivered, send, sign_in

pytestmark = pytest.mark.browser

FRAME_MS = 5000  # a frame from the other page, on a busy machine


def two_in_a_room(server: ParleyProcess, open_page) -> tuple[Page, Page, Person, Person, str]:
    ana = make_person(server, "ana", "Ana Lima")
    ben = make_person(server, "ben", "Ben Okafor")
    name = f"team-{secrets.token_hex(3)}"
    room_id = server.create_room(ana.token, name)
    server.api("POST", f"/api/rooms/{room_id}/members", {"username": ben.username}, ana.token)
    ana_page, ben_page = open_page(), open_page()
    sign_in(ana_page, server, ana, f"/rooms/{room_id}")
    sign_in(ben_page, server, ben, f"/rooms/{room_id}")
    return ana_page, ben_page, ana, ben, room_id


def message_item(page: Page, text: str):
    return page.locator("ol.messages:not(.pending) li.msg").filter(has_text=text)


def test_editing_a_message_shows_the_new_text_to_everyone(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben, *_ = two_in_a_room(live_server, open_page)
    send(ana, "Lunch at noon?")
    expect(delivered(ben, "Lunch at noon?")).to_be_visible(timeout=FRAME_MS)

    item = message_item(ana, "Lunch at noon?")
    item.hover()
    item.get_by_role("button", name="Edit message").click()
    editor = ana.get_by_role("textbox", name="Edit message")
    editor.fill("Lunch at 12:30?")
    editor.press("Enter")

    expect(delivered(ben, "Lunch at 12:30?")).to_be_visible(timeout=FRAME_MS)
    expect(message_item(ben, "Lunch at 12:30?").locator(".edited")).to_be_visible()
    expect(delivered(ana, "Lunch at 12:30?")).to_be_visible()
    # Ben can't edit Ana's message: the action is not offered to him.
    bens_view = message_item(ben, "Lunch at 12:30?")
    expect(bens_view.get_by_role("button", name="Edit message")).to_have_count(0)


def test_a_reaction_appears_on_both_pages_and_toggles_off(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben, *_ = two_in_a_room(live_server, open_page)
    send(ana, "Release is out")
    item = message_item(ben, "Release is out")
    expect(item).to_be_visible(timeout=FRAME_MS)
    item.hover()
    item.get_by_role("button", name="Add reaction").click()
    item.get_by_role("button", name="React with 🎉").click()

    chip = message_item(ana, "Release is out").locator(".reaction", has_text="🎉")
    expect(chip).to_contain_text("1", timeout=FRAME_MS)
    mine = message_item(ben, "Release is out").get_by_role("button", name="🎉 1, including you")
    expect(mine).to_have_attribute("aria-pressed", "true", timeout=FRAME_MS)
    mine.click()
    expect(chip).to_have_count(0, timeout=FRAME_MS)


def test_deleting_leaves_a_tombstone_for_the_other_person(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben, *_ = two_in_a_room(live_server, open_page)
    send(ana, "Oops, wrong room")
    expect(delivered(ben, "Oops, wrong room")).to_be_visible(timeout=FRAME_MS)
    item = message_item(ana, "Oops, wrong room")
    item.hover()
    item.get_by_role("button", name="Delete message").click()
    item.get_by_role("button", name="Delete", exact=True).click()
    expect(ben.get_by_text("This message was deleted.")).to_be_visible(timeout=FRAME_MS)
    expect(delivered(ben, "Oops, wrong room")).to_have_count(0)


def test_search_finds_a_message_and_jumps_to_it(open_page, live_server: ParleyProcess) -> None:
    ana = make_person(live_server, "ana", "Ana Lima")
    room_id = live_server.create_room(ana.token, f"archive-{secrets.token_hex(3)}")
    word = f"pineapple{secrets.token_hex(3)}"
    live_server.post(ana.token, room_id, f"The {word} budget is approved")
    # Enough later messages that the match is not on the first page.
    for i in range(60):
        live_server.post(ana.token, room_id, f"filler {i}")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    expect(delivered(page, "filler 59")).to_be_visible()

    box = page.get_by_role("searchbox", name="Search messages")
    box.fill(word[:12])
    box.press("Enter")
    result = page.get_by_role("button", name=f"The {word} budget is approved")
    expect(result).to_be_visible(timeout=FRAME_MS)
    expect(result.locator("mark")).to_have_text(word)
    result.click()
    target = message_item(page, f"The {word} budget is approved")
    expect(target).to_be_in_viewport(timeout=FRAME_MS)
    expect(target).to_have_class(re.compile(r"\bflash\b"), timeout=FRAME_MS)


def test_a_reply_quotes_the_original_and_a_mention_is_highlighted(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben, ana_person, _, _ = two_in_a_room(live_server, open_page)
    send(ana, "Who can review my change?")
    item = message_item(ben, "Who can review my change?")
    expect(item).to_be_visible(timeout=FRAME_MS)
    item.hover()
    item.get_by_role("button", name="Reply").click()
    box = composer(ben)
    box.fill(f"I can, @{ana_person.username[:4]}")
    ben.get_by_role("option").filter(has_text=f"@{ana_person.username}").click()
    expect(box).to_have_value(f"I can, @{ana_person.username} ")
    box.press("Enter")

    reply = message_item(ana, "I can,")
    expect(reply).to_be_visible(timeout=FRAME_MS)
    expect(reply.locator(".msg-reply")).to_contain_text("Who can review my change?")
    expect(reply.locator(".mention-me")).to_have_text(f"@{ana_person.username}")
    expect(reply).to_have_class(re.compile(r"\bmentions-me\b"))


def test_room_settings_rename_the_room_for_everyone_and_archiving_makes_it_read_only(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben, ana_person, _, room_id = two_in_a_room(live_server, open_page)
    ana.get_by_role("button", name="Room settings").click()
    dialog = ana.get_by_role("dialog", name="Room settings")
    new_name = f"renamed-{secrets.token_hex(3)}"
    dialog.get_by_label("Name").fill(new_name)
    dialog.get_by_label("Topic").fill("Quarter planning")
    dialog.get_by_role("button", name="Save").click()
    expect(ben.get_by_role("heading", level=1)).to_have_text(f"# {new_name}", timeout=FRAME_MS)
    expect(ben.get_by_text("Quarter planning")).to_be_visible()

    # Retention: messages older than this many days are deleted (empty: server default).
    ana.get_by_role("button", name="Room settings").click()
    dialog = ana.get_by_role("dialog", name="Room settings")
    expect(dialog.get_by_label("Delete messages after (days)")).to_have_value("")
    dialog.get_by_label("Delete messages after (days)").fill("30")
    dialog.get_by_role("button", name="Save").click()
    expect(dialog).to_be_hidden()
    got = live_server.api("GET", f"/api/rooms/{room_id}", None, ana_person.token)
    assert got["room"]["retention_days"] == 30

    # Archiving (an owner's API call) turns every member's page read-only at once.
    live_server.api("POST", f"/api/rooms/{room_id}/archive", None, ana_person.token)
    expect(composer(ben)).to_be_disabled(timeout=FRAME_MS)
