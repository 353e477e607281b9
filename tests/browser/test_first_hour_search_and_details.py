"""Issue 21 (part B): what tripped a new user up in the first hour, as they see it now.

Search that gets out of the way, "Jump to latest", and the small things: cards beside
images, archive/export, queued messages, private rooms, rooms I can't open, username
rules, a quiet console, and icons that need no emoji font.
"""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import ConsoleMessage, Page, Response, expect

from tests.browser.conftest import ParleyProcess, Person, make_person, screenshot
from tests.browser.helpers import composer, delivered, open_room, send, sign_in
from tests.files_support import pdf, png

pytestmark = pytest.mark.browser

FRAME_MS = 5000  # a frame or a search answer, on a busy machine
UPLOAD_MS = 15_000
RECONNECT_MS = 20_000


def search(page: Page, words: str) -> None:
    box = page.get_by_role("searchbox", name="Search messages")
    box.fill(words)
    box.press("Enter")


def timeline_width(page: Page) -> float:
    box = page.get_by_label("Message history").bounding_box()
    assert box is not None
    return float(box["width"])


def attach(page: Page, files: list[dict[str, object]], caption: str) -> None:
    page.locator("input.file-input").set_input_files(files)  # type: ignore[arg-type]
    tray = page.get_by_role("list", name="Files to send")
    expect(tray.locator(".attachment-item.done")).to_have_count(len(files), timeout=UPLOAD_MS)
    send(page, caption)
    expect(tray).to_be_hidden()


# -- search -------------------------------------------------------------------------


