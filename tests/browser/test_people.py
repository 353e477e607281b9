"""People in real Chromium (issue 23): an avatar and a status dot in the members panel
and the DM list, the profile card from an author's name and from a mention, a custom
emoji in the picker and in a message, and a link preview card for a page served by a
local test site."""

from __future__ import annotations

import io
import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from tests.browser.conftest import ParleyProcess, Person, make_person, screenshot
from tests.browser.helpers import composer, sign_in
from tests.preview_support import Site, local_site
from tests.support import ServerProcess

pytestmark = pytest.mark.browser

FRAME_MS = 8000  # a frame, a fetch and a re-encode, on a busy machine


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    with local_site() as found:
        yield found


@pytest.fixture(scope="module")
def people_server(tmp_path_factory: pytest.TempPathFactory, site: Site) -> Iterator[ParleyProcess]:
    """A server that may preview the local test site, where members add custom emoji."""
    env = {"PARLEY_PREVIEW_ALLOW": f"127.0.0.1:{site.port}", "PARLEY_CUSTOM_EMOJI": "members"}
    proc = ServerProcess(tmp_path_factory.mktemp("people") / "data", env=env).start()
    yield ParleyProcess(proc)
    proc.stop()


def _png(colour: tuple[int, int, int], size: tuple[int, int] = (200, 120)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def _client(server: ParleyProcess, person: Person) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {person.token}"}, timeout=30
    )


def _set_up_ana(server: ParleyProcess, ana: Person, emoji: str) -> None:
    """Ana's avatar, profile, status and a custom emoji, over HTTP (setup, not the test)."""
    with _client(server, ana) as http:
        up = http.post("/api/files", files={"file": ("me.png", _png((200, 60, 40)), "image/png")})
        assert up.status_code == 201, up.text
        assert http.put("/api/me/avatar", json={"file_id": up.json()["file"]["id"]}).is_success
        profile = {"pronouns": "she/her", "title": "Site lead", "timezone": "Europe/Lisbon"}
        assert http.patch("/api/me/profile", json=profile).is_success
        until = (datetime.now(UTC) + timedelta(hours=2)).isoformat()
        status = {"status": "away", "text": "At the depot 🚚", "expires_at": until}
        assert http.put("/api/me/status", json=status).is_success
        made = http.post(
            "/api/emoji/custom",
            data={"name": emoji},
            files={"file": ("e.png", _png((30, 90, 220), (64, 64)), "image/png")},
        )
        assert made.status_code == 201, made.text


def _loaded(page: Page, selector: str) -> None:
    """The image really arrived (served by Parley, decoded by the browser)."""
    image = page.locator(selector).first
    expect(image).to_be_visible(timeout=FRAME_MS)
    deadline = time.monotonic() + FRAME_MS / 1000
    while image.evaluate("img => !(img.complete && img.naturalWidth > 0)"):
        assert time.monotonic() < deadline, f"{selector} never loaded"
        page.wait_for_timeout(50)


