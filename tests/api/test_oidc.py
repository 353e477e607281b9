"""OpenID Connect sign-in against a real provider (Node's oidc-provider, tests/oidc/).

Each test drives the provider's own login form over HTTP, as a browser would, and
follows it back to Parley: first sign-in creates an account, the next ones reach it,
a signed-in person links their account, sign-out ends the Parley session.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from tests.oidc_support import (
    callback_path,
    parley_with_provider,
    provider_setting,
    query_of,
    s256,
    sign_in_at_provider,
    start_login,
)
from tests.security.helpers import create_admin, sign_in
from tests.support import PASSWORD, ServerProcess

PROVIDER_ID = "testid"
ACCOUNTS = {
    login: {"password": f"{login}-password", "claims": claims}
    for login, claims in {
        "olivia": {"preferred_username": "olivia", "name": "Olivia Oidc", "email": "o@x.invalid"},
        "dora": {"preferred_username": "dora.x", "name": "Dora"},
        "nina": {"preferred_username": "nina@x.invalid", "name": "Nina\u202eevil"},
        "linda": {"preferred_username": "linda-at-idp"},
        "lena": {"preferred_username": "lena"},
        "sam": {"preferred_username": "sam"},
        "rita": {"preferred_username": "rita"},
        "uma": {"preferred_username": "uma"},
        "carl": {"preferred_username": "carl"},
        "cleo": {"preferred_username": "cleo"},
        "dina": {"preferred_username": "dina", "email": "dina@x.invalid", "email_verified": True},
        "dirk": {"preferred_username": "dirk", "email": "dirk@example.org", "email_verified": True},
    }.items()
}


@pytest.fixture(scope="module")
def oidc_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Parley with the real provider configured as "testid"."""
    root = tmp_path_factory.mktemp("oidc")
    with parley_with_provider(root, PROVIDER_ID, "Sign in with Test ID", ACCOUNTS) as (server, _):
        yield server


