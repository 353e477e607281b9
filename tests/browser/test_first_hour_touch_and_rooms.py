"""Issue 21 (part A): what tripped a new user up in the first hour, as they see it now.

A phone header that keeps the room's name, an action sheet on touch screens, a draft
per room, the full picker and who reacted, notes to self, leaving a room, and my
sessions one by one. (Two-factor's prompt and a just-used code: test_auth.py; recovery
codes' Copy and Download: test_twofactor.py.)
"""

from __future__ import annotations

import secrets
import urllib.error

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, ParleyProcess, Person, make_person
from tests.browser.helpers import composer, delivered, open_room, send, sign_in

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844, "is_mobile": True, "has_touch": True}
CLIPBOARD = {"permissions": ["clipboard-read", "clipboard-write"]}
FRAME_MS = 5000  # a frame from the server, on a busy machine


def room_with(server: ParleyProcess, owner: Person, *others: Person, **kw: str) -> str:
    room_id = server.create_room(owner.token, kw.pop("name", f"r-{secrets.token_hex(3)}"), **kw)
    for other in others:
        body = {"username": other.username}
        server.api("POST", f"/api/rooms/{room_id}/members", body, owner.token)
    return room_id


def message_item(page: Page, text: str):
    return page.locator("ol.messages:not(.pending) li.msg").filter(has_text=text)


def long_press(page: Page, text: str) -> None:
    """Hold a finger on a message until its action sheet shows, then lift it."""
    # The message may be drawn again (an edit's frame, a preview) between finding and
    # measuring it: measure the one that is there, as a finger would.
    for _ in range(20):
        box = delivered(page, text).bounding_box()
        if box is not None:
            break
        page.wait_for_timeout(100)
    assert box is not None
    point = [{"x": box["x"] + 10, "y": box["y"] + box["height"] / 2}]
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point})
    try:
        expect(page.get_by_role("dialog", name="Message actions")).to_be_visible()
    finally:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})


