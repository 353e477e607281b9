"""Break-in attempts on OpenID Connect sign-in, each refused.

The provider here is a forger (tests/oidc_support.py): Parley trusts its key set, and
its token endpoint answers with whatever ID token the test signed. A token with all
claims right signs in (the control); each test then changes one thing an attacker
could: the key, the algorithm, the nonce, the audience, the issuer, the expiry, the
state, or replays a token that was good once.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from joserfc.jwk import OctKey, RSAKey

from tests.databases import fresh_postgres_database, requested_database_server
from tests.oidc_support import (
    CLIENT_SECRET,
    Forger,
    provider_setting,
    query_of,
    s256,
    start_forger,
    start_login,
)
from tests.support import PASSWORD, ServerProcess

PROVIDER_ID = "forge"


@pytest.fixture(scope="module")
def forger() -> Iterator[Forger]:
    forger = start_forger()
    yield forger
    forger.stop()


@pytest.fixture(scope="module")
def oidc_server(
    tmp_path_factory: pytest.TempPathFactory, forger: Forger
) -> Iterator[ServerProcess]:
    """Parley trusting the forger; on PostgreSQL too with PARLEY_TEST_DATABASE_URL."""
    setting = [provider_setting(PROVIDER_ID, "Forge", forger.issuer)]
    # Behind a local proxy, so that one test can come from other addresses.
    env = {"PARLEY_OIDC_PROVIDERS": json.dumps(setting), "PARLEY_TRUST_PROXY": "1"}
    data_dir = tmp_path_factory.mktemp("oidc-breakin") / "data"
    with ExitStack() as stack:
        pg_server = requested_database_server()
        if pg_server is not None:
            env["PARLEY_DATABASE_URL"] = stack.enter_context(fresh_postgres_database(pg_server))
        server = ServerProcess(data_dir, env=env)
        stack.callback(server.stop)
        yield server.start()


@pytest.fixture
async def browser(oidc_server: ServerProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=oidc_server.url, timeout=30) as client:
        yield client


async def _begin(browser: httpx.AsyncClient) -> dict[str, str]:
    """Start a sign-in; the authorization request's parameters (state, nonce ...)."""
    return query_of(await start_login(browser, PROVIDER_ID))


async def _come_back(
    browser: httpx.AsyncClient, forger: Forger, state: str, id_token: str
) -> httpx.Response:
    """Come back from the provider with ``state``; its token endpoint hands Parley
    ``id_token``."""
    forger.next_id_token = id_token
    return await browser.get(
        f"/api/auth/oidc/{PROVIDER_ID}/callback", params={"state": state, "code": "any-code"}
    )


def _subject() -> str:
    return f"subject-{time.monotonic_ns()}"


async def test_control_a_token_with_every_claim_right_signs_in_with_pkce(
    browser: httpx.AsyncClient, forger: Forger
) -> None:
    request = await _begin(browser)
    claims = forger.claims(request["nonce"], sub=_subject(), preferred_username="control")
    r = await _come_back(browser, forger, request["state"], forger.sign(claims))
    assert r.status_code == 303, r.text
    assert (await browser.get("/api/me")).json()["user"]["username"] == "control"
    # Parley proved it started this flow (PKCE) and authenticated as the client.
    sent = forger.token_requests[-1]
    assert sent["grant_type"] == "authorization_code"
    assert sent["code"] == "any-code"
    assert s256(sent["code_verifier"]) == request["code_challenge"]
    assert sent["authorization"].startswith("Basic ")
    assert sent["redirect_uri"] == request["redirect_uri"]


def _forged_with_another_key(forger: Forger, claims: dict[str, Any]) -> str:
    return forger.sign(claims, key=RSAKey.generate_key(2048))


def _forged_with_an_unknown_key_id(forger: Forger, claims: dict[str, Any]) -> str:
    return forger.sign(claims, key=RSAKey.generate_key(2048), kid="attacker-1")


