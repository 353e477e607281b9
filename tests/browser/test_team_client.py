"""Where I stopped reading, and running a room from the page (issue 9's web-client parts)."""

from __future__ import annotations

import re
import secrets
import urllib.error
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import make_person
from tests.browser.helpers import composer, delivered, open_room, room_tool, sign_in

pytestmark = pytest.mark.browser

FRAME_MS = 5000  # a frame from the server, on a busy machine


def _ana_ben_and_cid_in(live_server: Any, prefix: str) -> tuple[Any, Any, Any, int, str]:
    """Ana, Ben and Cid, and a new room of Ana's (``prefix``-random) that both others joined."""
    ana, ben, cid = (make_person(live_server, n, n.title()) for n in ("ana", "ben", "cid"))
    name = f"{prefix}-{secrets.token_hex(3)}"
    room_id = live_server.create_room(ana.token, name)
    for person in (ben, cid):
        live_server.api("POST", f"/api/rooms/{room_id}/join", None, person.token)
    return ana, ben, cid, room_id, name


def _ana_and_ben_in(live_server: Any, prefix: str) -> tuple[Any, Any, str]:
    """Ana, and Ben who joined a new room of Ana's (``prefix``-random)."""
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    room_id = live_server.create_room(ana.token, f"{prefix}-{secrets.token_hex(3)}")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    return ana, ben, room_id


def _room_settings(page: Any, live_server: Any, person: Any, room_id: str) -> Any:
    """Sign ``person`` in on ``page`` at the room, open its settings: the dialog."""
    sign_in(page, live_server, person, f"/rooms/{room_id}")
    page.get_by_role("button", name="Room settings").click()
    dialog = page.get_by_role("dialog", name="Room settings")
    expect(dialog).to_be_visible()
    return dialog


def _newest_message_reads(page: Any, body: str, author: str) -> None:
    """``body`` arrived in the room as its newest message, under ``author``'s name."""
    expect(delivered(page, body)).to_be_visible(timeout=FRAME_MS)
    newest = page.get_by_role("list", name="Messages").get_by_role("listitem").last
    expect(newest).to_contain_text(author)


def _confirm_removal(section: Any, button: str, yes: str, said: str) -> None:
    """Press ``button``, then ``yes`` when asked: the row goes, the status says ``said``."""
    section.get_by_role("button", name=button).click()
    section.get_by_role("button", name=yes).click()
    expect(section.get_by_role("listitem")).to_have_count(0)
    expect(section.get_by_role("status")).to_have_text(said)


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
    ana, ben, cid, room_id, name = _ana_ben_and_cid_in(live_server, "catch-up")
    live_server.create_room(ana.token, f"elsewhere-{secrets.token_hex(3)}")  # sign-in lands here
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
    ana, ben, cid, room_id, _ = _ana_ben_and_cid_in(live_server, "run")

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
    ana, ben, room_id = _ana_and_ben_in(live_server, "keep")
    ben_page = open_page()
    _room_settings(ben_page, live_server, ben, room_id)
    expect(ben_page.get_by_role("link", name="Export history")).to_have_count(0)  # owners only

    page = open_page()
    dialog = _room_settings(page, live_server, ana, room_id)
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


