"""Two people chat in real Chromium: sign-up, rooms, live delivery, safety, phones."""

from __future__ import annotations

import re
import secrets
from typing import Any

import pytest
from playwright.sync_api import Page, Route, expect

from tests.browser.conftest import PASSWORD, ParleyProcess, make_person, screenshot
from tests.browser.helpers import (
    LIVE_MS,
    composer,
    delivered,
    send,
    sign_in,
    sign_up,
    wait_online,
)

pytestmark = pytest.mark.browser


def create_room(page: Page, name: str, private: bool = False, topic: str = "") -> None:
    page.get_by_role("button", name="New room").click()
    dialog = page.get_by_role("dialog", name="New room")
    dialog.get_by_label("Name").fill(name)
    if topic:
        dialog.get_by_label("Topic").fill(topic)
    if private:
        dialog.get_by_label("Private").check()
    dialog.get_by_role("button", name="Create room").click()
    heading = f"{name} (private)" if private else f"# {name}"  # a lock, not "#" (issue 21)
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)


def invite(page: Page, username: str) -> None:
    page.get_by_role("button", name=re.compile("^Members")).click()
    page.get_by_role("button", name="Add people").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Username").fill(username)
    dialog.get_by_role("button", name="Add to room").click()
    expect(dialog).to_be_hidden()


def test_two_people_sign_up_invite_and_chat_live(open_page, live_server: ParleyProcess) -> None:
    suffix = secrets.token_hex(3)
    ana, ben = open_page(), open_page()
    sign_up(ana, live_server, f"ana{suffix}", "Ana Lima")
    sign_up(ben, live_server, f"ben{suffix}", "Ben Okafor")

    create_room(ana, f"plans-{suffix}", private=True, topic="Weekend trip")
    expect(ana.get_by_text("Weekend trip")).to_be_visible()
    invite(ana, f"ben{suffix}")
    expect(ana.locator(".member-name", has_text="Ben Okafor")).to_be_visible()

    # Ben was added while his page was open: the room shows up without a reload.
    ben_room = ben.get_by_role("link", name=re.compile(f"plans-{suffix}"))
    expect(ben_room).to_be_visible(timeout=5000)
    ben_room.click()
    # A private room: the lock of the sidebar in the header too (issue 21, was "#").
    expect(ben.get_by_role("heading", level=1)).to_have_text(f"plans-{suffix} (private)")
    expect(ben.get_by_role("heading", level=1).locator('svg[data-icon="lock"]')).to_be_visible()

    send(ana, "Hi Ben! Train at **9:30**?")
    expect(delivered(ben, "Hi Ben! Train at 9:30?")).to_be_visible(timeout=LIVE_MS)
    expect(ben.locator(".msg-body strong", has_text="9:30")).to_be_visible()
    expect(ben.locator(".author", has_text="Ana Lima")).to_be_visible()

    # Typing indicator, then the reply comes back just as fast.
    composer(ben).press_sequentially("Sounds")
    expect(ana.get_by_text("Ben Okafor is typing…")).to_be_visible(timeout=LIVE_MS * 2)
    composer(ben).fill("Sounds good.\nI'll bring snacks")  # Shift+Enter keeps lines
    composer(ben).press("Enter")
    expect(delivered(ana, "Sounds good.")).to_be_visible(timeout=LIVE_MS)
    expect(ana.get_by_text("Ben Okafor is typing…")).to_be_hidden()

    send(ana, "Perfect")
    send(ana, "See you there")
    expect(delivered(ben, "See you there")).to_be_visible(timeout=LIVE_MS)
    # Consecutive messages from one person share one header.
    headers = ben.locator("ol.messages .msg:not(.grouped) .author", has_text="Ana Lima")
    expect(headers).to_have_count(2)
    expect(ben.locator(".day-sep", has_text="Today")).to_have_count(1)

    assert ana.errors == []  # type: ignore[attr-defined]
    assert ben.errors == []  # type: ignore[attr-defined]
    screenshot(ana, "chat")


def test_composer_shift_enter_adds_a_line_and_enter_sends(open_page, live_server) -> None:
    ana = make_person(live_server, "ana")
    room_id = live_server.create_room(ana.token, "lines")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    box = composer(page)
    box.press_sequentially("first line")
    box.press("Shift+Enter")
    box.press_sequentially("second line")
    expect(box).to_have_value("first line\nsecond line")
    box.press("Enter")
    expect(delivered(page, "second line")).to_be_visible()
    expect(box).to_have_value("")


