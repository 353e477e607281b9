"""The admin console in the page (issue 24): closing sign-up, a reset link that works,
the audit log's filters, on a desktop and on a phone."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import PASSWORD, ParleyProcess, Person, make_person
from tests.security.helpers import create_admin
from tests.support import PASSWORD as ADMIN_PASSWORD  # create_admin's

pytestmark = pytest.mark.browser
WAIT_MS = 15_000  # generous: the machine is shared


@pytest.fixture
def boss(live_server: ParleyProcess) -> Iterator[Person]:
    name = create_admin(live_server.proc)
    body = {"username": name, "password": ADMIN_PASSWORD}
    data = live_server.api("POST", "/api/auth/login", body)
    yield Person(username=name, token=data["token"], user=data["user"])
    # Whatever the test did to the settings, the shared server takes sign-ups again.
    live_server.api("PATCH", "/api/admin/settings", {"signup": "open"}, data["token"])


def open_console(
    page: Page, server: ParleyProcess, person: Person, tab: str = "", *, phone: bool = False
) -> None:
    """Sign in through the form, then open the console from the account dialog (on a
    phone, whose header folds the account button away: by its address)."""
    page.goto(server.url + "/login")
    page.get_by_label("Username").fill(person.username)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main.room")).to_be_visible(timeout=WAIT_MS)
    if phone:
        page.goto(server.url + "/admin")
    else:
        page.get_by_role("button", name="Account settings").click()
        page.get_by_role("link", name="Open the admin console").click(timeout=WAIT_MS)
    expect(page.get_by_role("heading", name="Admin console")).to_be_visible(timeout=WAIT_MS)
    if tab:
        page.get_by_role("tab", name=tab).click()


def test_an_admin_closes_sign_up_and_the_sign_up_form_says_so(
    open_page, live_server: ParleyProcess, boss: Person
) -> None:
    page = open_page()
    open_console(page, live_server, boss, "Settings")
    signup = page.get_by_label("Sign-up")
    expect(signup).to_have_value("open", timeout=WAIT_MS)
    signup.select_option("closed")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Settings saved.")).to_be_visible()

    visitor = open_page()
    visitor.goto(live_server.url + "/register")
    expect(visitor.get_by_text("Sign-up is closed on this server")).to_be_visible(timeout=WAIT_MS)
    expect(visitor.get_by_role("button", name="Create account")).to_be_hidden()

    signup.select_option("invite")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_role("status").filter(has_text="Settings saved.")).to_be_visible()
    visitor.goto(live_server.url + "/register")
    expect(visitor.get_by_label("Invite")).to_be_visible(timeout=WAIT_MS)


def test_an_admin_issues_a_reset_link_and_it_works(
    open_page, live_server: ParleyProcess, boss: Person
) -> None:
    ben = make_person(live_server, "ben", "Ben")
    page = open_page()
    open_console(page, live_server, boss)
    page.get_by_label("Search people").fill(ben.username)
    row = page.locator(f'[data-user="{ben.username}"]')
    row.get_by_role("button", name="Reset link").click(timeout=WAIT_MS)
    link = page.get_by_label("Reset link")
    expect(link).to_have_value(re.compile(r"/reset-password#token="), timeout=WAIT_MS)
    url = link.input_value()

    other = open_page(width=390, height=844)  # ben, on his phone
    other.goto(url)
    expect(other).to_have_url(live_server.url + "/reset-password")  # the token left the bar
    other.get_by_label("New password").fill("a fresh passphrase for ben")
    other.get_by_label("The same again").fill("a fresh passphrase for ben")
    other.get_by_role("button", name="Set the new password").click()
    expect(other.get_by_role("heading", name="Password changed")).to_be_visible(timeout=WAIT_MS)

    again = open_page()
    again.goto(url)
    again.get_by_label("New password").fill("yet another passphrase")
    again.get_by_label("The same again").fill("yet another passphrase")
    again.get_by_role("button", name="Set the new password").click()
    expect(again.get_by_role("alert")).to_contain_text("used already", timeout=WAIT_MS)

    login = live_server.api(
        "POST",
        "/api/auth/login",
        {"username": ben.username, "password": "a fresh passphrase for ben"},
    )
    assert login["user"]["username"] == ben.username


def test_the_audit_view_filters_by_person_and_action_on_a_phone(
    open_page, live_server: ParleyProcess, boss: Person
) -> None:
    cat = make_person(live_server, "cat", "Cat")
    live_server.api("PATCH", "/api/admin/settings", {"signup": "open"}, boss.token)
    page = open_page(width=390, height=844)
    open_console(page, live_server, boss, "Audit log", phone=True)
    expect(page).to_have_url(live_server.url + "/admin/audit")
    log = page.get_by_role("list", name="Audit log")
    expect(log.locator('[data-action="auth.sign_in"]').first).to_be_visible(timeout=WAIT_MS)

    page.get_by_label("Who").fill(cat.username)
    page.get_by_role("button", name="Filter").click()
    expect(log.locator("li")).to_have_count(1, timeout=WAIT_MS)
    expect(log.locator("li")).to_contain_text(f"@{cat.username}")

    page.get_by_label("Who").fill(boss.username)
    page.get_by_label("Action").select_option("admin.")
    page.get_by_role("button", name="Filter").click()
    expect(log.locator("li").first).to_contain_text(boss.username, timeout=WAIT_MS)
    for action in log.locator("li").evaluate_all("els => els.map(e => e.dataset.action)"):
        assert action.startswith("admin."), action
    export = page.get_by_role("link", name="Export JSON lines")
    expect(export).to_have_attribute("href", re.compile(r"audit\.jsonl\?actor=.*action=admin\."))


def test_a_person_who_is_not_an_admin_sees_no_console(open_page, live_server) -> None:
    ana = make_person(live_server, "ana", "Ana")
    page = open_page()
    page.goto(live_server.url + "/login")
    page.get_by_label("Username").fill(ana.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("main.room")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="Account settings").click()
    expect(page.get_by_role("dialog", name="Account")).to_be_visible()
    expect(page.get_by_role("link", name="Open the admin console")).to_be_hidden()
    page.goto(live_server.url + "/admin")
    expect(page.get_by_role("alert")).to_have_text("This page is for site admins.", timeout=WAIT_MS)


def test_with_invite_only_sign_up_an_invite_link_brings_a_new_person_in(
    open_page, live_server: ParleyProcess, boss: Person
) -> None:
    ana = make_person(live_server, "ana", "Ana")
    room_id = live_server.create_room(ana.token, "invited-" + ana.username, "private")
    invite = live_server.api("POST", f"/api/rooms/{room_id}/invites", {}, ana.token)["invite"]
    live_server.api("PATCH", "/api/admin/settings", {"signup": "invite"}, boss.token)
    page = open_page()
    page.goto(invite["url"])
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_label("Invite")).to_have_value(invite["code"], timeout=WAIT_MS)
    page.get_by_label("Username").fill("newbie" + ana.username[-6:])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    expect(page.get_by_role("heading", name=f"invited-{ana.username}")).to_be_visible(
        timeout=WAIT_MS
    )
