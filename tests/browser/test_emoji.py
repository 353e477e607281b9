"""Emoji: the picker (categories, search, recently used), :shortcode: completion, and
emoji arriving intact and large on the other side. The data loads only on demand."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ParleyProcess, make_person, screenshot
from tests.browser.helpers import LIVE_MS, composer, delivered, sign_in

pytestmark = pytest.mark.browser


def two_people_in_a_room(open_page, server: ParleyProcess) -> tuple[Page, Page]:
    ana, ben = make_person(server, "ana", "Ana"), make_person(server, "ben", "Ben")
    room_id = server.create_room(ana.token, "emoji")
    server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    ana_page, ben_page = open_page(), open_page()
    sign_in(ana_page, server, ana, f"/rooms/{room_id}")
    sign_in(ben_page, server, ben, f"/rooms/{room_id}")
    return ana_page, ben_page


def test_picked_emoji_arrives_intact_and_large(open_page, live_server) -> None:
    ana, ben = two_people_in_a_room(open_page, live_server)
    emoji_requests: list[str] = []
    ana.on("request", lambda r: emoji_requests.append(r.url) if "/api/emoji" in r.url else None)
    ana.wait_for_timeout(200)
    assert emoji_requests == []  # nothing fetched until the picker opens

    ana.get_by_role("button", name="Insert emoji").click()
    picker = ana.get_by_role("dialog", name="Emoji picker")
    expect(picker).to_be_visible()
    expect(picker.get_by_role("tab", name="Smileys & emotion")).to_have_attribute(
        "aria-selected", "true"
    )  # nothing used yet, so the first category opens
    expect(picker.get_by_role("gridcell", name="grinning face", exact=True)).to_be_visible()
    screenshot(ana, "emoji-picker")
    picker.get_by_role("tab", name="Flags").click()
    expect(picker.get_by_role("gridcell", name="chequered flag")).to_be_visible()
    picker.get_by_role("searchbox", name="Search emoji").fill("woman techno")
    picker.get_by_role("gridcell", name="woman technologist").click()
    expect(picker).to_be_hidden()
    # The catalog once, and the server's custom emoji once (for the picker's Custom tab).
    assert sorted(u.split("/api/", 1)[1] for u in emoji_requests) == ["emoji", "emoji/custom"]

    # A ZWJ sequence (woman + ZWJ + laptop) must survive the whole trip unchanged.
    expect(composer(ana)).to_have_value("👩‍💻")
    composer(ana).press("Enter")
    message = delivered(ben, "👩‍💻")
    expect(message).to_be_visible(timeout=LIVE_MS)
    assert message.text_content() == "\U0001f469\u200d\U0001f4bb"
    expect(message).to_have_class("msg-body jumbo")  # emoji-only messages show large

    # Recently used comes first next time, and text + emoji stays normal size.
    composer(ana).fill("Ship it ")
    ana.get_by_role("button", name="Insert emoji").click()
    expect(picker.get_by_role("tab", name="Recently used")).to_have_attribute(
        "aria-selected", "true"
    )
    picker.get_by_role("gridcell", name="woman technologist").click()
    composer(ana).press("Enter")
    mixed = delivered(ben, "Ship it 👩‍💻")
    expect(mixed).to_be_visible(timeout=LIVE_MS)
    expect(mixed).not_to_have_class("msg-body jumbo")


def test_shortcode_completion_in_the_composer(open_page, live_server) -> None:
    ana, ben = two_people_in_a_room(open_page, live_server)
    box = composer(ana)
    box.press_sequentially("Great :heart_ey")
    options = ana.get_by_role("listbox", name="Emoji suggestions")
    expect(options.get_by_role("option").first).to_contain_text("😍")
    box.press("Enter")  # picks the suggestion instead of sending
    expect(box).to_have_value("Great 😍")
    box.press_sequentially(" and :thumbsup:")  # a closed shortcode converts at once
    expect(box).to_have_value("Great 😍 and 👍")
    box.press("Enter")
    expect(delivered(ben, "Great 😍 and 👍")).to_be_visible(timeout=LIVE_MS)


def test_picker_works_from_the_keyboard(open_page, live_server) -> None:
    ana, _ = two_people_in_a_room(open_page, live_server)
    composer(ana).focus()
    ana.keyboard.press("Shift+Tab")  # composer → emoji button
    expect(ana.get_by_role("button", name="Insert emoji")).to_be_focused()
    ana.keyboard.press("Enter")
    search = ana.get_by_role("searchbox", name="Search emoji")
    expect(search).to_be_focused()
    search.fill("rocket")
    rocket = ana.get_by_role("gridcell", name="rocket")
    expect(rocket).to_be_visible()  # as a person would, once the catalog has come
    ana.keyboard.press("ArrowDown")
    expect(rocket).to_be_focused()
    ana.keyboard.press("Enter")
    expect(composer(ana)).to_have_value("🚀")
    expect(composer(ana)).to_be_focused()
    ana.get_by_role("button", name="Insert emoji").click()
    ana.keyboard.press("Escape")
    expect(ana.get_by_role("dialog", name="Emoji picker")).to_be_hidden()


def test_emoji_data_is_grouped_cacheable_json(live_server) -> None:
    with urllib.request.urlopen(live_server.url + "/api/emoji") as response:
        assert "max-age" in response.headers["Cache-Control"]
        etag = response.headers["ETag"]
        data = json.loads(response.read())
    groups = {g["name"]: [e[0] for e in g["emojis"]] for g in data["groups"]}
    assert next(iter(groups)) == "Smileys & emotion"
    assert groups["Smileys & emotion"][0] == "😀"  # faces lead, as in every picker
    assert "🐶" in groups["Animals & nature"]
    assert "🍕" in groups["Food & drink"]
    assert "🇯🇵" in groups["Flags"]
    everything = [char for chars in groups.values() for char in chars]
    assert len(everything) == len(set(everything)) > 1800  # each emoji in one group
    assert not any("\U0001f3fb" <= c <= "\U0001f3ff" for e in everything for c in e)

    again = urllib.request.Request(live_server.url + "/api/emoji")
    again.add_header("If-None-Match", etag)
    with pytest.raises(urllib.error.HTTPError) as not_modified:
        urllib.request.urlopen(again)
    assert not_modified.value.code == 304
