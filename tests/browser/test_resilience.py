"""The page survives a server restart: it says so, reconnects, resumes, and a message
written during the outage is delivered exactly once."""

from __future__ import annotations

import signal

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ParleyProcess, make_person
from tests.browser.helpers import LIVE_MS, delivered, send, sign_in, wait_online

pytestmark = pytest.mark.browser

RECONNECT_MS = 20000  # backoff tops out at 15 s; a restart takes about a second


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["graceful", "crash"])
def test_page_reconnects_after_restart_and_sends_offline_message_once(
    open_page, own_server: ParleyProcess, sig: signal.Signals
) -> None:
    ana, ben = make_person(own_server, "ana", "Ana"), make_person(own_server, "ben", "Ben")
    room_id = own_server.create_room(ana.token, "ops")
    own_server.api("POST", f"/api/rooms/{room_id}/join", None, ben.token)
    ana_page, ben_page = open_page(), open_page()
    sign_in(ana_page, own_server, ana, f"/rooms/{room_id}")
    sign_in(ben_page, own_server, ben, f"/rooms/{room_id}")
    send(ana_page, "before the restart")
    expect(delivered(ben_page, "before the restart")).to_be_visible(timeout=LIVE_MS)

    own_server.stop(sig)
    banner = ana_page.get_by_text("Connection lost. Reconnecting…")
    expect(banner).to_be_visible()
    send(ana_page, "written while offline")
    expect(ana_page.locator(".pending-msg", has_text="written while offline")).to_be_visible()
    # Someone else talks while Ana's page is disconnected: resume must bring it in.
    own_server.start()
    own_server.post(ben.token, room_id, "said during the outage")

    expect(banner).to_be_hidden(timeout=RECONNECT_MS)
    expect(delivered(ben_page, "written while offline")).to_have_count(1, timeout=RECONNECT_MS)
    expect(delivered(ana_page, "written while offline")).to_have_count(1)
    expect(delivered(ana_page, "said during the outage")).to_have_count(1)
    expect(ana_page.locator(".pending-msg")).to_have_count(0)
    expect(delivered(ana_page, "before the restart")).to_have_count(1)

    # And live delivery works again in both directions.
    send(ben_page, "back online")
    expect(delivered(ana_page, "back online")).to_be_visible(timeout=LIVE_MS)
    stored = own_server.api("GET", f"/api/rooms/{room_id}/messages", token=ana.token)
    bodies = [m["body"] for m in stored["messages"]]
    assert bodies.count("written while offline") == 1
    assert ana_page.errors == []  # type: ignore[attr-defined]


def test_unsent_messages_survive_a_reload(open_page, own_server: ParleyProcess) -> None:
    ana = make_person(own_server, "ana", "Ana")
    room_id = own_server.create_room(ana.token, "drafts")
    page = open_page()
    sign_in(page, own_server, ana, f"/rooms/{room_id}")
    wait_online(page)
    own_server.stop()
    expect(page.get_by_text("Connection lost. Reconnecting…")).to_be_visible()
    send(page, "kept in the outbox")
    expect(page.locator(".pending-msg", has_text="kept in the outbox")).to_be_visible()
    saved = page.evaluate(
        "Object.keys(localStorage).filter(k => k.startsWith('parley.outbox'))"
        ".map(k => localStorage.getItem(k)).join()"
    )
    assert "kept in the outbox" in saved
    own_server.start()
    page.reload()  # the outbox lives in localStorage, so the reload doesn't lose it
    expect(delivered(page, "kept in the outbox")).to_have_count(1, timeout=RECONNECT_MS)
    expect(page.locator(".pending-msg")).to_have_count(0)
