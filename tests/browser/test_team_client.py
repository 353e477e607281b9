"""Where I stopped reading, and running a room from the page (issue 9's web-client parts)."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import make_person
from tests.browser.helpers import delivered, open_room, sign_in

pytestmark = pytest.mark.browser

FRAME_MS = 5000  # a frame from the server, on a busy machine


def test_a_new_messages_line_sits_above_the_first_message_posted_while_i_was_away(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    name = f"away-{secrets.token_hex(3)}"
    room_id = live_server.create_room(ana.token, name)
    live_server.create_room(ana.token, f"elsewhere-{secrets.token_hex(3)}")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    live_server.post(ben.token, room_id, "seen before leaving")
    live_server.post(ana.token, room_id, "bye for now")
    live_server.api("POST", f"/api/rooms/{room_id}/read", {}, ana.token)
    for n in (1, 2, 3):
        live_server.post(ben.token, room_id, f"while you were away {n}")

    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    expect(delivered(page, "while you were away 3")).to_be_visible()
    line = page.get_by_role("separator").filter(has_text="New messages")
    expect(line).to_have_count(1)
    expect(page.locator("li.new-sep + li.msg .msg-body")).to_have_text("while you were away 1")
    # It marks where I was, not what is unread now: reading and new messages leave it be.
    live_server.post(ben.token, room_id, "and one more")
    expect(delivered(page, "and one more")).to_be_visible(timeout=FRAME_MS)
    expect(line).to_have_count(1)
    expect(page.locator("li.new-sep + li.msg .msg-body")).to_have_text("while you were away 1")

    # Once I leave the room and come back, everything was read: no line.
    open_room(page, "elsewhere")
    open_room(page, name)
    expect(delivered(page, "and one more")).to_be_visible()
    expect(line).to_have_count(0)


def test_my_own_messages_never_draw_a_new_messages_line(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, f"mine-{secrets.token_hex(3)}")
    live_server.api("POST", f"/api/rooms/{room_id}/read", {}, ana.token)
    for n in (1, 2):
        live_server.post(ana.token, room_id, f"from my phone {n}")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    expect(delivered(page, "from my phone 2")).to_be_visible()
    expect(page.locator("li.new-sep")).to_have_count(0)