def test_on_a_phone_the_header_keeps_the_room_name_and_folds_its_tools(
    open_page, live_server
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    room_id = room_with(
        live_server, ana, ben, name="garden-plans", topic="Everything about the garden"
    )
    live_server.post(ben.token, room_id, "Tomatoes are ripe!")
    page = open_page(**PHONE)
    sign_in(page, live_server, ana, f"/rooms/{room_id}")

    title = page.get_by_role("heading", level=1)
    expect(title).to_have_text("# garden-plans")
    # Readable: the name is drawn whole, not cut to "# g…".
    assert title.evaluate("el => el.scrollWidth <= el.clientWidth")
    assert page.get_by_text("Everything about the garden").evaluate(
        "el => el.scrollWidth <= el.clientWidth"
    )
    expect(page.get_by_role("searchbox", name="Search messages")).to_be_hidden()
    expect(page.get_by_role("button", name="Members (2)")).to_be_hidden()
    expect(page.get_by_role("button", name="Room settings")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll

    tools = page.get_by_role("button", name="Room tools")
    tools.tap()
    expect(tools).to_have_attribute("aria-expanded", "true")
    menu = page.locator("#room-more")
    expect(menu.get_by_role("button")).to_have_text(
        ["Search messages", "Threads", "Room settings", "Members (2)"]
    )
    menu.get_by_role("button", name="Members (2)").tap()
    members = page.get_by_role("complementary", name="Members")
    expect(members.get_by_text("Ben", exact=True)).to_be_visible()
    members.get_by_role("button", name="Close members").tap()

    tools.tap()
    menu.get_by_role("button", name="Search messages").tap()
    search = page.get_by_role("searchbox", name="Search messages")
    expect(search).to_be_focused()
    search.fill("tomatoes")
    search.press("Enter")
    expect(page.get_by_role("list", name="Search results")).to_contain_text("Tomatoes are ripe!")
    assert title.evaluate("el => el.scrollWidth <= el.clientWidth")  # still whole
    page.screenshot(path="/tmp/parley-21a/phone-search-after.png")


def test_a_long_press_or_a_tap_on_a_message_opens_its_action_sheet(open_page, live_server) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    room_id = room_with(live_server, ben, ana)  # Ben's room: I am a plain member
    live_server.post(ben.token, room_id, "Ben's **plan** for Friday")
    page = open_page(**PHONE, **CLIPBOARD)
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    send(page, "My own note")
    expect(delivered(page, "My own note")).to_be_visible()

    # Someone else's message: react, reply, copy; not edit or delete.
    long_press(page, "Ben's plan for Friday")
    sheet = page.get_by_role("dialog", name="Message actions")
    expect(sheet.get_by_role("button", name="Reply")).to_be_visible()
    expect(sheet.get_by_role("button", name="Edit")).to_have_count(0)
    expect(sheet.get_by_role("button", name="Delete")).to_have_count(0)
    sheet.get_by_role("button", name="Copy text").tap()
    expect(sheet.get_by_role("status")).to_have_text("Copied.")
    assert page.evaluate("navigator.clipboard.readText()") == "Ben's **plan** for Friday"
    sheet.get_by_role("button", name="React with 🎉").tap()
    expect(sheet).to_be_hidden()
    expect(message_item(page, "Ben's plan").get_by_role("button", name="🎉 1")).to_be_visible(
        timeout=FRAME_MS
    )

    # A tap on the text opens it too, and it says who reacted.
    delivered(page, "Ben's plan for Friday").tap()
    expect(sheet.get_by_role("list", name="Who reacted")).to_have_text("You reacted with 🎉")
    sheet.get_by_role("button", name="Reply").tap()
    expect(page.get_by_role("status").filter(has_text="Replying to Ben")).to_be_visible()

    # My own message: edit and delete too, the delete asked once more.
    long_press(page, "My own note")
    sheet.get_by_role("button", name="Edit").tap()
    editor = page.get_by_role("textbox", name="Edit message")
    editor.fill("My own note, edited")
    editor.press("Enter")
    expect(delivered(page, "My own note, edited")).to_be_visible(timeout=FRAME_MS)
    long_press(page, "My own note, edited")
    sheet.get_by_role("button", name="Delete").tap()
    expect(sheet.get_by_text("Delete this message?")).to_be_visible()
    sheet.get_by_role("button", name="Delete").tap()
    expect(message_item(page, "This message was deleted.")).to_be_visible(timeout=FRAME_MS)
    # The browser's own long-press menu and text selection stay out of the way.
    assert page.evaluate("String(window.getSelection())") == ""


def test_each_room_keeps_its_own_draft_across_rooms_and_reloads(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    garden = room_with(live_server, ana, name=f"garden-{secrets.token_hex(2)}")
    kitchen_name = f"kitchen-{secrets.token_hex(2)}"
    room_with(live_server, ana, name=kitchen_name)
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{garden}")
    composer(page).fill("half a thought about the garden")

    open_room(page, kitchen_name)
    expect(composer(page)).to_have_value("")  # nothing follows me into the next room
    composer(page).fill("kitchen idea")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text("garden")
    expect(composer(page)).to_have_value("half a thought about the garden")

    page.reload()
    expect(composer(page)).to_have_value("half a thought about the garden")
    composer(page).press("Enter")  # sent: the draft goes with it
    expect(delivered(page, "half a thought about the garden")).to_be_visible()
    open_room(page, kitchen_name)
    expect(composer(page)).to_have_value("kitchen idea")
    page.reload()
    expect(composer(page)).to_have_value("kitchen idea")
    page.go_back()
    expect(page.get_by_role("heading", level=1)).to_contain_text("garden")
    expect(composer(page)).to_have_value("")


def test_reactions_offer_the_full_picker_and_say_who_reacted(open_page, live_server) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    room_id = room_with(live_server, ana, ben)
    message = live_server.post(ben.token, room_id, "Tomatoes are ripe!")
    live_server.api("PUT", f"/api/messages/{message['id']}/reactions/%F0%9F%91%8D", None, ben.token)
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    item = message_item(page, "Tomatoes are ripe!")

    thumbs = item.get_by_role("button", name="👍 1")
    thumbs.hover()
    expect(page.get_by_role("tooltip")).to_have_text("Ben reacted with 👍")

    item.hover()
    add = item.get_by_role("button", name="Add reaction")
    add.click()
    expect(item.get_by_role("group", name="Pick a reaction")).to_be_visible()
    add.click()  # pressed again: the whole picker, not a closed strip
    picker = page.get_by_role("dialog", name="Emoji picker")
    expect(picker).to_be_visible()
    picker.get_by_role("searchbox", name="Search emoji").fill("avocado")
    picker.get_by_role("gridcell", name="avocado").click()
    expect(item.get_by_role("button", name="🥑 1, including you")).to_be_visible(timeout=FRAME_MS)
    expect(composer(page)).to_have_value("")  # it reacted; nothing went into my message

    item.hover()
    item.get_by_role("button", name="Add reaction").click()
    item.get_by_role("button", name="More emoji").click()
    expect(picker).to_be_visible()
    picker.get_by_role("searchbox", name="Search emoji").fill("thumbs up")
    picker.get_by_role("gridcell", name="thumbs up").first.click()
    thumbs = item.get_by_role("button", name="👍 2, including you")
    expect(thumbs).to_be_visible(timeout=FRAME_MS)
    thumbs.hover()
    expect(page.get_by_role("tooltip")).to_have_text("You and Ben reacted with 👍")


def test_a_direct_message_with_myself_is_notes_to_self(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    live_server.api("POST", "/api/dms", {"username": ana.username}, ana.token)
    page = open_page()
    sign_in(page, live_server, ana)
    link = page.get_by_role("link", name="Notes to self")
    expect(link).to_have_text("Notes to self")
    expect(link.locator("svg[data-icon=pencil]")).to_have_count(1)
    expect(link.locator(".presence")).to_have_count(0)  # no hollow "offline" dot for me
    link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Notes to self")
    expect(composer(page)).to_have_attribute("placeholder", "Write a note to yourself")
    send(page, "buy seeds")
    expect(delivered(page, "buy seeds")).to_be_visible()
    expect(page).to_have_title("Notes to self · Parley")


def test_leaving_a_room_from_its_settings(open_page, live_server) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    name = f"book-club-{secrets.token_hex(2)}"
    room_id = room_with(live_server, ana, ben, name=name)
    page = open_page()
    sign_in(page, live_server, ben, f"/rooms/{room_id}")
    page.get_by_role("button", name="Room settings").click()
    settings = page.get_by_role("dialog", name="Room settings")
    settings.get_by_role("button", name="Leave room").click()
    expect(settings.get_by_text("Leave this room? You can join again")).to_be_visible()
    settings.get_by_role("button", name="Leave", exact=True).click()
    expect(settings).to_be_hidden()
    expect(page.get_by_role("link", name=name)).to_have_count(0)
    expect(page.get_by_role("heading", level=1)).not_to_contain_text(name)
    with pytest.raises(urllib.error.HTTPError) as gone:
        live_server.api("GET", f"/api/rooms/{room_id}/messages", None, ben.token)
    assert gone.value.code == 404

    # The owner of a room others are in hands it over first: no button that strands it.
    owner = open_page()
    sign_in(owner, live_server, ana, f"/rooms/{room_id}")
    cy = make_person(live_server, "cy")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, cy.token)
    owner.reload()
    owner.get_by_role("button", name="Room settings").click()
    own = owner.get_by_role("dialog", name="Room settings")
    expect(own.get_by_text("You own this room.")).to_be_visible()
    expect(own.get_by_role("button", name="Leave room")).to_have_count(0)


def test_my_sessions_are_listed_and_signed_out_one_by_one(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")  # signed up over HTTP: one other session
    phone = live_server.api(
        "POST", "/api/auth/login", {"username": ana.username, "password": PASSWORD}
    )
    page = open_page(user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko Firefox/128.0")
    sign_in(page, live_server, ana)
    page.get_by_role("button", name="Account settings").click()
    sessions = page.get_by_role("region", name="Sessions")
    rows = sessions.get_by_role("list", name="Signed-in devices").get_by_role("listitem")
    expect(rows).to_have_count(3)
    this = rows.filter(has_text="This device")
    expect(this).to_have_count(1)
    expect(this).to_contain_text("Firefox on Linux")
    expect(this).to_contain_text("127.0.0.1")
    expect(this).to_contain_text("Signed in")
    expect(this).to_contain_text("Last active")
    expect(this.get_by_role("button")).to_have_count(0)  # this one: "Sign out" below

    others = rows.filter(has_not_text="This device")
    expect(others).to_have_count(2)
    others.first.get_by_role("button", name="Sign out").click()
    expect(rows).to_have_count(2)
    expect(sessions.get_by_role("status")).to_contain_text("is signed out.")
    # Exactly one of the two others ended; my session here goes on.
    alive = 0
    for token in (ana.token, phone["token"]):
        try:
            live_server.api("GET", "/api/me", None, token)
            alive += 1
        except urllib.error.HTTPError as err:
            assert err.code == 401
    assert alive == 1
    page.reload()
    expect(page.get_by_role("button", name="Account settings")).to_have_text("Ana")
