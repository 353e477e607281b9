"""The installable app in Chromium: installability, offline reading, sign-out, updates.

These pages let Parley's service worker in (service_workers="allow"); the other browser
tests keep it out. "Offline" here is the server stopped: the browser is online but
nothing answers on Parley's port, as when a laptop loses its Wi-Fi or the server is down.
"""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Page, Playwright, expect

from tests.browser.conftest import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ParleyProcess,
    make_person,
    screenshot,
)
from tests.browser.helpers import composer, delivered, open_room, send, sign_in, wait_online
from tests.support import ServerProcess

pytestmark = pytest.mark.browser

OFFLINE_NOTE = "Offline — read only"
UPDATE_NOTE = "A new version of Parley is available."
DATA_CACHE = "parley-data"

WORKER_READY = """async () => {
  const registration = await navigator.serviceWorker.ready;
  return [registration.active.state, registration.active.scriptURL];
}"""
CONTROLLED = "() => Boolean(navigator.serviceWorker.controller)"
# Every cached response's URL and body, from every cache this origin holds.
CACHED = """async () => {
  const found = [];
  for (const name of await caches.keys()) {
    const cache = await caches.open(name);
    for (const request of await cache.keys()) {
      const response = await cache.match(request);
      found.push([name, request.url, await response.text()]);
    }
  }
  return found;
}"""


# The browser putting the page away (another tab, the phone's home screen), as the page sees it.
HIDE = """() => {
  Object.defineProperty(document, "hidden", { value: true, configurable: true });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  delete document.hidden;
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def installed(page: Page) -> None:
    """Wait until the worker is activated and controls the page.

    A document whose navigation began before the worker activated stays uncontrolled
    (clients.claim() takes the documents that exist then): sign_in's last goto can race
    the install. Such a page is reloaded once, as the next visit would be controlled.
    """
    reloaded = False
    state = ""
    for attempt in range(600):  # a loaded machine: the install fetches the whole shell
        state, script = page.evaluate(WORKER_READY)
        if state == "activated" and page.evaluate(CONTROLLED):
            assert script.endswith("/sw.js")
            return
        if state == "activated" and not reloaded and attempt >= 20:
            page.reload()
            reloaded = True
        page.wait_for_timeout(50)
    raise AssertionError(f"the service worker never took the page over ({state})")


def back_online(page: Page) -> None:
    """After the server came back: the socket's next try of its backoff (up to 15 s)."""
    expect(page.locator(".shell")).not_to_have_class(re.compile(r"\boffline\b"), timeout=30_000)


def shells(page: Page) -> list[str]:
    names = page.evaluate("caches.keys()")
    return [name for name in names if name.startswith("parley-shell-")]


def kept_rooms(page: Page) -> list[str]:
    return [url for name, url, _ in page.evaluate(CACHED) if name == DATA_CACHE]


def test_chromium_finds_parley_installable(
    playwright_instance: Playwright, live_server: ParleyProcess, tmp_path: Path
) -> None:
    """Installability needs a profile on disk: Chromium never installs from incognito,
    which is what the other tests' fresh contexts are."""
    ana = make_person(live_server, "ana", "Ana")
    context = playwright_instance.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    try:
        page = context.pages[0] if context.pages else context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        sign_in(page, live_server, ana)
        installed(page)
        cdp = context.new_cdp_session(page)
        manifest = cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
        assert manifest["url"].endswith("/manifest.webmanifest")
        installability = cdp.send("Page.getInstallabilityErrors")
        assert installability["installabilityErrors"] == []
        assert errors == []
    finally:
        context.close()


def test_offline_parley_shows_the_rooms_it_has_seen_read_only(
    open_page, own_server: ParleyProcess
) -> None:
    ana = make_person(own_server, "ana", "Ana")
    kitchen = own_server.create_room(ana.token, "kitchen")
    garden = own_server.create_room(ana.token, "garden")
    for n in range(60):
        own_server.post(ana.token, kitchen, f"kitchen note {n}")
    own_server.post(ana.token, garden, "tomatoes are ripe")
    page = open_page(service_workers="allow")
    sign_in(page, own_server, ana, f"/rooms/{kitchen}")
    installed(page)
    page.reload()  # this visit goes through the worker from the start
    expect(delivered(page, "kitchen note 59")).to_be_visible()
    open_room(page, "garden")
    expect(delivered(page, "tomatoes are ripe")).to_be_visible()
    wait_online(page)
    send(page, "picked three")  # a live message: kept when the page is put away
    expect(delivered(page, "picked three")).to_be_visible()
    page.evaluate(HIDE)
    for _ in range(100):
        if any(
            "picked three" in body for _, url, body in page.evaluate(CACHED) if f"/{garden}/" in url
        ):
            break
        page.wait_for_timeout(50)
    else:
        raise AssertionError("the live message was not kept")
    page.evaluate(SHOW)
    open_room(page, "kitchen")
    # Bounded: the newest 50 messages of each room seen.
    kitchen_page = next(body for _, url, body in page.evaluate(CACHED) if f"/{kitchen}/" in url)
    assert kitchen_page.count("kitchen note") == 50 and 'kitchen note 9"' not in kitchen_page

    own_server.stop()
    page.reload()
    expect(page.get_by_text(OFFLINE_NOTE)).to_be_visible()
    expect(delivered(page, "kitchen note 59")).to_be_visible()
    expect(composer(page)).to_be_disabled()
    expect(page.get_by_role("button", name="Send")).to_be_disabled()
    open_room(page, "garden")
    expect(delivered(page, "tomatoes are ripe")).to_be_visible()
    expect(delivered(page, "picked three")).to_be_visible()
    screenshot(page, "pwa-offline")

    # Back online: the chat reconnects as it always does, and writes again.
    own_server.start()
    back_online(page)
    expect(page.get_by_text(OFFLINE_NOTE)).to_be_hidden()
    expect(composer(page)).to_be_enabled()
    send(page, "back again")
    expect(delivered(page, "back again")).to_be_visible()


