"""Passkeys in the page, with Chromium's virtual authenticator (the DevTools protocol's
WebAuthn domain): add one in Account, sign out, sign in with it alone; use one instead
of the two-factor code; rename and delete one.

The page is opened at http://localhost:<port>: WebAuthn refuses IP addresses as RP IDs,
and Parley takes its RP ID from the host the browser asked for.
"""

from __future__ import annotations

import pyotp
import pytest
from playwright.sync_api import CDPSession, Locator, Page, expect

from tests.browser.conftest import PASSWORD, ParleyProcess, Person, make_person

pytestmark = pytest.mark.browser
WAIT_MS = 15_000  # generous: the machine is shared


def base_url(server: ParleyProcess) -> str:
    return server.url.replace("127.0.0.1", "localhost")


def virtual_authenticator(page: Page) -> tuple[CDPSession, str]:
    """A platform authenticator that holds discoverable credentials and verifies its user."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    added = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, added["authenticatorId"]


def credentials(cdp: CDPSession, authenticator_id: str) -> list[dict]:
    found = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    return list(found["credentials"])


def sign_in_with_password(page: Page, server: ParleyProcess, person: Person) -> None:
    page.goto(base_url(server) + "/login")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.locator("main.room")).to_be_visible(timeout=WAIT_MS)


def passkeys_section(page: Page) -> Locator:
    page.get_by_role("button", name="Account settings").click()
    dialog = page.get_by_role("dialog", name="Account")
    expect(dialog).to_be_visible()
    section = dialog.get_by_role("region", name="Passkeys")
    expect(section).to_be_visible(timeout=WAIT_MS)
    return section


def add_passkey(page: Page, name: str) -> Locator:
    section = passkeys_section(page)
    expect(section.get_by_role("status")).to_contain_text("No passkeys yet", timeout=WAIT_MS)
    section.get_by_label("Name for a new passkey").fill(name)
    section.get_by_role("button", name="Add a passkey").click()
    expect(section.get_by_role("listitem").filter(has_text=name)).to_be_visible(timeout=WAIT_MS)
    expect(section.get_by_role("status")).to_contain_text(f"{name} is added")
    return section


def sign_out(page: Page) -> None:
    page.get_by_role("dialog", name="Account").get_by_role(
        "button", name="Sign out", exact=True
    ).click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=WAIT_MS)


def test_add_a_passkey_sign_out_and_sign_in_with_it_alone(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    page = open_page()
    cdp, authenticator = virtual_authenticator(page)
    sign_in_with_password(page, live_server, ana)
    section = add_passkey(page, "This laptop")
    expect(section.get_by_role("listitem").filter(has_text="This laptop")).to_contain_text(
        "never used"
    )
    held = credentials(cdp, authenticator)
    assert len(held) == 1
    assert held[0]["rpId"] == "localhost" and held[0]["isResidentCredential"] is True
    listed = live_server.api("GET", "/api/auth/passkeys", None, ana.token)["passkeys"]
    assert [p["name"] for p in listed] == ["This laptop"]

    sign_out(page)
    page.get_by_role("button", name="Use a passkey", exact=True).click()
    # No username typed: the authenticator's discoverable credential says who this is.
    expect(page.get_by_role("button", name="Account settings")).to_have_text("Ana", timeout=WAIT_MS)
    assert credentials(cdp, authenticator)[0]["signCount"] >= 2
    section = passkeys_section(page)
    expect(section.get_by_role("listitem").filter(has_text="This laptop")).to_contain_text(
        "last used", timeout=WAIT_MS
    )


def test_a_passkey_instead_of_the_two_factor_code(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    page = open_page()
    virtual_authenticator(page)
    sign_in_with_password(page, live_server, ana)
    add_passkey(page, "Phone")
    secret = live_server.api("POST", "/api/auth/2fa/setup", {"password": PASSWORD}, ana.token)
    live_server.api(
        "POST", "/api/auth/2fa/enable", {"otp": pyotp.TOTP(secret["secret"]).now()}, ana.token
    )
    sign_out(page)

    page.get_by_label("Username").fill(ana.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page.get_by_label("Two-factor code")).to_be_focused(timeout=WAIT_MS)
    page.get_by_role("button", name="Use a passkey instead").click()
    expect(page.get_by_role("button", name="Account settings")).to_have_text("Ana", timeout=WAIT_MS)


def test_a_passkey_from_another_device_is_not_accepted_and_says_so(open_page, live_server) -> None:
    """A browser whose authenticator holds no passkey for Parley: the prompt ends with
    nothing, and the page says so and offers the password form, still working."""
    ana = make_person(live_server, "ana", "Ana")
    page = open_page()
    cdp, authenticator = virtual_authenticator(page)
    page.goto(base_url(live_server) + "/login")
    page.get_by_role("button", name="Use a passkey", exact=True).click()
    expect(page.get_by_role("alert")).to_have_text(
        "No passkey was used. Try again when you're ready.", timeout=WAIT_MS
    )
    assert credentials(cdp, authenticator) == []
    sign_in_with_password(page, live_server, ana)


def test_rename_and_delete_a_passkey(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    page = open_page()
    virtual_authenticator(page)
    sign_in_with_password(page, live_server, ana)
    section = add_passkey(page, "Old name")
    section.get_by_role("button", name="Rename Old name").click()
    field = section.get_by_label("Passkey name")
    expect(field).to_be_focused()
    field.fill("Desk key")
    field.press("Enter")
    row = section.get_by_role("listitem").filter(has_text="Desk key")
    expect(row).to_be_visible(timeout=WAIT_MS)
    section.get_by_role("button", name="Delete Desk key").click()
    section.get_by_role("button", name="Yes, delete").click()
    expect(section.get_by_role("status")).to_have_text("Desk key is deleted.", timeout=WAIT_MS)
    expect(section.get_by_role("listitem")).to_have_count(0)
    assert live_server.api("GET", "/api/auth/passkeys", None, ana.token)["passkeys"] == []
