"""Where I stopped reading, and running a room from the page (issue 9's web-client parts)."""

from __future__ import annotations

import re
import secrets

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import make_person
from tests.browser.helpers import composer, delivered, open_room, sign_in

pytestmark = pytest.mark.browser

FRAME_MS = 5000  # a frame from the server, on a busy machine


def test_a_new_messages_line_sits_above_the_first_message_posted_while_i_was_away(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    name = f"unread-{secrets.token_hex(3)}"
    room_id = live_server.create_room(ana.token, name)
    # Signing in lands in the first room by name: this one, so the other stays unread.
    live_server.create_room(ana.token, f"elsewhere-{secrets.token_hex(3)}")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    live_server.post(ben.token, room_id, "seen before leaving")
    live_server.post(ana.token, room_id, "bye for now")
    live_server.api("POST", f"/api/rooms/{room_id}/read", {}, ana.token)
    for n in (1, 2, 3):
        live_server.post(ben.token, room_id, f"while you were away {n}")

    page = open_page()
    sign_in(page, live_server, ana)
    open_room(page, name)
    expect(delivered(page, "while you were away 3")).to_be_visible()
    line = page.get_by_role("separator").filter(has_text="New messages")
    expect(line).to_have_count(1)
    expect(page.locator("li.new-sep + li.msg .msg-body")).to_have_text("while you were away 1")
    # Three messages fit on the screen: the room opens at the bottom as ever.
    expect(delivered(page, "while you were away 3")).to_be_in_viewport()
    expect(line).to_be_in_viewport()
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
    name = f"mine-{secrets.token_hex(3)}"
    room_id = live_server.create_room(ana.token, name)
    live_server.create_room(ana.token, f"elsewhere-{secrets.token_hex(3)}")  # lands here
    live_server.api("POST", f"/api/rooms/{room_id}/read", {}, ana.token)
    for n in (1, 2):
        live_server.post(ana.token, room_id, f"from my phone {n}")
    page = open_page()
    sign_in(page, live_server, ana)
    open_room(page, name)
    expect(delivered(page, "from my phone 2")).to_be_visible()
    expect(page.locator("li.new-sep")).to_have_count(0)


def test_a_long_unread_stretch_opens_at_the_new_messages_line_and_stays_unread_until_read(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    cid = make_person(live_server, "cid", "Cid")
    name = f"catch-up-{secrets.token_hex(3)}"
    room_id = live_server.create_room(ana.token, name)
    live_server.create_room(ana.token, f"elsewhere-{secrets.token_hex(3)}")  # sign-in lands here
    for person in (ben, cid):
        live_server.api("POST", f"/api/rooms/{room_id}/join", None, person.token)
    live_server.post(ben.token, room_id, "read before leaving")
    live_server.api("POST", f"/api/rooms/{room_id}/read", {}, ana.token)
    # 80 unread: more than one history page (50) and far more than one screen.
    for n in range(1, 81):  # two authors keep each under the burst limit
        live_server.post((ben if n % 2 else cid).token, room_id, f"catch-up {n}")

    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    line = page.get_by_role("separator").filter(has_text="New messages")
    expect(line).to_be_in_viewport()
    first_unread = page.locator("li.new-sep + li.msg .msg-body")
    expect(first_unread).to_have_text("catch-up 1")
    expect(first_unread).to_be_in_viewport()
    expect(delivered(page, "catch-up 80")).not_to_be_in_viewport()
    # The line is near the top of the messages, where reading starts.
    scroller = page.get_by_label("Message history")
    top = scroller.bounding_box()
    box = line.bounding_box()
    assert top is not None and box is not None
    assert box["y"] - top["y"] < top["height"] / 3, (box, top)

    # Opening it is not reading it: the room stays unread until I reach the end.
    link = page.get_by_role("link", name=re.compile(f"^{name}"))
    expect(link).to_have_accessible_name(f"{name}, 80 unread")
    scroller.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    expect(delivered(page, "catch-up 80")).to_be_in_viewport()
    expect(link).to_have_accessible_name(name, timeout=FRAME_MS)
    expect(line).to_have_count(1)  # reading leaves the line where it was


def test_what_i_wrote_myself_counts_as_read_when_placing_the_new_messages_line(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    name = f"wrote-{secrets.token_hex(3)}"
    room_id = live_server.create_room(ana.token, name)
    live_server.create_room(ana.token, f"elsewhere-{secrets.token_hex(3)}")  # sign-in lands here
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    live_server.api("POST", f"/api/rooms/{room_id}/read", {}, ana.token)
    for n in range(1, 61):
        live_server.post(ben.token, room_id, f"earlier {n}")
    live_server.post(ana.token, room_id, "answered from my phone")  # so I had read those
    for n in (1, 2):
        live_server.post(ben.token, room_id, f"after my answer {n}")

    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    expect(page.locator("li.new-sep + li.msg .msg-body")).to_have_text("after my answer 1")
    expect(delivered(page, "after my answer 2")).to_be_in_viewport()
    # No pages fetched to reach the older marker: only the first page is there.
    expect(page.locator("ol.messages:not(.pending) .msg")).to_have_count(50)


def test_the_owner_bans_a_member_who_disappears_from_the_members_list(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    cid = make_person(live_server, "cid", "Cid")
    room_id = live_server.create_room(ana.token, f"run-{secrets.token_hex(3)}")
    for person in (ben, cid):
        live_server.api("POST", f"/api/rooms/{room_id}/join", None, person.token)

    # A plain member gets no administration in the panel.
    cid_page = open_page()
    sign_in(cid_page, live_server, cid, f"/rooms/{room_id}")
    cid_page.get_by_role("button", name="Members").click()
    expect(cid_page.locator(".member-name").filter(has_text="Ben")).to_be_visible()
    expect(cid_page.get_by_role("button", name="Manage Ben")).to_have_count(0)

    page = open_page()
    loaded: list[str] = []
    page.on("request", lambda request: loaded.append(request.url))
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    page.get_by_role("button", name="Members").click()
    panel = page.get_by_role("complementary", name="Members")
    expect(panel.locator(".member-name").filter(has_text="Ben")).to_be_visible()
    assert not any(url.endswith("/room-admin.js") for url in loaded)  # not before it is used

    panel.get_by_role("button", name="Manage Ben").click()
    actions = panel.get_by_role("group", name="Manage Ben")
    actions.get_by_role("button", name="Ban").click()
    actions.get_by_role("button", name="Yes, ban").click()
    expect(panel.locator(".member-name").filter(has_text="Ben")).to_have_count(0, timeout=FRAME_MS)
    expect(panel.locator(".member-name").filter(has_text="Cid")).to_be_visible()
    expect(cid_page.locator(".member-name").filter(has_text="Ben")).to_have_count(
        0, timeout=FRAME_MS
    )
    bans = live_server.api("GET", f"/api/rooms/{room_id}/bans", None, ana.token)["bans"]
    assert [user["username"] for user in bans] == [ben.username]


def test_the_owner_archives_a_room_and_gets_an_export_link_in_room_settings(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    room_id = live_server.create_room(ana.token, f"keep-{secrets.token_hex(3)}")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    ben_page = open_page()
    sign_in(ben_page, live_server, ben, f"/rooms/{room_id}")
    ben_page.get_by_role("button", name="Room settings").click()
    expect(ben_page.get_by_role("dialog", name="Room settings")).to_be_visible()
    expect(ben_page.get_by_role("link", name="Export history")).to_have_count(0)  # owners only

    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    page.get_by_role("button", name="Room settings").click()
    dialog = page.get_by_role("dialog", name="Room settings")
    link = dialog.get_by_role("link", name="Export history")
    expect(link).to_have_attribute("href", f"/api/rooms/{room_id}/export")
    expect(link).to_have_attribute("download", "")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith(f"-{room_id}.json")

    dialog.get_by_role("button", name="Archive room (read only)").click()
    expect(dialog.get_by_role("button", name="Unarchive room")).to_be_visible()
    expect(composer(ben_page)).to_be_disabled(timeout=FRAME_MS)
    dialog.get_by_role("button", name="Unarchive room").click()
    expect(composer(ben_page)).to_be_enabled(timeout=FRAME_MS)


def test_the_owner_makes_a_member_an_admin_from_the_members_panel(open_page, live_server) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    room_id = live_server.create_room(ana.token, f"roles-{secrets.token_hex(3)}")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    page.get_by_role("button", name="Members").click()
    panel = page.get_by_role("complementary", name="Members")
    panel.get_by_role("button", name="Manage Ben").click()
    panel.get_by_role("group", name="Manage Ben").get_by_role("button", name="Make admin").click()
    ben_row = panel.locator(".member").filter(has_text="Ben")
    expect(ben_row.locator(".role")).to_have_text("admin", timeout=FRAME_MS)
    members = live_server.api("GET", f"/api/rooms/{room_id}/members", None, ana.token)["members"]
    assert {m["username"]: m["role"] for m in members}[ben.username] == "admin"