def test_signing_out_leaves_nothing_of_mine_to_read_offline(
    open_page, own_server: ParleyProcess
) -> None:
    ana = make_person(own_server, "ana", "Ana")
    room = own_server.create_room(ana.token, "diary", visibility="private")
    own_server.post(ana.token, room, "my secret plans")
    page = open_page(service_workers="allow")
    sign_in(page, own_server, ana, f"/rooms/{room}")
    installed(page)
    page.reload()
    expect(delivered(page, "my secret plans")).to_be_visible()
    assert any(f"/api/rooms/{room}/messages" in url for url in kept_rooms(page))

    page.get_by_role("button", name="Account settings").click()
    dialog = page.get_by_role("dialog", name="Account")
    dialog.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()

    own_server.stop()
    page.goto(f"{own_server.url}/rooms/{room}")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text(OFFLINE_NOTE)).to_have_count(0)
    cached = page.evaluate(CACHED)
    assert cached, "the app shell is still there for the next person"
    assert not any(name == DATA_CACHE for name, _, _ in cached)
    assert not any("my secret plans" in body or "diary" in body for _, _, body in cached)

    # The next person on this device signs in: what is kept from now on is theirs.
    own_server.start()
    ben = make_person(own_server, "ben", "Ben")
    den = own_server.create_room(ben.token, "den", visibility="private")
    own_server.post(ben.token, den, "ben was here")
    sign_in(page, own_server, ben, f"/rooms/{den}")
    expect(delivered(page, "ben was here")).to_be_visible()
    for _ in range(100):
        if any(f"/api/rooms/{den}/messages" in url for url in kept_rooms(page)):
            break
        page.wait_for_timeout(50)
    cached = page.evaluate(CACHED)
    assert any("ben was here" in body for _, _, body in cached)
    assert not any("my secret plans" in body or "diary" in body for _, _, body in cached)
    own_server.stop()
    page.reload()
    expect(page.get_by_text(OFFLINE_NOTE)).to_be_visible()
    expect(delivered(page, "ben was here")).to_be_visible()
    expect(page.get_by_role("link", name="diary")).to_have_count(0)


def test_a_new_release_is_announced_and_applied_on_reload(open_page, tmp_path: Path) -> None:
    proc = ServerProcess(tmp_path / "data", env={"PARLEY_RELEASE": "first"}).start()
    try:
        server = ParleyProcess(proc)
        ana = make_person(server, "ana", "Ana")
        room = server.create_room(ana.token, "news")
        page = open_page(service_workers="allow")
        sign_in(page, server, ana, f"/rooms/{room}")
        installed(page)
        first = httpx.get(f"{proc.url}/sw.js").headers["x-parley-release"]
        assert shells(page) == [f"parley-shell-{first}"]

        proc.stop()
        proc.env["PARLEY_RELEASE"] = "second"
        proc.start()
        second = httpx.get(f"{proc.url}/sw.js").headers["x-parley-release"]
        assert second != first
        page.evaluate("navigator.serviceWorker.ready.then((r) => r.update())")
        notice = page.get_by_role("status").filter(has_text=UPDATE_NOTE)
        expect(notice).to_be_visible()
        screenshot(page, "pwa-update")
        # Non-blocking: the chat still works under the notice.
        back_online(page)
        send(page, "still here")
        expect(delivered(page, "still here")).to_be_visible()

        notice.get_by_role("button", name="Reload").click()
        expect(composer(page)).to_be_visible()
        expect(page.get_by_text(UPDATE_NOTE)).to_have_count(0)
        for _ in range(100):
            if shells(page) == [f"parley-shell-{second}"]:
                break
            page.wait_for_timeout(50)
        assert shells(page) == [f"parley-shell-{second}"]  # the old release's is gone
        assert re.search(r"/sw\.js$", page.evaluate(WORKER_READY)[1])
    finally:
        proc.stop()