def test_search_results_sit_over_the_timeline_and_go_when_the_box_is_cleared(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana Lima")
    first = live_server.create_room(ana.token, f"first-{secrets.token_hex(3)}")
    second = f"second-{secrets.token_hex(3)}"
    live_server.create_room(ana.token, second)
    live_server.post(ana.token, first, "Nothing to find here")
    page = open_page(width=1280, height=800)
    sign_in(page, live_server, ana, f"/rooms/{first}")
    before = timeline_width(page)

    search(page, f"nowhere{secrets.token_hex(4)}")
    pane = page.get_by_role("region", name="Search")
    expect(pane.get_by_text("No messages found.")).to_be_visible(timeout=FRAME_MS)
    # The pane lies over the messages: the timeline keeps its width.
    assert timeline_width(page) >= before - 1
    assert before > 900
    screenshot(page, "21b-search-pane")

    page.get_by_role("searchbox", name="Search messages").fill("")
    expect(pane).to_be_hidden()

    search(page, f"nowhere{secrets.token_hex(4)}")
    expect(pane.get_by_text("No messages found.")).to_be_visible(timeout=FRAME_MS)
    open_room(page, second)
    expect(pane).to_be_hidden()
    expect(page.get_by_text("No messages found.")).to_have_count(0)


def test_search_shows_markdown_as_messages_do_finds_file_names_and_word_stems(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana Lima")
    tag = f"harbour{secrets.token_hex(3)}"
    room_id = live_server.create_room(ana.token, f"photos-{secrets.token_hex(3)}")
    live_server.post(ana.token, room_id, f"A **neat** picture of the {tag}")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    name = f"budget-{tag}.pdf"
    attach(page, [{"name": name, "mimeType": "application/pdf", "buffer": pdf()}], "the numbers")
    expect(delivered(page, "the numbers")).to_be_visible(timeout=FRAME_MS)

    search(page, f"pictures {tag}")  # "pictures" finds "picture"
    results = page.get_by_role("list", name="Search results")
    hit = results.get_by_role("button").filter(has_text="picture")
    expect(hit).to_have_count(1, timeout=FRAME_MS)
    expect(hit.locator("strong")).to_have_text("neat")
    expect(hit).not_to_contain_text("**")
    expect(hit.locator("mark").first).to_have_text("picture")
    screenshot(page, "21b-search-markdown")

    search(page, f"budget {tag}")  # words of a file's name
    hit = results.get_by_role("button").filter(has_text="the numbers")
    expect(hit).to_have_count(1, timeout=FRAME_MS)
    expect(hit).to_contain_text(name)
    expect(hit.locator("mark").first).to_have_text("budget")


# -- scrolled up ----------------------------------------------------------------------


def test_scrolled_up_new_messages_are_counted_on_a_jump_to_latest_button(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    room_id = live_server.create_room(ana.token, f"busy-{secrets.token_hex(3)}")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    for i in range(40):
        live_server.post(ana.token, room_id, f"earlier {i}")
    page = open_page(width=1280, height=700)
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    expect(delivered(page, "earlier 39")).to_be_visible()
    jump = page.get_by_role("button", name="Jump to latest")
    expect(jump).to_be_hidden()

    page.get_by_label("Message history").evaluate("el => { el.scrollTop = 0; }")
    expect(delivered(page, "earlier 39")).not_to_be_in_viewport()
    live_server.post(ben.token, room_id, "news one")
    live_server.post(ben.token, room_id, "news two")
    expect(jump).to_be_visible(timeout=FRAME_MS)
    expect(jump).to_have_text("Jump to latest (2 new)")
    screenshot(page, "21b-jump-to-latest")

    jump.click()
    expect(delivered(page, "news two")).to_be_in_viewport()
    expect(jump).to_be_hidden()
    # At the bottom, new messages just arrive: no button.
    live_server.post(ben.token, room_id, "news three")
    expect(delivered(page, "news three")).to_be_in_viewport(timeout=FRAME_MS)
    expect(jump).to_be_hidden()


# -- small things ---------------------------------------------------------------------


def test_a_pdf_card_beside_an_image_keeps_its_own_height(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, f"cards-{secrets.token_hex(3)}")
    page = open_page(width=1280, height=800)
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    attach(
        page,
        [
            {"name": "tall.png", "mimeType": "image/png", "buffer": png(200, 300)},
            {"name": "notes.pdf", "mimeType": "application/pdf", "buffer": pdf()},
        ],
        "side by side",
    )
    message = page.locator("ol.messages:not(.pending) li.msg").filter(has_text="side by side")
    image = message.get_by_role("button", name="Open image tall.png")
    card = message.locator("a.attachment-card")
    expect(image).to_be_visible(timeout=UPLOAD_MS)
    image_box, card_box = image.bounding_box(), card.bounding_box()
    assert image_box and card_box
    assert abs(image_box["y"] - card_box["y"]) < 2  # side by side
    assert card_box["height"] < 80 < image_box["height"], (card_box, image_box)
    screenshot(page, "21b-pdf-card")


def test_archive_and_export_are_two_separate_buttons(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, f"owned-{secrets.token_hex(3)}")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    page.get_by_role("button", name="Room settings").click()
    dialog = page.get_by_role("dialog", name="Room settings")
    archive = dialog.get_by_role("button", name="Archive room (read only)")
    export = dialog.get_by_role("link", name="Export history")
    expect(export).to_be_visible()
    a, e = archive.bounding_box(), export.bounding_box()
    assert a and e
    same_row = abs(a["y"] - e["y"]) < 4
    apart = e["x"] - (a["x"] + a["width"]) if same_row else e["y"] - (a["y"] + a["height"])
    assert apart >= 8, (a, e)
    # The link looks like the button beside it: a border and the same height.
    assert export.evaluate("el => getComputedStyle(el).borderTopStyle") == "solid"
    assert abs(a["height"] - e["height"]) < 3
    screenshot(page, "21b-archive-export")


def test_a_message_queued_while_offline_shows_who_wrote_it(
    open_page, own_server: ParleyProcess
) -> None:
    ana, ben = make_person(own_server, "ana", "Ana Lima"), make_person(own_server, "ben", "Ben")
    room_id = own_server.create_room(ana.token, "queue")
    own_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    own_server.post(ben.token, room_id, "Ben was here last")
    page = open_page()
    sign_in(page, own_server, ana, f"/rooms/{room_id}")
    expect(delivered(page, "Ben was here last")).to_be_visible()
    page.locator(".shell:not(.offline)").wait_for()

    own_server.stop()
    expect(page.get_by_text("Connection lost. Reconnecting…")).to_be_visible()
    send(page, "queued while offline")
    queued = page.locator(".pending-msg", has_text="queued while offline")
    expect(queued).to_be_visible()
    expect(queued.locator(".author")).to_have_text("Ana Lima")
    expect(queued.locator(".avatar")).to_have_text("AL")
    screenshot(page, "21b-queued-offline")
    send(page, "and another")  # follows the first, grouped under the same name
    expect(page.locator(".pending-msg", has_text="and another").locator(".author")).to_have_count(0)

    own_server.start()
    expect(delivered(page, "queued while offline")).to_be_visible(timeout=RECONNECT_MS)
    expect(delivered(page, "and another")).to_be_visible(timeout=RECONNECT_MS)


def test_a_private_room_has_the_same_lock_in_the_header_as_in_the_sidebar(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana")
    private = f"hush-{secrets.token_hex(3)}"
    public = f"open-{secrets.token_hex(3)}"
    private_id = live_server.create_room(ana.token, private, "private")
    live_server.create_room(ana.token, public)
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{private_id}")
    heading = page.get_by_role("heading", level=1)
    link = page.get_by_role("link", name=private)
    expect(heading.locator('svg[data-icon="lock"]')).to_be_visible()
    expect(link.locator('svg[data-icon="lock"]')).to_be_visible()
    expect(heading).not_to_contain_text("#")
    expect(heading).to_have_accessible_name(f"{private} (private)")
    screenshot(page, "21b-private-room")
    open_room(page, public)
    expect(heading).to_have_text(f"# {public}")
    expect(page.get_by_role("link", name=public)).to_contain_text("#")
    expect(heading.locator("svg")).to_have_count(0)


def test_an_address_naming_a_room_i_cannot_see_says_so(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    mine = f"mine-{secrets.token_hex(3)}"
    live_server.create_room(ana.token, mine)
    theirs = live_server.create_room(ben.token, f"theirs-{secrets.token_hex(3)}", "private")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{theirs}")
    notice = page.get_by_role("status").filter(has_text="isn't available")
    expect(notice).to_have_text(
        f"Room {theirs} isn't available: it doesn't exist, or you aren't a member. Dismiss"
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(f"# {mine}")
    screenshot(page, "21b-room-not-available")
    open_room(page, mine)  # going on clears it
    expect(notice).to_have_count(0)


def test_the_username_rules_show_before_the_first_try(open_page, live_server) -> None:
    page = open_page()
    page.goto(live_server.url + "/register")
    rules = "3 to 32 letters, digits, dots, dashes or underscores."
    expect(page.get_by_text(rules)).to_be_visible()
    expect(page.get_by_label("Username")).to_have_accessible_description(rules)
    expect(page.get_by_role("alert")).to_be_hidden()
    screenshot(page, "21b-username-rules")


def test_the_sign_in_page_logs_nothing_in_the_console(
    open_page, live_server: ParleyProcess
) -> None:
    # Service workers allowed, as in a person's browser: blocking them logs a warning.
    page = open_page(service_workers="allow")
    logged: list[str] = []
    failed: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            logged.append(message.text)

    def on_response(response: Response) -> None:
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")

    page.on("console", on_console)
    page.on("response", on_response)
    for path in ("/", "/login", "/register", "/rooms/1"):
        page.goto(live_server.url + path)
        expect(
            page.get_by_role("button", name="Sign in").or_(
                page.get_by_role("button", name="Create account")
            )
        ).to_be_visible()
    assert logged == [] and failed == [], (logged, failed)

    # Signing in afterwards still works, and a reload keeps me signed in.
    ana: Person = make_person(live_server, "ana", "Ana")
    sign_in(page, live_server, ana)
    page.reload()
    expect(composer(page).or_(page.get_by_text("Welcome to Parley"))).to_be_visible()


# -- icons --------------------------------------------------------------------------

NEEDS_EMOJI_FONT = """() => {
  const emoji = /\\p{Extended_Pictographic}/u;
  const content =
    ".msg-body, .picker-grid, .msg-reactions, .quick-reactions, .shortcodes, .result-body";
  return [...document.querySelectorAll("button, a, [role=tab], .hash, h1")]
    .filter((el) => !el.closest(content) && emoji.test(el.textContent))
    .map((el) => el.getAttribute("aria-label") || el.textContent);
}"""

DRAWN_ICONS = """() => [...document.querySelectorAll("svg.icon")]
  .filter((svg) => svg.getClientRects().length)
  .map((svg) => [svg.dataset.icon, svg.querySelector("use").getBBox().width])"""


def test_interface_icons_are_svg_shipped_with_parley_not_emoji(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, f"icons-{secrets.token_hex(3)}")
    live_server.create_room(ana.token, f"locked-{secrets.token_hex(3)}", "private")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    send(page, "with icons 📎🔒")  # emoji in messages are content: the system font's
    expect(delivered(page, "with icons")).to_be_visible()
    page.get_by_role("button", name="Insert emoji").click()
    expect(page.get_by_role("tab", name="Smileys & emotion")).to_be_visible()

    assert page.evaluate(NEEDS_EMOJI_FONT) == []
    drawn = dict(page.evaluate(DRAWN_ICONS))
    for name in ("paperclip", "smile", "lock", "clock", "flag", "settings"):
        assert drawn.get(name, 0) > 0, (name, drawn)  # the sprite loaded and drew it
    expect(page.get_by_role("tab", name="Animals & nature").locator("svg")).to_be_visible()
    screenshot(page, "21b-icons")