@pytest.fixture
async def browser(oidc_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    """A cookie jar and no redirects followed: what one browser holds."""
    async with httpx.AsyncClient(base_url=oidc_server.url, timeout=30) as client:
        yield client


async def _sign_in(client: httpx.AsyncClient, login: str) -> httpx.Response:
    authorize = await start_login(client, PROVIDER_ID)
    callback = await sign_in_at_provider(client, authorize, login, ACCOUNTS[login]["password"])
    return await client.get(callback_path(callback))


async def test_providers_are_listed_with_their_login_url(browser: httpx.AsyncClient) -> None:
    r = await browser.get("/api/auth/oidc/providers")
    assert r.status_code == 200
    assert r.json() == {
        "providers": [
            {
                "id": PROVIDER_ID,
                "label": "Sign in with Test ID",
                "login_url": f"/api/auth/oidc/{PROVIDER_ID}/login",
            }
        ],
        "password_login": True,
    }


async def test_no_provider_configured_lists_none(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as client:
        r = await client.get("/api/auth/oidc/providers")
    assert r.json() == {"providers": [], "password_login": True}


async def test_login_url_sends_the_browser_to_the_provider_with_pkce_state_and_nonce(
    browser: httpx.AsyncClient,
) -> None:
    authorize = await start_login(browser, PROVIDER_ID)
    query = query_of(authorize)
    assert query["response_type"] == "code"
    assert query["client_id"] == "parley-test"
    assert query["redirect_uri"].endswith(f"/api/auth/oidc/{PROVIDER_ID}/callback")
    assert set(query["scope"].split()) == {"openid", "profile", "email"}
    assert query["code_challenge_method"] == "S256"
    assert len(query["code_challenge"]) == len(s256("x"))
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32
    # A second start gets fresh values.
    again = query_of(await start_login(browser, PROVIDER_ID))
    assert again["state"] != query["state"] and again["nonce"] != query["nonce"]
    assert again["code_challenge"] != query["code_challenge"]


async def test_first_sign_in_creates_the_account_and_the_next_reaches_it(
    oidc_server: ServerProcess, browser: httpx.AsyncClient
) -> None:
    r = await _sign_in(browser, "olivia")
    assert r.status_code == 303
    assert r.headers["location"] == "/"
    me = await browser.get("/api/me")
    assert me.status_code == 200, me.text
    user = me.json()["user"]
    assert user["username"] == "olivia"
    assert user["display_name"] == "Olivia Oidc"

    # No password works for an account made this way.
    r = await browser.post("/api/auth/login", json={"username": "olivia", "password": ""})
    assert r.status_code in (400, 401)
    async with httpx.AsyncClient(base_url=oidc_server.url, timeout=30) as other_browser:
        r = await _sign_in(other_browser, "olivia")
        assert r.status_code == 303
        again = (await other_browser.get("/api/me")).json()["user"]
    assert again["id"] == user["id"]


async def test_username_is_de_duplicated_and_held_to_the_rules(
    oidc_server: ServerProcess, browser: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=oidc_server.url) as client:
        r = await client.post(
            "/api/auth/register", json={"username": "DORA.X", "password": PASSWORD}
        )
        assert r.status_code == 201, r.text
        taken_id = r.json()["user"]["id"]
    assert (await _sign_in(browser, "dora")).status_code == 303
    user = (await browser.get("/api/me")).json()["user"]
    assert user["username"] == "dora.x-2"
    assert user["id"] != taken_id

    # An email address as the claim: the part before "@"; a display name with a bidi
    # override is not taken (the username stands in).
    async with httpx.AsyncClient(base_url=oidc_server.url, timeout=30) as nina_browser:
        assert (await _sign_in(nina_browser, "nina")).status_code == 303
        nina = (await nina_browser.get("/api/me")).json()["user"]
    assert nina["username"] == "nina"
    assert nina["display_name"] == "nina"


async def test_sign_out_ends_the_parley_session(browser: httpx.AsyncClient) -> None:
    assert (await _sign_in(browser, "sam")).status_code == 303
    me = await browser.get("/api/me")
    assert me.status_code == 200
    r = await browser.post("/api/auth/logout", headers={"X-CSRF-Token": me.json()["csrf_token"]})
    assert r.status_code == 204
    assert (await browser.get("/api/me")).status_code == 401


async def test_a_callback_works_once(browser: httpx.AsyncClient) -> None:
    authorize = await start_login(browser, PROVIDER_ID)
    callback = await sign_in_at_provider(browser, authorize, "rita", ACCOUNTS["rita"]["password"])
    assert (await browser.get(callback_path(callback))).status_code == 303
    browser.cookies.clear()
    # The same code and state again, even with the binding cookie put back: refused.
    r = await browser.get(callback_path(callback))
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "oidc_state_invalid"
    assert (await browser.get("/api/me")).status_code == 401


async def test_a_callback_in_another_browser_is_refused(
    oidc_server: ServerProcess, browser: httpx.AsyncClient
) -> None:
    """Login CSRF: an attacker's finished sign-in, opened in the victim's browser, must
    not sign the victim in to the attacker's account (nor link it)."""
    authorize = await start_login(browser, PROVIDER_ID)
    callback = await sign_in_at_provider(browser, authorize, "uma", ACCOUNTS["uma"]["password"])
    async with httpx.AsyncClient(base_url=oidc_server.url) as victim:
        r = await victim.get(callback_path(callback))
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "oidc_state_invalid"
        assert (await victim.get("/api/me")).status_code == 401
    # And the state is spent: the attacker's own browser cannot finish either.
    r = await browser.get(callback_path(callback))
    assert r.json()["error"]["code"] == "oidc_state_invalid"


async def test_a_browser_is_sent_back_to_the_sign_in_page_with_the_reason(
    browser: httpx.AsyncClient,
) -> None:
    r = await browser.get(
        f"/api/auth/oidc/{PROVIDER_ID}/callback?state=made-up&code=x",
        headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"},
    )
    assert r.status_code == 303
    assert r.headers["location"] == "/login?oidc_error=oidc_state_invalid"


async def test_an_unknown_provider_is_not_found(browser: httpx.AsyncClient) -> None:
    for path in ("login", "callback?state=a&code=b"):
        r = await browser.get(f"/api/auth/oidc/nope/{path}")
        assert r.status_code == 404
        assert r.json()["error"]["code"] == "oidc_unknown_provider"


async def test_a_signed_in_person_links_their_account(
    oidc_server: ServerProcess, browser: httpx.AsyncClient
) -> None:
    r = await browser.post("/api/auth/register", json={"username": "linda", "password": PASSWORD})
    assert r.status_code == 201
    csrf = r.json()["csrf_token"]
    linda_id = r.json()["user"]["id"]

    # Starting a link is a write: it needs the CSRF header (and a session).
    r = await browser.post(f"/api/auth/oidc/{PROVIDER_ID}/link")
    assert r.status_code == 403
    async with httpx.AsyncClient(base_url=oidc_server.url) as anonymous:
        r = await anonymous.post(f"/api/auth/oidc/{PROVIDER_ID}/link")
        assert r.status_code == 401
    r = await browser.post(f"/api/auth/oidc/{PROVIDER_ID}/link", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 200, r.text
    callback = await sign_in_at_provider(
        browser, r.json()["login_url"], "linda", ACCOUNTS["linda"]["password"]
    )
    assert (await browser.get(callback_path(callback))).status_code == 303
    links = (await browser.get("/api/me/oidc")).json()["links"]
    assert [(link["provider"], link["label"]) for link in links] == [
        (PROVIDER_ID, "Sign in with Test ID")
    ]

    # Now the provider signs in to linda's account, not to a new one.
    async with httpx.AsyncClient(base_url=oidc_server.url, timeout=30) as elsewhere:
        assert (await _sign_in(elsewhere, "linda")).status_code == 303
        assert (await elsewhere.get("/api/me")).json()["user"]["id"] == linda_id

    # Unlinking is allowed: she still has her password.
    r = await browser.delete(f"/api/me/oidc/{PROVIDER_ID}", headers={"X-CSRF-Token": csrf})
    assert r.status_code == 204
    assert (await browser.get("/api/me/oidc")).json()["links"] == []


async def test_an_identity_of_another_account_is_not_linked(
    oidc_server: ServerProcess, browser: httpx.AsyncClient
) -> None:
    async with httpx.AsyncClient(base_url=oidc_server.url, timeout=30) as lena_browser:
        assert (await _sign_in(lena_browser, "lena")).status_code == 303
        me = (await lena_browser.get("/api/me")).json()
        # Her only way in can't be removed.
        r = await lena_browser.delete(
            f"/api/me/oidc/{PROVIDER_ID}", headers={"X-CSRF-Token": me["csrf_token"]}
        )
        assert r.status_code == 409
        assert r.json()["error"]["code"] == "last_sign_in_method"

    r = await browser.post("/api/auth/register", json={"username": "eve_x", "password": PASSWORD})
    csrf = r.json()["csrf_token"]
    r = await browser.post(f"/api/auth/oidc/{PROVIDER_ID}/link", headers={"X-CSRF-Token": csrf})
    callback = await sign_in_at_provider(
        browser, r.json()["login_url"], "lena", ACCOUNTS["lena"]["password"]
    )
    r = await browser.get(callback_path(callback))
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "oidc_already_linked"
    assert (await browser.get("/api/me/oidc")).json()["links"] == []


async def test_a_link_needs_the_same_person_still_signed_in(
    oidc_server: ServerProcess, browser: httpx.AsyncClient
) -> None:
    r = await browser.post("/api/auth/register", json={"username": "leo_x", "password": PASSWORD})
    csrf = r.json()["csrf_token"]
    r = await browser.post(f"/api/auth/oidc/{PROVIDER_ID}/link", headers={"X-CSRF-Token": csrf})
    login_url = r.json()["login_url"]
    await browser.post("/api/auth/logout", headers={"X-CSRF-Token": csrf})
    callback = await sign_in_at_provider(browser, login_url, "uma", ACCOUNTS["uma"]["password"])
    r = await browser.get(callback_path(callback))
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "oidc_link_signed_out"


@pytest.fixture(scope="module")
def sso_only_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    root = tmp_path_factory.mktemp("sso-only")
    # Listing providers and refusing passwords need no provider running.
    setting = [provider_setting("corp", "Corp SSO", "https://sso.example.invalid")]
    server = ServerProcess(
        root / "data",
        env={"PARLEY_OIDC_PROVIDERS": json.dumps(setting), "PARLEY_OIDC_ONLY": "1"},
    )
    try:
        yield server.start()
    finally:
        server.stop()


async def test_sso_only_refuses_passwords_with_a_clear_error(
    sso_only_server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=sso_only_server.url) as client:
        listed = (await client.get("/api/auth/oidc/providers")).json()
        assert listed["password_login"] is False
        assert [p["id"] for p in listed["providers"]] == ["corp"]
        for path in ("/api/auth/register", "/api/auth/login"):
            r = await client.post(path, json={"username": "someone", "password": PASSWORD})
            assert r.status_code == 403, path
            assert r.json()["error"]["code"] == "password_login_disabled"
            assert "sign-in providers" in r.json()["error"]["message"]
        # A provider that can't be reached: a clear 503, never a 500.
        r = await client.get("/api/auth/oidc/corp/login")
        assert r.status_code == 503
        assert r.json()["error"]["code"] == "oidc_unavailable"


def test_bad_provider_settings_stop_the_server_with_a_message(tmp_path: Path) -> None:
    from parley.config import SettingsError, load_settings

    bad = {
        '[{"id": "x"}]': "'label' is required",
        '[{"id": "Bad Id", "label": "a", "issuer": "https://a", "client_id": "c",'
        ' "client_secret": "s"}]': "id must be",
        '[{"id": "a", "label": "a", "issuer": "http://idp.example.invalid",'
        ' "client_id": "c", "client_secret": "s"}]': "https",
        "{": "cannot read",
        str(tmp_path / "missing.json"): "cannot read",
    }
    for value, message in bad.items():
        with pytest.raises(SettingsError, match="PARLEY_OIDC_PROVIDERS") as raised:
            load_settings(environ={"PARLEY_OIDC_PROVIDERS": value})
        assert message in str(raised.value), (value, raised.value)
    with pytest.raises(SettingsError, match="PARLEY_OIDC_ONLY"):
        load_settings(environ={"PARLEY_OIDC_ONLY": "1"})
    # A file holding the list works, so secrets can stay out of the environment.
    path = tmp_path / "providers.json"
    path.write_text(json.dumps([provider_setting("corp", "Corp", "https://sso.example.invalid")]))
    settings = load_settings(environ={"PARLEY_OIDC_PROVIDERS": str(path)})
    assert [p.id for p in settings.oidc_provider_list] == ["corp"]


async def test_new_identities_follow_the_sign_up_mode_and_the_allowed_domains(
    oidc_server: ServerProcess,
) -> None:
    """Issue 24: closed or invite-only sign-up makes no account for a new identity (one
    that has an account still signs in); allowed domains need a verified email in them."""
    boss = await sign_in(oidc_server, create_admin(oidc_server))

    async def fresh(login: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=oidc_server.url, timeout=30) as client:
            return await _sign_in(client, login)

    assert (await fresh("carl")).status_code == 303  # has an account from now on
    try:
        for mode, code in (("closed", "signup_closed"), ("invite", "invite_required")):
            r = await boss.http.patch("/api/admin/settings", json={"signup": mode})
            assert r.status_code == 200, r.text
            refused = await fresh("cleo")
            assert refused.status_code == 403, refused.text
            assert refused.json()["error"]["code"] == code
            assert (await fresh("carl")).status_code == 303
        r = await boss.http.patch(
            "/api/admin/settings", json={"signup": "open", "allowed_email_domains": ["example.org"]}
        )
        assert r.status_code == 200, r.text
        for login in ("cleo", "dina"):  # no email claim; an email elsewhere
            refused = await fresh(login)
            assert refused.status_code == 403, (login, refused.text)
            assert refused.json()["error"]["code"] == "email_domain_not_allowed"
        assert (await fresh("dirk")).status_code == 303
    finally:
        await boss.http.patch(
            "/api/admin/settings", json={"signup": "open", "allowed_email_domains": []}
        )
        await boss.http.aclose()