def _signed_with_the_client_secret(forger: Forger, claims: dict[str, Any]) -> str:
    # HS256 keyed with the client secret: anyone who knows the secret could mint it.
    return forger.sign(claims, key=OctKey.import_key(CLIENT_SECRET.encode()), alg="HS256")


def _unsigned(forger: Forger, claims: dict[str, Any]) -> str:
    signed = forger.sign(claims)
    header = "eyJhbGciOiJub25lIiwia2lkIjoiZm9yZ2UtMSJ9"  # {"alg":"none","kid":"forge-1"}
    return f"{header}.{signed.split('.')[1]}."


FORGERIES = {
    "signed with another key": (_forged_with_another_key, "bad_signature"),
    "signed with a key the provider never published": (
        _forged_with_an_unknown_key_id,
        "invalid_key_id",
    ),
    "HS256 with the client secret": (_signed_with_the_client_secret, "unsupported_algorithm"),
    "alg none": (_unsigned, "unsupported_algorithm"),
}


@pytest.mark.parametrize("forgery", FORGERIES, ids=list(FORGERIES))
async def test_a_forged_id_token_is_refused(
    browser: httpx.AsyncClient, forger: Forger, forgery: str
) -> None:
    make, reason = FORGERIES[forgery]
    request = await _begin(browser)
    claims = forger.claims(request["nonce"], sub=_subject())
    r = await _come_back(browser, forger, request["state"], make(forger, claims))
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "oidc_token_invalid"
    assert reason in r.json()["error"]["message"]
    assert (await browser.get("/api/me")).status_code == 401


WRONG_CLAIMS: dict[str, tuple[dict[str, Any], str]] = {
    "another sign-in's nonce": ({"nonce": "a-nonce-from-another-sign-in"}, "'nonce'"),
    "no nonce": ({"nonce": None}, "'nonce'"),
    "another client's audience": ({"aud": "another-client"}, "'aud'"),
    "audience of another client only, in a list": ({"aud": ["another-client"]}, "'aud'"),
    "another issuer": ({"iss": "https://evil.example.invalid"}, "'iss'"),
    "expired an hour ago": (
        {"exp": int(time.time()) - 3600, "iat": int(time.time()) - 7200},
        "'exp'",
    ),
    "no expiry": ({"exp": None}, "'exp'"),
    "no subject": ({"sub": None}, "'sub'"),
}


@pytest.mark.parametrize("wrong", WRONG_CLAIMS, ids=list(WRONG_CLAIMS))
async def test_a_token_with_a_wrong_claim_is_refused(
    browser: httpx.AsyncClient, forger: Forger, wrong: str
) -> None:
    changes, reason = WRONG_CLAIMS[wrong]
    request = await _begin(browser)
    claims = forger.claims(request["nonce"], **({"sub": _subject()} | changes))
    r = await _come_back(browser, forger, request["state"], forger.sign(claims))
    assert r.status_code == 401, r.text
    assert r.json()["error"]["code"] == "oidc_token_invalid"
    assert reason in r.json()["error"]["message"]
    assert (await browser.get("/api/me")).status_code == 401


async def test_a_replayed_id_token_is_refused(
    oidc_server: ServerProcess, browser: httpx.AsyncClient, forger: Forger
) -> None:
    """A token that signed someone in once (stolen from a log, a proxy, a browser
    history) does not sign anyone in again: its nonce was for that sign-in only."""
    request = await _begin(browser)
    token = forger.sign(forger.claims(request["nonce"], sub=_subject()))
    assert (await _come_back(browser, forger, request["state"], token)).status_code == 303

    async with httpx.AsyncClient(base_url=oidc_server.url, timeout=30) as attacker:
        # Replayed into a new sign-in: the nonce is another.
        fresh = await _begin(attacker)
        r = await _come_back(attacker, forger, fresh["state"], token)
        assert r.status_code == 401
        assert "'nonce'" in r.json()["error"]["message"]
        # Replayed with the state it came with: that sign-in is finished.
        r = await _come_back(attacker, forger, request["state"], token)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "oidc_state_invalid"
        assert (await attacker.get("/api/me")).status_code == 401


