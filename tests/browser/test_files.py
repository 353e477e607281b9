"""Sharing files in the page: attach, upload with progress, see them in the other page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ParleyProcess, make_person
from tests.browser.helpers import composer, sign_in
from tests.files_support import jpeg, pdf
from tests.support import ServerProcess

pytestmark = pytest.mark.browser
UPLOAD_MS = 15_000  # generous: the machine is shared


def test_an_image_and_a_pdf_sent_by_one_person_appear_in_the_others_page(
    open_page, live_server: ParleyProcess
) -> None:
    ana, ben = make_person(live_server, "ana", "Ana"), make_person(live_server, "ben", "Ben")
    room_id = live_server.create_room(ana.token, "photos")
    live_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    ana_page, ben_page = open_page(), open_page()
    sign_in(ana_page, live_server, ana, f"/rooms/{room_id}")
    sign_in(ben_page, live_server, ben, f"/rooms/{room_id}")

    ana_page.locator("input.file-input").set_input_files(
        [
            {"name": "beach.jpg", "mimeType": "image/jpeg", "buffer": jpeg(640, 480)},
            {"name": "minutes.pdf", "mimeType": "application/pdf", "buffer": pdf()},
        ]
    )
    tray = ana_page.get_by_role("list", name="Files to send")
    expect(tray.locator(".attachment-item.done")).to_have_count(2, timeout=UPLOAD_MS)
    composer(ana_page).fill("From the trip")
    composer(ana_page).press("Enter")
    expect(tray).to_be_hidden()

    message = ben_page.locator("ol.messages:not(.pending) li.msg").filter(has_text="From the trip")
    thumb = message.get_by_role("img", name="beach.jpg")
    expect(thumb).to_be_visible(timeout=UPLOAD_MS)
    ben_page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=thumb.element_handle()
    )
    assert "/thumbnail" in (thumb.get_attribute("src") or "")
    card = message.locator("a.attachment-card")
    expect(card).to_contain_text("minutes.pdf")
    expect(card).to_have_attribute("download", "minutes.pdf")

    # The thumbnail opens the full-size image in a viewer.
    message.get_by_role("button", name="Open image beach.jpg").click()
    viewer = ben_page.get_by_role("dialog", name="beach.jpg")
    expect(viewer).to_be_visible()
    full = viewer.get_by_role("img", name="beach.jpg")
    ben_page.wait_for_function(
        "img => img.complete && img.naturalWidth === 640", arg=full.element_handle()
    )
    ben_page.keyboard.press("Escape")
    expect(viewer).to_be_hidden()

    # The sender's own page shows the stored message with the same files.
    own = ana_page.locator("ol.messages:not(.pending) li.msg").filter(has_text="From the trip")
    expect(own.get_by_role("img", name="beach.jpg")).to_be_visible()
    assert ana_page.errors == [] and ben_page.errors == []  # type: ignore[attr-defined]


def test_an_upload_can_be_cancelled_and_a_file_alone_can_be_sent(
    open_page, live_server: ParleyProcess
) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, "solo")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    files = page.locator("input.file-input")
    files.set_input_files([{"name": "drop.pdf", "mimeType": "application/pdf", "buffer": pdf()}])
    tray = page.get_by_role("list", name="Files to send")
    expect(tray.locator(".attachment-item")).to_have_count(1)
    page.get_by_role("button", name="Remove drop.pdf").click()
    expect(tray).to_be_hidden()

    files.set_input_files([{"name": "only.pdf", "mimeType": "application/pdf", "buffer": pdf()}])
    expect(tray.locator(".attachment-item.done")).to_have_count(1, timeout=UPLOAD_MS)
    composer(page).press("Enter")  # no caption: the file alone is the message
    stored = page.locator("ol.messages:not(.pending) a.attachment-card")
    expect(stored).to_contain_text("only.pdf", timeout=UPLOAD_MS)
    expect(stored).to_have_count(1)
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.fixture
def one_mb_server(tmp_path: Path) -> Iterator[ParleyProcess]:
    proc = ServerProcess(tmp_path / "data", env={"PARLEY_MAX_UPLOAD_MB": "1"}).start()
    yield ParleyProcess(proc)
    proc.stop()


def test_a_file_past_the_limit_says_so_in_the_tray(open_page, one_mb_server) -> None:
    ana = make_person(one_mb_server, "ana", "Ana")
    room_id = one_mb_server.create_room(ana.token, "big")
    page = open_page()
    sign_in(page, one_mb_server, ana, f"/rooms/{room_id}")
    page.locator("input.file-input").set_input_files(
        [{"name": "huge.bin", "mimeType": "application/octet-stream", "buffer": b"x" * 3_000_000}]
    )
    failed = page.get_by_role("list", name="Files to send").locator(".attachment-item.failed")
    expect(failed).to_contain_text("Files are at most 1 MB.", timeout=UPLOAD_MS)
    page.get_by_role("button", name="Remove huge.bin").click()
    expect(page.get_by_role("list", name="Files to send")).to_be_hidden()