def test_unread_counts_and_directory(open_page, own_server) -> None:
    # Its own server: the shared one's directory may already be full of other tests' rooms.
    live_server = own_server
    ana, ben = make_person(live_server, "ana"), make_person(live_server, "ben")
    name = f"lobby-{secrets.token_hex(2)}"
    room_id = live_server.create_room(ana.token, name)
    page = open_page()
    sign_in(page, live_server, ben)
    page.get_by_role("button", name="Browse public rooms").click()
    dialog = page.get_by_role("dialog", name="Browse public rooms")
    dialog.locator("li", has_text=name).get_by_role("button", name="Join").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"# {name}")

    # Ben moves to another room; Ana's messages in the lobby show up as unread.
    other_id = live_server.create_room(ben.token, "zz-quiet")
    page.goto(f"{live_server.url}/rooms/{other_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text("# zz-quiet")
    for text in ("one", "two", "three"):
        live_server.post(ana.token, room_id, text)
    expect(page.get_by_role("link", name=f"{name}, 3 unread")).to_be_visible()
    page.get_by_role("link", name=re.compile(name)).click()
    expect(delivered(page, "three")).to_be_visible()
    expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()


def test_a_message_arriving_while_the_room_list_reloads_still_counts(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana"), make_person(live_server, "ben")
    lobby = live_server.create_room(ana.token, f"lobby-{secrets.token_hex(2)}")
    live_server.api("POST", f"/api/rooms/{lobby}/members", {"username": ben.username}, ana.token)
    quiet = live_server.create_room(ben.token, f"quiet-{secrets.token_hex(2)}")
    page = open_page()
    sign_in(page, live_server, ben)
    page.goto(f"{live_server.url}/rooms/{quiet}")
    live_server.post(ana.token, lobby, "one")
    lobby_link = page.get_by_role("link", name=re.compile(r"^lobby-.*1 unread"))
    expect(lobby_link).to_be_visible()

    posted: list[dict[str, Any]] = []

    def late_list(route: Route) -> None:
        # The list is read, then a message is stored and reaches the page before the
        # list does: the list's count was taken without it. Once: the page may read its
        # list more than once, and each "two" more would rightly count.
        stale = route.fetch()
        if not posted:
            posted.append(live_server.post(ana.token, lobby, "two"))
            page.wait_for_timeout(500)
        route.fulfill(response=stale)

    page.route("**/api/rooms", late_list)
    # Being added to a room makes the page read its list again.
    extra = live_server.create_room(ana.token, f"extra-{secrets.token_hex(2)}", "private")
    live_server.api("POST", f"/api/rooms/{extra}/members", {"username": ben.username}, ana.token)
    expect(page.get_by_role("link", name=re.compile(r"^extra-"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile(r"^lobby-.*2 unread"))).to_be_visible()


def test_messages_that_come_while_a_room_s_history_loads_join_it(open_page, live_server) -> None:
    ana, ben = make_person(live_server, "ana", "Ana Lima"), make_person(live_server, "ben")
    room = live_server.create_room(ana.token, f"slow-{secrets.token_hex(2)}")
    live_server.api("POST", f"/api/rooms/{room}/members", {"username": ben.username}, ana.token)
    live_server.post(ben.token, room, "before the page")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room}")

    held: list[tuple[Route, Any]] = []
    released: list[bool] = []

    def read_now_answer_later(route: Route) -> None:
        # The newest page is read at once and reaches the page only after what follows:
        # a slow network between a database read and the screen.
        if released:
            route.continue_()
        else:
            held.append((route, route.fetch()))

    page.route(f"**/api/rooms/{room}/messages?*", read_now_answer_later)
    page.reload()
    expect(composer(page)).to_be_visible()
    wait_online(page)
    send(page, "mine, while it loads")
    expect(page.locator("ol.messages.pending .msg-body")).to_have_count(0)  # acked
    live_server.post(ben.token, room, "his, while it loads")
    expect(page.locator("#announcer")).to_contain_text("his, while it loads")  # delivered
    assert held, "the page asked for the room's history"
    released.append(True)
    for route, page_read_earlier in held:
        route.fulfill(response=page_read_earlier)

    bodies = page.locator("ol.messages:not(.pending) .msg-body")
    expect(bodies).to_have_text(["before the page", "mine, while it loads", "his, while it loads"])
    page.unroute(f"**/api/rooms/{room}/messages?*")
    page.reload()  # what the server holds: the same three, once each
    expect(bodies).to_have_text(["before the page", "mine, while it loads", "his, while it loads"])


def test_typed_html_is_shown_as_text_and_never_runs(open_page, live_server) -> None:
    ana, ben = make_person(live_server, "ana"), make_person(live_server, "ben")
    room_id = live_server.create_room(ana.token, "xss")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    ana_page, ben_page = open_page(), open_page()
    sign_in(ana_page, live_server, ana, f"/rooms/{room_id}")
    sign_in(ben_page, live_server, ben, f"/rooms/{room_id}")

    attacks = [
        "<img src=x onerror=alert(1)>",
        "<script>alert(2)</script>",
        "[click](javascript:alert(3)) javascript:alert(4)",
        "**<b onmouseover=alert(5)>bold</b>**",
    ]
    for text in attacks:
        send(ana_page, text)
    expect(delivered(ben_page, "<img src=x onerror=alert(1)>")).to_be_visible(timeout=LIVE_MS)
    expect(delivered(ben_page, "<script>alert(2)</script>")).to_be_visible()
    bold = ben_page.locator(".msg-body strong", has_text="<b onmouseover=alert(5)>bold</b>")
    expect(bold).to_be_visible()
    for page in (ana_page, ben_page):
        bodies = page.locator("ol.messages .msg-body")
        expect(bodies.locator("img, script, b, [onerror], [onmouseover]")).to_have_count(0)
        expect(bodies.locator("a[href^='javascript']")).to_have_count(0)
        page.locator(".msg-body", has_text="bold").hover()
        assert page.errors == []  # type: ignore[attr-defined]


def test_links_open_safely_and_code_is_kept_verbatim(open_page, live_server) -> None:
    ana = make_person(live_server, "ana")
    room_id = live_server.create_room(ana.token, "md")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    send(page, "docs at https://example.com/a?b=1 and `x < y` *nice*")
    send(page, "```\nif a < b:\n    print('<tag>')\n```")
    link = page.get_by_role("link", name="https://example.com/a?b=1")
    expect(link).to_have_attribute("target", "_blank")
    expect(link).to_have_attribute("rel", "noopener noreferrer")
    expect(page.locator(".msg-body code", has_text="x < y")).to_be_visible()
    expect(page.locator(".msg-body em", has_text="nice")).to_be_visible()
    expect(page.locator(".msg-body pre")).to_contain_text("print('<tag>')")


def test_phone_sized_viewport_signs_in_opens_a_room_and_sends(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana Lima")
    live_server.create_room(ana.token, "aaa-first")
    live_server.create_room(ana.token, "mobile", topic="On the go")
    page = open_page(width=360, height=740, is_mobile=True, has_touch=True)
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(ana.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()

    # The sidebar is folded away behind the menu button on a phone.
    sidebar = page.get_by_role("complementary", name="Rooms and people")
    expect(sidebar).to_be_hidden()
    page.get_by_role("button", name="Rooms menu").tap()
    expect(sidebar).to_be_visible()
    expect(sidebar.get_by_role("link", name="mobile")).to_be_visible()  # rooms loaded
    screenshot(page, "phone-menu")
    page.get_by_role("link", name="mobile").tap()
    expect(sidebar).to_be_hidden()
    expect(page.get_by_role("heading", level=1)).to_have_text("# mobile")
    send(page, "Sent from my phone 📱")
    expect(delivered(page, "Sent from my phone 📱")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # no sideways scroll
    screenshot(page, "phone")


def test_direct_message_shows_presence_and_arrives_live(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana Lima")
    ben = make_person(live_server, "ben", "Ben Okafor")
    ana_page, ben_page = open_page(), open_page()
    sign_in(ana_page, live_server, ana)
    sign_in(ben_page, live_server, ben)

    ana_page.get_by_role("button", name="New direct message").click()
    dialog = ana_page.get_by_role("dialog", name="New direct message")
    dialog.get_by_label("Username").fill(ben.username)
    dialog.get_by_role("button", name="Open conversation").click()
    expect(ana_page.get_by_role("heading", level=1)).to_have_text("Ben Okafor")
    # Ben is signed in, so his dot in Ana's sidebar is green.
    expect(ana_page.get_by_role("link", name="Ben Okafor (online)")).to_be_visible()

    send(ana_page, "Got a minute?")
    dm_link = ben_page.get_by_role("link", name=re.compile("^Ana Lima"))
    expect(dm_link).to_be_visible(timeout=5000)
    expect(dm_link).to_have_accessible_name(re.compile("1 unread"))
    dm_link.click()
    expect(delivered(ben_page, "Got a minute?")).to_be_visible()
    expect(dm_link).to_have_accessible_name("Ana Lima (online)")

    ben_page.close()  # Ben leaves: Ana's page shows him offline
    expect(ana_page.get_by_role("link", name="Ben Okafor (offline)")).to_be_visible(timeout=5000)


def test_a_menu_opened_while_rooms_load_stays_open(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    live_server.create_room(ana.token, "slow-lane")
    page = open_page(width=360, height=740, is_mobile=True, has_touch=True)
    sign_in(page, live_server, ana)

    held: list[Route] = []

    def hold(route: Route) -> None:
        held.append(route)  # a slow network: the room list waits until we let it go

    page.route("**/api/rooms", hold)
    page.reload()
    page.get_by_role("button", name="Rooms menu").tap()
    sidebar = page.get_by_role("complementary", name="Rooms and people")
    expect(sidebar).to_be_visible()
    for route in held:
        route.continue_()
    expect(sidebar.get_by_role("link", name="slow-lane")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("# slow-lane")
    expect(sidebar).to_be_visible()  # opening the first room didn't close it
