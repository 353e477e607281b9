"""Signing in with an OpenID provider in the page, end to end: Parley's button, the
provider's own login form (Node's oidc-provider, tests/oidc/), and back into Parley."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ParleyProcess, make_person
from tests.browser.helpers import sign_in
from tests.oidc_support import parley_with_provider

pytestmark = pytest.mark.browser
WAIT_MS = 15_000  # generous: the machine is shared
LABEL = "Sign in with Test ID"
ACCOUNTS = {
    "pia": {"password": "pia-provider-password", "claims": {"preferred_username": "pia"}},
    "quinn": {"password": "quinn-provider-password", "claims": {"preferred_username": "quinn"}},
    "rhea": {"password": "rhea-provider-password", "claims": {"preferred_username": "rhea-idp"}},
}


@pytest.fixture(scope="module")
def sso_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParleyProcess]:
    root = tmp_path_factory.mktemp("oidc-browser")
    with parley_with_provider(root, "testid", LABEL, ACCOUNTS) as (server, _):
        yield ParleyProcess(server)


@pytest.fixture(scope="module")
def sso_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ParleyProcess]:
    root = tmp_path_factory.mktemp("oidc-only-browser")
    env = {"PARLEY_OIDC_ONLY": "1"}
    with parley_with_provider(root, "testid", LABEL, ACCOUNTS, env) as (server, _):
        yield ParleyProcess(server)


def sign_in_at_the_provider(page: Page, login: str, start: bool = True) -> None:
    if start:
        page.get_by_role("link", name=LABEL).click()
    # The provider's page, on another port: its own form.
    expect(page.get_by_role("heading", name="Test provider")).to_be_visible(timeout=WAIT_MS)
    page.get_by_label("Login").fill(login)
    page.get_by_label("Password").fill(ACCOUNTS[login]["password"])
    page.get_by_role("button", name="Sign in").click()


def test_click_the_button_sign_in_at_the_provider_and_land_in_parley(
    open_page, sso_server: ParleyProcess
) -> None:
    page = open_page()
    page.goto(sso_server.url + "/login")
    # Password sign-in is still offered beside the provider.
    expect(page.get_by_label("Username")).to_be_visible()
    sign_in_at_the_provider(page, "pia")

    expect(page.locator("main.room")).to_be_visible(timeout=WAIT_MS)
    assert page.url == sso_server.url + "/"
    me = page.request.get(sso_server.url + "/api/me")
    assert me.ok
    assert me.json()["user"]["username"] == "pia"

    # Sign-out ends the Parley session: the page goes back to signing in, and the
    # session cookie no longer opens anything.
    page.get_by_role("button", name="Account settings").click()
    page.get_by_role("dialog", name="Account").get_by_role(
        "button", name="Sign out", exact=True
    ).click()
    expect(page.get_by_role("link", name=LABEL)).to_be_visible(timeout=WAIT_MS)
    assert page.request.get(sso_server.url + "/api/me").status == 401


def test_a_refused_sign_in_comes_back_to_the_page_with_a_reason(
    open_page, sso_server: ParleyProcess
) -> None:
    page = open_page()
    # As if a sign-in link were opened in another browser or too late.
    page.goto(sso_server.url + "/api/auth/oidc/testid/callback?state=stale&code=x")
    expect(page.get_by_role("alert")).to_have_text(
        "That sign-in took too long or was opened in another browser. Try again.",
        timeout=WAIT_MS,
    )
    # The reason is shown once: the address no longer carries it.
    assert page.url == sso_server.url + "/login"


def test_with_sso_only_the_page_offers_only_the_providers(
    open_page, sso_only_server: ParleyProcess
) -> None:
    page = open_page()
    for path in ("/login", "/register"):
        page.goto(sso_only_server.url + path)
        button = page.get_by_role("link", name=LABEL)
        expect(button).to_be_visible(timeout=WAIT_MS)
        expect(page.get_by_label("Username")).to_have_count(0)
        expect(page.get_by_label("Password")).to_have_count(0)
        expect(page.get_by_role("link", name=re.compile("Create an account"))).to_have_count(0)
        expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    sign_in_at_the_provider(page, "quinn")
    expect(page.locator("main.room")).to_be_visible(timeout=WAIT_MS)


def test_link_an_existing_account_in_account_settings(open_page, sso_server: ParleyProcess) -> None:
    rhea = make_person(sso_server, "rhea", "Rhea")
    page = open_page()
    sign_in(page, sso_server, rhea)
    page.get_by_role("button", name="Account settings").click()
    section = page.get_by_role("dialog", name="Account").get_by_role(
        "region", name="Sign-in providers"
    )
    expect(section).to_contain_text("Not linked", timeout=WAIT_MS)
    section.get_by_role("button", name=f"Link {LABEL}").click()
    sign_in_at_the_provider(page, "rhea", start=False)
    expect(page.locator("main.room")).to_be_visible(timeout=WAIT_MS)
    page.get_by_role("button", name="Account settings").click()
    expect(section).to_contain_text("Linked", timeout=WAIT_MS)
    expect(section.get_by_role("button", name=f"Unlink {LABEL}")).to_be_visible()

    # Elsewhere, the provider now signs in to Rhea's account.
    other = open_page()
    other.goto(sso_server.url + "/login")
    sign_in_at_the_provider(other, "rhea")
    expect(other.locator("main.room")).to_be_visible(timeout=WAIT_MS)
    assert other.request.get(sso_server.url + "/api/me").json()["user"]["id"] == rhea.user["id"]
