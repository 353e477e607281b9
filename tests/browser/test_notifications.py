"""Account > Push and email, the room's level, and the page telling the server it is hidden.

Headless Chromium cannot reach a real push service, so `pushManager.subscribe` may be
refused there: the test grants the notification permission and checks that enabling
push either reaches the server (a subscription listed) or says why on the page, never
a script error. What the page decides server-side (the `visibility` frame) is checked
end to end with the test's own push service (tests/push_support.py).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ParleyProcess, make_person
from tests.browser.helpers import sign_in, wait_online
from tests.push_support import PushService
from tests.support import ServerProcess

pytestmark = pytest.mark.browser

GRACE_S = 0.5
HIDE = """() => {
  Object.defineProperty(document, "hidden", { value: true, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""


@pytest.fixture
def push_service() -> Iterator[PushService]:
    service = PushService().start()
    yield service
    service.stop()


@pytest.fixture
def push_server(tmp_path: Path) -> Iterator[ParleyProcess]:
    env = {"PARLEY_PUSH_ALLOW_HTTP": "1", "PARLEY_PUSH_GRACE_S": str(GRACE_S)}
    proc = ServerProcess(tmp_path / "data", env=env).start()
    yield ParleyProcess(proc)
    proc.stop()


def _account(page: Page) -> None:
    page.get_by_role("button", name="Account settings").click()
    expect(page.get_by_role("dialog", name="Account")).to_be_visible()
    expect(page.get_by_role("heading", name="Push and email")).to_be_visible()


def _prefs(server: ParleyProcess, token: str) -> dict[str, object]:
    return dict(server.api("GET", "/api/me/notifications", token=token)["notifications"])


def test_the_notification_settings_reach_the_server(open_page, live_server: ParleyProcess) -> None:
    ana = make_person(live_server, "ana", "Ana")
    page = open_page(permissions=["notifications"], service_workers="allow")
    sign_in(page, live_server, ana)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    _account(page)
    section = page.get_by_role("region", name="Push and email")
    hide = section.get_by_label("Hide message text in notifications")
    digest = section.get_by_label("Email me a digest")
    expect(digest).to_be_checked()  # on by default
    hide.check()
    digest.uncheck()
    for _ in range(100):
        prefs = _prefs(live_server, ana.token)
        if prefs["hide_content"] and not prefs["email_digest"]:
            break
        page.wait_for_timeout(50)
    assert (prefs["hide_content"], prefs["email_digest"]) == (True, False)
    expect(section.get_by_text("Do not disturb is off.")).to_be_visible()
    section.get_by_role("button", name="1 hour").click()
    expect(section.get_by_text("Do not disturb until")).to_be_visible()
    until = _prefs(live_server, ana.token)["dnd_until"]
    assert isinstance(until, str) and until > time.strftime("%Y-%m-%dT%H:%M", time.gmtime())
    section.get_by_role("button", name="Off").click()
    expect(section.get_by_text("Do not disturb is off.")).to_be_visible()
    assert _prefs(live_server, ana.token)["dnd_until"] is None
    section.get_by_label("Quiet every day from").fill("22:00")
    section.get_by_label("to", exact=True).fill("07:30")
    section.get_by_role("button", name="Save").click()
    for _ in range(100):
        prefs = _prefs(live_server, ana.token)
        if prefs["dnd_start"] == 22 * 60:
            break
        page.wait_for_timeout(50)
    assert (prefs["dnd_start"], prefs["dnd_end"], prefs["dnd_timezone"]) == (1320, 450, "UTC")
    # Push on this device: the permission is granted; the subscription reaches the
    # server where Chromium can subscribe, and otherwise the page says why.
    assert page.evaluate("Notification.permission") == "granted"
    toggle = section.get_by_role("button", name="Enable push on this device")
    expect(toggle).to_be_enabled()
    toggle.click()
    subscribed = section.get_by_role("button", name="Turn off push on this device")
    problem = section.get_by_role("alert")
    expect(subscribed.or_(problem.filter(has_text="."))).to_be_visible(timeout=20_000)
    listed = live_server.api("GET", "/api/push/subscriptions", token=ana.token)["subscriptions"]
    if subscribed.is_visible():
        assert len(listed) == 1
        print("Chromium subscribed; the subscription reached the server")
    else:
        assert listed == []
        print(f"Chromium could not subscribe: {problem.text_content()}")


def test_a_rooms_level_is_set_in_its_settings(open_page, live_server: ParleyProcess) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, "levels")
    page = open_page()
    sign_in(page, live_server, ana, f"/rooms/{room_id}")
    page.get_by_role("button", name="Room settings").click()
    dialog = page.get_by_role("dialog", name="Room settings")
    level = dialog.get_by_label("Push and email notifications when I'm away")
    expect(level).to_have_value("mentions")
    level.select_option("all")
    for _ in range(100):
        rooms = live_server.api("GET", "/api/rooms", token=ana.token)["rooms"]
        if [r["notify_level"] for r in rooms if str(r["id"]) == room_id] == ["all"]:
            break
        page.wait_for_timeout(50)
    else:
        raise AssertionError("the level never reached the server")


def test_a_hidden_page_lets_pushes_through_after_the_grace(
    open_page, push_server: ParleyProcess, push_service: PushService
) -> None:
    ana = make_person(push_server, "ana", "Ana")
    ben = make_person(push_server, "ben", "Ben")
    push_service.server_key = push_server.api("GET", "/api/push/key", token=ben.token)["public_key"]
    phone = push_service.browser()
    r = httpx.post(
        push_server.url + "/api/push/subscriptions",
        json=phone.subscription(),
        headers={"Authorization": f"Bearer {ben.token}"},
    )
    assert r.status_code == 201, r.text
    dm = push_server.api("POST", "/api/dms", {"username": ben.username}, ana.token)["room"]
    page = open_page()
    sign_in(page, push_server, ben)
    wait_online(page)
    push_server.post(ana.token, str(dm["id"]), "while ben looks")
    page.wait_for_timeout(500)
    assert push_service.to(phone) == []  # shown: no push
    page.evaluate(HIDE)
    page.wait_for_timeout(int(GRACE_S * 1000) + 500)
    push_server.post(ana.token, str(dm["id"]), "while ben is away")
    for _ in range(200):
        if push_service.to(phone):
            break
        page.wait_for_timeout(50)
    [pushed] = push_service.to(phone)
    assert pushed.problems == []
    assert pushed.payload is not None and pushed.payload["text"] == "while ben is away"


def test_the_service_worker_shows_a_push_and_names_its_room(
    open_page, live_server: ParleyProcess
) -> None:
    """The worker's push handler, fed a payload as the server sends it (decrypted: the
    browser does that), through Chromium's DevTools protocol."""
    ana = make_person(live_server, "ana", "Ana")
    page = open_page(permissions=["notifications"], service_workers="allow")
    sign_in(page, live_server, ana)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    cdp = page.context.new_cdp_session(page)
    registrations: list[dict[str, object]] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    cdp.send("ServiceWorker.enable")
    for _ in range(100):
        if registrations:
            break
        page.wait_for_timeout(50)
    payload = {
        "kind": "message",
        "room_id": 42,
        "room_name": "launch",
        "room_kind": "channel",
        "author": "Ben",
        "message_id": 7,
        "seq": 3,
        "mention": True,
        "url": "/rooms/42",
        "text": "the rocket is ready",
    }
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": str(registrations[0]["registrationId"]),
            "data": json.dumps(payload),
        },
    )
    shown = """async () => (await (await navigator.serviceWorker.ready).getNotifications())
        .map((n) => [n.title, n.body, n.tag, n.data && n.data.url])"""
    for _ in range(100):
        notes = page.evaluate(shown)
        if notes:
            break
        page.wait_for_timeout(50)
    assert notes == [["Ben in #launch", "the rocket is ready", "room-42", "/rooms/42"]]
    # Hidden content: a generic text, never "undefined".
    payload = {**payload, "room_id": 43, "url": "/rooms/43", "room_kind": "dm"}
    del payload["text"]
    cdp.send(
        "ServiceWorker.deliverPushMessage",
        {
            "origin": live_server.url,
            "registrationId": str(registrations[0]["registrationId"]),
            "data": json.dumps(payload),
        },
    )
    for _ in range(100):
        notes = page.evaluate(shown)
        if len(notes) == 2:
            break
        page.wait_for_timeout(50)
    assert ["Ben", "New message", "room-43", "/rooms/43"] in notes
