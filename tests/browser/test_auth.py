"""Signing up, signing in, and the account screen, with the messages people see."""

from __future__ import annotations

import secrets

import pyotp
import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, ParleyProcess, Person, make_person, screenshot
from tests.browser.helpers import sign_in, sign_up

pytestmark = pytest.mark.browser


def fill_register(page: Page, username: str, password: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Create account").click()


def test_sign_in_and_create_account_link_to_each_other(open_page, live_server) -> None:
    page = open_page()
    page.goto(live_server.url + "/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    screenshot(page, "sign-in")
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    expect(page).to_have_url(live_server.url + "/register")
    page.get_by_role("link", name="Sign in").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_label("Username")).to_be_focused()


def test_create_account_explains_taken_names_and_weak_passwords(open_page, live_server) -> None:
    taken = make_person(live_server, "taken")
    page = open_page()
    page.goto(live_server.url + "/register")
    fill_register(page, taken.username.upper(), PASSWORD)  # names are case-insensitive
    expect(page.get_by_role("alert")).to_have_text(
        "That username is already taken. Try another one."
    )
    expect(page.get_by_label("Username")).to_be_focused()

    fill_register(page, f"new{secrets.token_hex(3)}", "abc")
    expect(page.get_by_role("alert")).to_contain_text("characters")
    expect(page.get_by_label("Password")).to_be_focused()
    fill_register(page, f"new{secrets.token_hex(3)}", "password123")
    expect(page.get_by_role("alert")).to_contain_text("too easy to guess")


def test_wrong_credentials_get_one_message(open_page, live_server) -> None:
    ana = make_person(live_server, "ana")
    page = open_page()
    page.goto(live_server.url + "/login")
    for username in (ana.username, "nobody-" + secrets.token_hex(3)):
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill("not-the-password")
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("alert")).to_have_text("Wrong username or password.")


def test_two_factor_code_is_asked_for_when_it_is_on(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    secret = live_server.api("POST", "/api/auth/2fa/setup", {"password": PASSWORD}, ana.token)[
        "secret"
    ]
    spent = pyotp.TOTP(secret).now()
    enabled = live_server.api("POST", "/api/auth/2fa/enable", {"otp": spent}, ana.token)
    page = open_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(ana.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    code = page.get_by_label("Two-factor code")
    expect(code).to_be_focused()
    # Issue 21: being asked for the code is a prompt beside the field, not a red error.
    prompt = page.get_by_role("status").filter(has_text="Two-factor sign-in is on")
    expect(prompt).to_contain_text("Enter the 6-digit code from your authenticator app")
    expect(page.get_by_role("alert")).to_be_hidden()
    assert prompt.evaluate("p => getComputedStyle(p).color") != page.locator(
        ".form-error"
    ).evaluate("p => getComputedStyle(p).color")

    # Right after turning it on, the app still shows the code that did it: say so.
    code.fill(spent)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That code was just used. Wait for the next one from your app, then enter it."
    )
    code.fill("000000")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text(
        "That code didn't work. Try the current code or a recovery code."
    )
    code.fill(enabled["recovery_codes"][0])  # the current TOTP code was spent enabling
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Account settings")).to_have_text("Ana")


def open_account(page: Page) -> None:
    page.get_by_role("button", name="Account settings").click()
    expect(page.get_by_role("dialog", name="Account")).to_be_visible()


def test_account_name_password_and_sessions(open_page, live_server: ParleyProcess) -> None:
    username = f"ana{secrets.token_hex(3)}"
    page, elsewhere = open_page(), open_page()
    sign_up(page, live_server, username, "Ana")
    sign_in(elsewhere, live_server, Person(username=username, token=""))

    open_account(page)
    dialog = page.get_by_role("dialog", name="Account")
    dialog.get_by_label("Display name").fill("Ana Maria")
    dialog.get_by_role("button", name="Save name").click()
    expect(dialog.get_by_text("Saved.")).to_be_visible()
    expect(page.get_by_role("button", name="Account settings")).to_have_text("Ana Maria")

    dialog.get_by_role("button", name="Sign out other sessions").click()
    expect(dialog.get_by_text("All your other sessions are signed out.")).to_be_visible()
    elsewhere.reload()
    expect(elsewhere.get_by_role("heading", name="Sign in")).to_be_visible()

    new_password = "a-new-password-" + secrets.token_hex(4)
    dialog.get_by_label("Current password").fill("wrong-password-1")
    dialog.get_by_label("New password").fill(new_password)
    dialog.get_by_role("button", name="Change password").click()
    expect(dialog.get_by_role("alert")).to_have_text("Your current password is wrong.")
    dialog.get_by_label("Current password").fill(PASSWORD)
    dialog.get_by_role("button", name="Change password").click()
    expect(dialog.get_by_text("Password changed.")).to_be_visible()

    dialog.get_by_role("button", name="Sign out", exact=True).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(new_password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("button", name="Account settings")).to_have_text("Ana Maria")


def test_deleting_my_account_from_the_account_dialog(open_page, live_server: ParleyProcess) -> None:
    username = f"del{secrets.token_hex(3)}"
    page = open_page()
    sign_up(page, live_server, username, "Leaving")
    open_account(page)
    section = page.get_by_role("region", name="Delete account")
    section.get_by_label("Password").fill("not-the-password")
    section.get_by_role("button", name="Delete my account").click()
    section.get_by_role("button", name="Yes, delete my account for good").click()
    expect(section.get_by_role("alert")).to_have_text("Your password is wrong.")
    section.get_by_label("Erase them everywhere").check()
    section.get_by_label("Password").fill(PASSWORD)
    section.get_by_role("button", name="Yes, delete my account for good").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_be_visible()