def test_avatars_statuses_profile_cards_custom_emoji_and_previews(
    open_page, people_server: ParleyProcess, site: Site
) -> None:
    server = people_server
    ana = make_person(server, "ana", "Ana Lima")
    ben = make_person(server, "ben", "Ben Okafor")
    emoji = "parley_" + secrets.token_hex(3)
    _set_up_ana(server, ana, emoji)
    room_id = server.create_room(ana.token, f"people-{secrets.token_hex(3)}")
    server.api("POST", f"/api/rooms/{room_id}/members", {"username": ben.username}, ana.token)
    server.api("POST", "/api/dms", {"username": ana.username}, ben.token)

    page = open_page()
    sign_in(page, server, ben, f"/rooms/{room_id}")

    # The members panel: ana's avatar and her "away" dot.
    page.get_by_role("button", name="Members").first.click()
    member = page.locator("#members li.member").filter(has_text="Ana Lima")
    _loaded(page, "#members li.member img.person-avatar")
    expect(member.locator(".status-dot.away")).to_be_visible()
    expect(member.locator(".status-dot.away")).to_have_attribute(
        "aria-label", "Away: At the depot 🚚"
    )

    # The DM list: the same avatar and dot beside her name.
    dm = page.locator("a.room-link").filter(has_text="Ana Lima")
    expect(dm.locator("img.person-avatar")).to_be_visible(timeout=FRAME_MS)
    expect(dm.locator(".status-dot.away")).to_be_visible()

    # A message with a mention, a custom emoji and a link: the message shows at once,
    # the emoji as its image, and the preview card arrives afterwards.
    title = f"Depot plan {secrets.token_hex(2)}"
    link = f"{site.url}/page?title={title.replace(' ', '+')}"
    text = f"@{ben.username} parked the van :{emoji}: {link}"
    server.post(ana.token, room_id, text)
    item = page.locator("ol.messages:not(.pending) li.msg").filter(has_text="parked the van")
    expect(item).to_be_visible(timeout=FRAME_MS)
    _loaded(page, f'li.msg img.custom-emoji[alt=":{emoji}:"]')
    card = item.locator("a.link-preview")
    expect(card).to_contain_text(title, timeout=FRAME_MS)
    expect(card).to_contain_text("Test site")
    expect(card).to_contain_text("A <b>safe</b> description")  # as text, not markup
    assert card.locator("b").count() == 0
    _loaded(page, "a.link-preview img.link-preview-image")
    assert "/api/previews/" in (card.locator("img").get_attribute("src") or "")
    screenshot(page, "people")

    # The author's name opens her profile card.
    item.locator(".msg-head .author").click()
    profile = page.get_by_role("dialog", name="Profile")
    expect(profile).to_contain_text("Ana Lima")
    expect(profile).to_contain_text("she/her")
    expect(profile).to_contain_text("Site lead")
    expect(profile).to_contain_text("At the depot 🚚")
    expect(profile).to_contain_text("Local time")
    page.keyboard.press("Escape")
    expect(profile).to_have_count(0)
    # A mention opens the card of the person mentioned.
    item.locator(".mention").first.click()
    expect(page.get_by_role("dialog", name="Profile")).to_contain_text("Ben Okafor")
    page.keyboard.press("Escape")

    # The picker has a "Custom" tab with the server's emoji; picking one inserts :name:.
    page.get_by_role("button", name="Insert emoji").click()
    page.get_by_role("tab", name="Custom").click()
    picked = page.locator(f'.picker-emoji[data-emoji=":{emoji}:"] img')
    expect(picked).to_be_visible()
    page.locator(f'.picker-emoji[data-emoji=":{emoji}:"]').click()
    expect(composer(page)).to_have_value(f":{emoji}:")
    composer(page).press("Enter")
    # Stored, and drawn as the image (its text :name: is now the image's alt).
    mine = page.locator("ol.messages:not(.pending) li.msg").last
    expect(mine.locator(f'.msg-body img.custom-emoji[alt=":{emoji}:"]')).to_be_visible(
        timeout=FRAME_MS
    )


def test_a_status_change_reaches_the_open_members_panel(
    open_page, people_server: ParleyProcess
) -> None:
    server = people_server
    ana = make_person(server, "ana", "Ana Lima")
    ben = make_person(server, "ben", "Ben Okafor")
    room_id = server.create_room(ana.token, f"status-{secrets.token_hex(3)}")
    server.api("POST", f"/api/rooms/{room_id}/members", {"username": ben.username}, ana.token)
    page = open_page(width=390, height=844, is_mobile=True, has_touch=True)
    sign_in(page, server, ben, f"/rooms/{room_id}")
    page.get_by_role("button", name="Room tools").tap()
    page.locator("#room-more").get_by_role("button", name="Members").tap()
    member = page.locator("#members li.member").filter(has_text="Ana Lima")
    expect(member).to_be_visible()
    expect(member.locator(".status-dot.dnd")).to_have_count(0)
    server.api("PUT", "/api/me/status", {"status": "dnd", "text": "Focus time"}, ana.token)
    expect(member.locator(".status-dot.dnd")).to_be_visible(timeout=FRAME_MS)
    expect(member.locator(".status-dot.dnd")).to_have_attribute(
        "aria-label", "Do not disturb: Focus time"
    )


def test_nothing_here_is_up_front(people_server: ParleyProcess) -> None:
    """The people module is its own file, imported on first use (the budget test counts
    what the chat page loads up front)."""
    static = Path(__file__).resolve().parents[2] / "src" / "parley" / "static"
    index = (static / "index.html").read_text()
    assert "people.js" not in index and "people.css" not in index
