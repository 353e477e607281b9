"""Fixtures for browser tests: a real Parley server process and headless Chromium.

Most tests share the session's server (tests/conftest.py); `own_server` gives a test a
server it may stop and start again on the same port and data folder.
Chromium is Debian's (/usr/bin/chromium) driven by Playwright; nothing is downloaded.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    Dialog,
    Page,
    Playwright,
    sync_playwright,
)

from tests.support import ServerProcess

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "correct-horse-battery"
ROOT = Path(__file__).resolve().parents[2]
DOCS_SCREENSHOTS = ROOT / "docs" / "screenshots"
# A test run leaves the checkout as it found it: screenshots go to a temporary folder
# unless PARLEY_REFRESH_SCREENSHOTS=1 asks for the README's pictures to be redrawn.
REFRESH_SCREENSHOTS = os.environ.get("PARLEY_REFRESH_SCREENSHOTS") == "1"
SCRATCH_SCREENSHOTS = Path(tempfile.gettempdir()) / "parley-test-screenshots"


class ParleyProcess:
    """A Parley server for browser tests: the shared ServerProcess plus JSON helpers.

    stop() and start() keep the port and data folder, so a page left open sees the
    same server come back (the reconnect tests rely on that).
    """

    def __init__(self, proc: ServerProcess) -> None:
        self.proc = proc

    @property
    def url(self) -> str:
        return self.proc.url

    def start(self) -> None:
        self.proc.start()

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Stop the server: SIGTERM is a graceful restart, SIGKILL a crash."""
        if self.proc.proc is None or self.proc.proc.poll() is not None:
            return
        if sig == signal.SIGKILL:
            self.proc.kill()
        else:
            self.proc.terminate()

    def api(self, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        """One JSON request with a bearer token (test setup, not what the page does)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
        return json.loads(raw) if raw else None

    def create_room(
        self, token: str, name: str, visibility: str = "public", topic: str | None = None
    ) -> str:
        """Create a room as the token's owner and return its id."""
        body = {"name": name, "visibility": visibility}
        if topic:
            body["topic"] = topic
        return str(self.api("POST", "/api/rooms", body, token)["room"]["id"])

    def post(self, token: str, room_id: str, text: str) -> dict[str, Any]:
        """Post a message over HTTP, as a script or another device would."""
        body = {"body": text}
        return dict(self.api("POST", f"/api/rooms/{room_id}/messages", body, token)["message"])


@dataclass
class Person:
    username: str
    token: str
    user: dict[str, Any] = field(default_factory=dict)


def make_person(server: ParleyProcess, prefix: str, display_name: str | None = None) -> Person:
    """Register an account over HTTP (fast setup for tests that aren't about sign-up)."""
    username = f"{prefix}{secrets.token_hex(3)}"
    body = {"username": username, "password": PASSWORD}
    if display_name:
        body["display_name"] = display_name
    data = server.api("POST", "/api/auth/register", body)
    return Person(username=username, token=data["token"], user=data["user"])


@pytest.fixture(scope="session")
def live_server(server: ServerProcess) -> ParleyProcess:
    """The shared server from tests/conftest.py, for tests that don't restart it."""
    return ParleyProcess(server)


@pytest.fixture
def own_server(tmp_path: Path) -> Iterator[ParleyProcess]:
    """A server this test may stop and start again on the same port and data."""
    proc = ServerProcess(tmp_path / "data").start()
    yield ParleyProcess(proc)
    proc.stop()


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Playwright]:
    with sync_playwright() as p:
        yield p


@pytest.fixture(scope="session")
def browser(playwright_instance: Playwright) -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        # A failure, not a skip: a run without the browser tests must not look green.
        pytest.fail("Debian chromium is not installed: apt-get install chromium")
    browser = playwright_instance.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    yield browser
    browser.close()


class PageErrors(list[str]):
    """JavaScript errors and dialogs seen by one page; a clean page has none."""


@pytest.fixture
def open_page(browser: Browser) -> Iterator[Callable[..., Page]]:
    """Factory: a fresh browser context (own cookies and storage) and a page in it.

    Each page records uncaught errors and any alert/confirm dialog in page.errors,
    so tests can assert that nothing unexpected ran.
    """
    contexts: list[BrowserContext] = []
    pages: list[Page] = []

    def factory(
        width: int = 1280, height: int = 800, color_scheme: str = "light", **kwargs: Any
    ) -> Page:
        # Parley's service worker (/sw.js) stays out of the tests that aren't about it:
        # page.route() can't see what a worker answers. tests/browser/test_pwa.py lets
        # it in with service_workers="allow".
        kwargs.setdefault("service_workers", "block")
        context = browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme=color_scheme,  # type: ignore[arg-type]
            locale="en-US",
            timezone_id="UTC",
            **kwargs,
        )
        contexts.append(context)
        page = context.new_page()
        errors = PageErrors()
        page.on("pageerror", lambda exc: errors.append(f"pageerror: {exc}"))

        def on_dialog(dialog: Dialog) -> None:
            errors.append(f"dialog: {dialog.message}")
            dialog.dismiss()

        page.on("dialog", on_dialog)
        page.errors = errors  # type: ignore[attr-defined]
        pages.append(page)
        return page

    yield factory
    problems = [error for page in pages for error in page.errors]  # type: ignore[attr-defined]
    for context in contexts:
        context.close()
    # Whatever a test checked, no page may have thrown or popped up a dialog.
    assert problems == []


def screenshot(page: Page, name: str) -> None:
    """Take a screenshot of a main screen (the README's, with PARLEY_REFRESH_SCREENSHOTS=1)."""
    folder = DOCS_SCREENSHOTS if REFRESH_SCREENSHOTS else SCRATCH_SCREENSHOTS
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), animations="disabled")
