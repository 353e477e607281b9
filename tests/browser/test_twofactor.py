"""Two-factor sign-in in the page: turn it on in Account, sign in with a code, turn it off."""

from __future__ import annotations

import base64
import time
import urllib.error
from pathlib import Path

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, make_person
from tests.browser.helpers import sign_in

pytestmark = pytest.mark.browser
WAIT_MS = 15_000  # generous: the machine is shared


def open_account(page: Page):
    page.get_by_role("button", name="Account settings").click()
    dialog = page.get_by_role("dialog", name="Account")
    expect(dialog).to_be_visible()
    return dialog


def test_enrol_sign_out_and_sign_in_with_a_code_from_the_app(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    page = open_page()
    sign_in(page, live_server, ana)
    dialog = open_account(page)
    section = dialog.get_by_role("region", name="Two-factor sign-in")
    expect(section.get_by_role("status")).to_contain_text("off", timeout=WAIT_MS)

    section.get_by_role("button", name="Set up two-factor sign-in").click()
    password = section.get_by_label("Your password")
    expect(password).to_be_focused()
    password.fill("not-the-password")
    section.get_by_role("button", name="Continue").click()
    expect(section.get_by_role("alert")).to_have_text("Your password is wrong.")
    password.fill(PASSWORD)
    section.get_by_role("button", name="Continue").click()

    # The QR code is an image made from the server's SVG, never markup in the page.
    qr = section.get_by_role("img", name="QR code for your authenticator app")
    expect(qr).to_be_visible(timeout=WAIT_MS)
    src = qr.get_attribute("src") or ""
    assert src.startswith("data:image/svg+xml;base64,")
    assert base64.b64decode(src.split(",", 1)[1]).decode().lstrip().startswith("<svg")
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=qr.element_handle())
    assert dialog.locator("svg:not(.icon)").count() == 0  # only Parley's own icons
    secret = section.locator("#tf-key").inner_text().replace(" ", "")
    totp = pyotp.TOTP(secret)

    code = section.get_by_label("Code from your app")
    expect(code).to_be_focused()
    code.fill("000000")
    section.get_by_role("button", name="Turn on").click()
    expect(section.get_by_role("alert")).to_contain_text("That code didn't work")
    code.fill(totp.now())
    section.get_by_role("button", name="Turn on").click()
    codes = section.get_by_role("list", name="Recovery codes").locator("li")
    expect(codes).to_have_count(10, timeout=WAIT_MS)
    recovery = codes.all_inner_texts()
    assert all(len(c) == 11 and c[5] == "-" for c in recovery)
    section.get_by_role("button", name="I saved them").click()
    expect(section.get_by_role("status")).to_have_text(
        "Two-factor sign-in is on. 10 recovery codes left.", timeout=WAIT_MS
    )
    expect(section.get_by_role("list", name="Recovery codes")).to_have_count(0)
    assert live_server.api("GET", "/api/auth/2fa", None, ana.token)["enabled"] is True

    dialog.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(ana.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    otp = page.get_by_label("Two-factor code")
    expect(otp).to_be_focused(timeout=WAIT_MS)
    # The code used to turn it on is spent; the app's next one is accepted (clock drift).
    otp.fill(totp.at(time.time() + 30))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Account settings")).to_have_text("Ana", timeout=WAIT_MS)


def test_turning_two_factor_off_needs_the_password_and_a_code(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    secret = live_server.api("POST", "/api/auth/2fa/setup", {"password": PASSWORD}, ana.token)[
        "secret"
    ]
    enabled = live_server.api(
        "POST", "/api/auth/2fa/enable", {"otp": pyotp.TOTP(secret).now()}, ana.token
    )
    page = open_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(ana.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_label("Two-factor code").fill(enabled["recovery_codes"][0])
    page.get_by_role("button", name="Sign in").click()

    section = open_account(page).get_by_role("region", name="Two-factor sign-in")
    expect(section.get_by_role("status")).to_have_text(
        "Two-factor sign-in is on. 9 recovery codes left.", timeout=WAIT_MS
    )
    section.get_by_label("Your password").fill("not-the-password")
    section.get_by_label("Code or recovery code").fill(enabled["recovery_codes"][1])
    section.get_by_role("button", name="Turn off two-factor sign-in").click()
    expect(section.get_by_role("alert")).to_have_text("Your password is wrong.")
    expect(section.get_by_label("Your password")).to_be_focused()
    section.get_by_label("Your password").fill(PASSWORD)
    section.get_by_role("button", name="Turn off two-factor sign-in").click()
    expect(section.get_by_role("status")).to_contain_text(
        "Two-factor sign-in is off", timeout=WAIT_MS
    )
    assert live_server.api("GET", "/api/auth/2fa", None, ana.token)["enabled"] is False


def test_turning_two_factor_on_offers_to_sign_out_the_other_sessions(
    open_page, live_server
) -> None:
    ana = make_person(live_server, "ana", "Ana")  # signed up elsewhere: one other session
    page = open_page()
    sign_in(page, live_server, ana)
    section = open_account(page).get_by_role("region", name="Two-factor sign-in")
    section.get_by_role("button", name="Set up two-factor sign-in").click(timeout=WAIT_MS)
    section.get_by_label("Your password").fill(PASSWORD)
    section.get_by_role("button", name="Continue").click()
    key = section.locator("#tf-key")
    expect(key).to_be_visible(timeout=WAIT_MS)
    totp = pyotp.TOTP(key.inner_text().replace(" ", ""))
    section.get_by_label("Code from your app").fill(totp.now())
    section.get_by_role("button", name="Turn on").click()

    expect(section.get_by_text("You are signed in on 1 other session")).to_be_visible(
        timeout=WAIT_MS
    )
    assert live_server.api("GET", "/api/me", None, ana.token)["user"]["id"] == ana.user["id"]
    section.get_by_role("button", name="Sign out 1 other session").click()
    expect(section.get_by_role("status")).to_have_text(
        "Two-factor sign-in is on. 1 other session signed out.", timeout=WAIT_MS
    )
    expect(section.get_by_role("button", name="Sign out 1 other session")).to_have_count(0)
    with pytest.raises(urllib.error.HTTPError) as refused:
        live_server.api("GET", "/api/me", None, ana.token)
    assert refused.value.code == 401
    # This page's own session goes on.
    section.get_by_role("button", name="I saved them").click()
    expect(section.get_by_role("status")).to_have_text(
        "Two-factor sign-in is on. 10 recovery codes left.", timeout=WAIT_MS
    )


def test_recovery_codes_can_be_copied_and_downloaded(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    page = open_page(permissions=["clipboard-read", "clipboard-write"])
    sign_in(page, live_server, ana)
    section = open_account(page).get_by_role("region", name="Two-factor sign-in")
    section.get_by_role("button", name="Set up two-factor sign-in").click(timeout=WAIT_MS)
    section.get_by_label("Your password").fill(PASSWORD)
    section.get_by_role("button", name="Continue").click()
    key = section.locator("#tf-key")
    expect(key).to_be_visible(timeout=WAIT_MS)
    section.get_by_label("Code from your app").fill(
        pyotp.TOTP(key.inner_text().replace(" ", "")).now()
    )
    section.get_by_role("button", name="Turn on").click()
    codes = section.get_by_role("list", name="Recovery codes").locator("li")
    expect(codes).to_have_count(10, timeout=WAIT_MS)
    shown = codes.all_inner_texts()

    section.get_by_role("button", name="Copy").click()
    expect(section.get_by_text("Copied.")).to_be_visible()
    copied = page.evaluate("navigator.clipboard.readText()")
    assert [line for line in copied.splitlines() if line in shown] == shown
    assert f"@{ana.username}" in copied

    with page.expect_download() as download:
        section.get_by_role("link", name="Download").click()
    assert download.value.suggested_filename == "parley-recovery-codes.txt"
    saved = Path(download.value.path()).read_text(encoding="utf-8")
    assert saved == copied