async def test_a_wrong_or_missing_state_is_refused_before_the_code_is_used(
    browser: httpx.AsyncClient, forger: Forger
) -> None:
    request = await _begin(browser)
    token = forger.sign(forger.claims(request["nonce"], sub=_subject()))
    asked = len(forger.token_requests)
    for state in ("", "not-the-state", request["state"] + "x"):
        r = await _come_back(browser, forger, state, token)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "oidc_state_invalid"
    r = await browser.get(f"/api/auth/oidc/{PROVIDER_ID}/callback?code=any-code")
    assert r.json()["error"]["code"] == "oidc_state_invalid"
    # The code never went to the token endpoint.
    assert len(forger.token_requests) == asked
    assert (await browser.get("/api/me")).status_code == 401


async def test_the_state_is_bound_to_the_browser_that_started(
    oidc_server: ServerProcess, browser: httpx.AsyncClient, forger: Forger
) -> None:
    request = await _begin(browser)
    token = forger.sign(forger.claims(request["nonce"], sub=_subject()))
    async with httpx.AsyncClient(base_url=oidc_server.url) as victim:
        r = await _come_back(victim, forger, request["state"], token)
        assert r.status_code == 400
        assert r.json()["error"]["code"] == "oidc_state_invalid"
        assert (await victim.get("/api/me")).status_code == 401


async def test_a_cancelled_sign_in_is_refused(browser: httpx.AsyncClient) -> None:
    request = await _begin(browser)
    r = await browser.get(
        f"/api/auth/oidc/{PROVIDER_ID}/callback",
        params={"state": request["state"], "error": "access_denied"},
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "oidc_cancelled"


@pytest.mark.parametrize("verified", [False, True], ids=["unverified", "verified"])
async def test_an_email_claim_never_links_to_an_existing_account(
    oidc_server: ServerProcess, browser: httpx.AsyncClient, forger: Forger, verified: bool
) -> None:
    """An identity whose email (verified or not) and username match an existing account
    gets an account of its own: only the owner, signed in, links an account."""
    async with httpx.AsyncClient(base_url=oidc_server.url) as owner:
        name = f"ana{'v' if verified else 'u'}{time.monotonic_ns() % 10**6}"
        r = await owner.post("/api/auth/register", json={"username": name, "password": PASSWORD})
        ana = r.json()["user"]
    request = await _begin(browser)
    claims = forger.claims(
        request["nonce"],
        sub=_subject(),
        preferred_username=name,
        email=f"{name}@example.invalid",
        email_verified=verified,
    )
    r = await _come_back(browser, forger, request["state"], forger.sign(claims))
    assert r.status_code == 303, r.text
    me = (await browser.get("/api/me")).json()["user"]
    assert me["id"] != ana["id"]
    assert me["username"] == f"{name}-2"
    async with httpx.AsyncClient(base_url=oidc_server.url) as owner:
        r = await owner.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        r = await owner.get("/api/me/oidc")
        assert r.json()["links"] == []


async def test_sign_ins_in_progress_have_a_budget_per_address(
    browser: httpx.AsyncClient,
) -> None:
    """Each started sign-in is a row until it finishes or expires: one address may
    start at most 30 in ten minutes (loopback is exempt, so these come through the
    trusted local proxy "from" documentation addresses)."""
    flooder = {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(30):
        r = await browser.get(f"/api/auth/oidc/{PROVIDER_ID}/login", headers=flooder)
        assert r.status_code == 302
    r = await browser.get(f"/api/auth/oidc/{PROVIDER_ID}/login", headers=flooder)
    assert r.status_code == 429
    assert r.json()["error"]["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0
    r = await browser.get(
        f"/api/auth/oidc/{PROVIDER_ID}/login", headers={"X-Forwarded-For": "198.51.100.8"}
    )
    assert r.status_code == 302