def test_the_owner_lifts_a_ban_in_room_settings_on_a_phone_and_the_person_joins_again(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    name = f"second-chance-{secrets.token_hex(3)}"
    room_id = live_server.create_room(ana.token, name)
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    ban = f"/api/rooms/{room_id}/members/{ben.user['id']}?ban=true"
    live_server.api("DELETE", ban, None, ana.token)

    ben_page = open_page()
    sign_in(ben_page, live_server, ben)
    ben_page.get_by_role("button", name="Browse public rooms").click()
    directory = ben_page.get_by_role("dialog", name="Browse public rooms")
    row = directory.get_by_role("listitem").filter(has_text=name)
    join = row.get_by_role("button", name="Join")
    join.click()
    expect(directory.get_by_text("You were banned from this room.")).to_be_visible()

    page = open_page(width=360, height=740, is_mobile=True, has_touch=True)
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    room_tool(page, "Room settings")  # folded into the header's menu on a phone
    dialog = page.get_by_role("dialog", name="Room settings")
    banned = dialog.get_by_role("region", name="Banned")
    expect(banned.get_by_role("listitem")).to_have_count(1)
    expect(banned.get_by_role("listitem")).to_contain_text(f"Ben @{ben.username}")
    lift = banned.get_by_role("button", name="Lift ban on Ben")
    lift.scroll_into_view_if_needed()  # below the person's own settings on a phone
    expect(lift).to_be_in_viewport()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    lift.tap()
    expect(banned.get_by_role("listitem")).to_have_count(0)
    expect(banned.get_by_role("status")).to_have_text("Ben can join again.")
    assert live_server.api("GET", f"/api/rooms/{room_id}/bans", None, ana.token)["bans"] == []

    join.click()  # the same Join button, pressed again
    expect(ben_page.get_by_role("heading", level=1)).to_have_text(f"# {name}")
    expect(composer(ben_page)).to_be_enabled()


def test_the_owner_hands_the_room_over_and_the_owner_controls_move_with_it(
    open_page, live_server
) -> None:
    ana, ben, cid, room_id, _ = _ana_ben_and_cid_in(live_server, "handover")

    ben_page = open_page()
    sign_in(ben_page, live_server, ben, f"/rooms/{room_id}")
    ben_page.get_by_role("button", name="Members").click()
    ben_panel = ben_page.get_by_role("complementary", name="Members")
    expect(ben_panel.locator(".member-name").filter(has_text="Ana")).to_be_visible()
    expect(ben_panel.get_by_role("button", name="Manage Ana")).to_have_count(0)

    page = open_page(width=360, height=740, is_mobile=True, has_touch=True)
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    room_tool(page, "Members")
    panel = page.get_by_role("complementary", name="Members")
    panel.get_by_role("button", name="Manage Ben").tap()
    actions = panel.get_by_role("group", name="Manage Ben")
    # Asked once more, and Cancel changes nothing.
    actions.get_by_role("button", name="Make owner", exact=True).tap()
    expect(actions.get_by_text("Make Ben the owner? You will become an admin.")).to_be_visible()
    actions.get_by_role("button", name="Cancel").tap()
    expect(actions.get_by_role("button", name="Yes, make owner")).to_be_hidden()
    actions.get_by_role("button", name="Make owner", exact=True).tap()
    actions.get_by_role("button", name="Yes, make owner").tap()

    ben_row, ana_row = (panel.locator(".member").filter(has_text=who) for who in ("Ben", "Ana"))
    expect(ben_row.locator(".role")).to_have_text("owner", timeout=FRAME_MS)
    expect(ana_row.locator(".role")).to_have_text("admin")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    # The old owner is an admin now: nothing to do about the owner, no roles to give.
    expect(panel.get_by_role("button", name="Manage Ben")).to_have_count(0)
    panel.get_by_role("button", name="Manage Cid").tap()
    cid_actions = panel.get_by_role("group", name="Manage Cid")
    expect(cid_actions.get_by_role("button", name="Remove")).to_be_visible()
    expect(cid_actions.get_by_role("button", name=re.compile("^Make"))).to_have_count(0)
    panel.get_by_role("button", name="Close members").tap()
    room_tool(page, "Room settings")
    settings = page.get_by_role("dialog", name="Room settings")
    expect(settings.get_by_role("region", name="Banned")).to_be_visible()  # admins still see bans
    expect(settings.get_by_role("button", name=re.compile("Archive"))).to_have_count(0)

    # The new owner's open panel follows without a reload, with the owner's controls.
    expect(ben_panel.locator(".member").filter(has_text="Ben").locator(".role")).to_have_text(
        "owner", timeout=FRAME_MS
    )
    ben_panel.get_by_role("button", name="Manage Ana").click()
    ana_actions = ben_panel.get_by_role("group", name="Manage Ana")
    expect(ana_actions.get_by_role("button", name="Make member")).to_be_visible()
    expect(ana_actions.get_by_role("button", name="Make owner", exact=True)).to_be_visible()
    ben_panel.get_by_role("button", name="Close members").click()
    ben_page.get_by_role("button", name="Room settings").click()
    ben_settings = ben_page.get_by_role("dialog", name="Room settings")
    expect(ben_settings.get_by_role("button", name="Archive room (read only)")).to_be_visible()

    members = live_server.api("GET", f"/api/rooms/{room_id}/members", None, ana.token)["members"]
    roles = {m["username"]: m["role"] for m in members}
    assert roles == {ana.username: "admin", ben.username: "owner", cid.username: "member"}


def test_the_owner_creates_a_webhook_that_posts_into_the_room_and_then_deletes_it(
    open_page, live_server
) -> None:
    ana, ben, room_id = _ana_and_ben_in(live_server, "hooks")
    ben_page = open_page()
    ben_settings = _room_settings(ben_page, live_server, ben, room_id)
    expect(ben_settings.get_by_role("region", name="Webhooks")).to_have_count(0)  # members
    ben_settings.get_by_role("button", name="Close").click()

    page = open_page()
    hooks = _room_settings(page, live_server, ana, room_id).get_by_role("region", name="Webhooks")
    expect(hooks.get_by_role("status")).to_have_text("No webhooks yet.")
    hooks.get_by_label("New webhook: posts appear as").fill("Build status")
    hooks.get_by_role("button", name="Create webhook").click()
    url = hooks.get_by_label("Webhook URL")
    expect(url).to_be_visible()
    expect(hooks.get_by_role("listitem")).to_have_text(re.compile("Build status"))
    hook = urlsplit(url.input_value())
    assert f"{hook.scheme}://{hook.netloc}" == live_server.url
    assert hook.path.startswith("/api/hooks/")

    # What a script posts there reaches everyone in the room, under the webhook's name.
    live_server.api("POST", hook.path, {"text": "build 42 passed"})
    _newest_message_reads(ben_page, "build 42 passed", "Build status")

    _confirm_removal(
        hooks,
        "Delete webhook Build status",
        "Yes, delete",
        "Deleted Build status: its URL no longer works.",
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        live_server.api("POST", hook.path, {"text": "too late"})
    assert refused.value.code == 404


def test_i_create_a_bot_in_account_settings_that_posts_with_its_token_then_disable_it(
    open_page, live_server
) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, f"bots-{secrets.token_hex(3)}")
    bot_name = f"ci-{secrets.token_hex(3)}"
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    page.get_by_role("button", name="Account settings").click()
    bots = page.get_by_role("dialog", name="Account").get_by_role("region", name="Bots")
    expect(bots.get_by_role("status")).to_have_text("No bots yet.")
    bots.get_by_label("Bot username").fill(bot_name)
    bots.get_by_label("Name shown in chat (optional)").fill("CI Bot")
    bots.get_by_role("button", name="Create bot").click()
    token_field = bots.get_by_label("Bot token")
    expect(token_field).to_be_visible()
    expect(bots.get_by_role("listitem")).to_have_text(re.compile(f"CI Bot @{bot_name}"))
    token = token_field.input_value()

    # The token works as the bot's API key: in the room, its message shows under its name.
    live_server.api("POST", f"/api/rooms/{room_id}/members", {"username": bot_name}, ana.token)
    live_server.post(token, room_id, "tests are green")
    _newest_message_reads(page, "tests are green", "CI Bot")

    disabled = "CI Bot is disabled: its token no longer works."
    _confirm_removal(bots, "Disable CI Bot", "Yes, disable", disabled)
    with pytest.raises(urllib.error.HTTPError) as refused:
        live_server.post(token, room_id, "still here?")
    assert refused.value.code == 401
