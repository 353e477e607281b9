"""Accounts and sessions over HTTP, including the ways in that must stay shut."""

from __future__ import annotations

import httpx
import pytest

from tests.support import PASSWORD, Person, ServerProcess, unique_name


@pytest.fixture
async def http(server: ServerProcess) -> httpx.AsyncClient:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        yield client


async def test_register_signs_in_with_token_and_http_only_cookie(http: httpx.AsyncClient) -> None:
    name = unique_name("Reg")
    r = await http.post(
        "/api/auth/register",
        json={"username": name, "password": PASSWORD, "display_name": "Reggie"},
    )
    assert r.status_code == 201
    body = r.json()
    assert set(body["user"]) == {"id", "username", "display_name", "created_at"}
    assert body["user"]["display_name"] == "Reggie"
    cookie = r.headers.get_list("set-cookie")
    session_cookie = next(c for c in cookie if c.startswith("parley_session="))
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    me = await http.get("/api/me")  # by cookie
    assert me.status_code == 200
    assert me.json()["user"]["username"] == name


async def test_usernames_are_unique_regardless_of_case(http: httpx.AsyncClient) -> None:
    name = unique_name("Case")
    await http.post("/api/auth/register", json={"username": name, "password": PASSWORD})
    r = await http.post("/api/auth/register", json={"username": name.upper(), "password": PASSWORD})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "username_taken"


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"username": "ab", "password": PASSWORD}, "invalid_username"),
        ({"username": "has space", "password": PASSWORD}, "invalid_username"),
        ({"username": "okname1", "password": "short"}, "weak_password"),
        ({"username": "okname2", "password": "password123"}, "weak_password"),
        ({"username": 12345, "password": PASSWORD}, "invalid_request"),
        ({"password": PASSWORD}, "invalid_request"),
    ],
)
async def test_bad_registrations_get_a_clear_error(
    http: httpx.AsyncClient, payload: dict[str, object], code: str
) -> None:
    r = await http.post("/api/auth/register", json=payload)
    assert r.status_code == 400
    assert r.json()["error"]["code"] == code
    assert r.json()["error"]["message"]


async def test_login_failure_says_the_same_for_unknown_user_and_wrong_password(
    http: httpx.AsyncClient, ana: Person
) -> None:
    wrong = await http.post(
        "/api/auth/login", json={"username": ana.username, "password": "nope-nope"}
    )
    unknown = await http.post("/api/auth/login", json={"username": unique_name(), "password": "x"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["error"]["message"] == unknown.json()["error"]["message"]


async def test_login_gives_a_working_token(http: httpx.AsyncClient, ana: Person) -> None:
    r = await http.post("/api/auth/login", json={"username": ana.username, "password": PASSWORD})
    assert r.status_code == 200
    me = await http.get("/api/me", headers={"Authorization": f"Bearer {r.json()['token']}"})
    assert me.json()["user"]["id"] == ana.id


async def test_logout_ends_the_token_at_once(http: httpx.AsyncClient, ana: Person) -> None:
    assert (await ana.http.post("/api/auth/logout")).status_code == 204
    assert (await ana.http.get("/api/me")).status_code == 401


async def test_ten_failed_logins_lock_the_account_for_a_while(http: httpx.AsyncClient) -> None:
    name = unique_name("locked")
    await http.post("/api/auth/register", json={"username": name, "password": PASSWORD})
    for _ in range(10):
        r = await http.post("/api/auth/login", json={"username": name, "password": "wrong-pass"})
        assert r.status_code == 401
    r = await http.post("/api/auth/login", json={"username": name, "password": PASSWORD})
    assert r.status_code == 429
    assert int(r.headers["Retry-After"]) > 0
    assert r.json()["error"]["code"] == "rate_limited"


async def test_sessions_can_be_listed_and_revoked(http: httpx.AsyncClient, ana: Person) -> None:
    r = await http.post("/api/auth/login", json={"username": ana.username, "password": PASSWORD})
    other_token = r.json()["token"]
    sessions = (await ana.http.get("/api/sessions")).json()["sessions"]
    assert len(sessions) == 2
    assert sum(s["current"] for s in sessions) == 1
    other = next(s for s in sessions if not s["current"])
    assert (await ana.http.delete(f"/api/sessions/{other['id']}")).status_code == 204
    gone = await http.get("/api/me", headers={"Authorization": f"Bearer {other_token}"})
    assert gone.status_code == 401
    assert (await ana.http.get("/api/me")).status_code == 200


async def test_one_cannot_revoke_someone_elses_session(ana: Person, ben: Person) -> None:
    bens = (await ben.http.get("/api/sessions")).json()["sessions"]
    r = await ana.http.delete(f"/api/sessions/{bens[0]['id']}")
    assert r.status_code == 404
    assert (await ben.http.get("/api/me")).status_code == 200


async def test_changing_the_password_signs_out_other_sessions(
    http: httpx.AsyncClient, ana: Person
) -> None:
    r = await http.post("/api/auth/login", json={"username": ana.username, "password": PASSWORD})
    other_token = r.json()["token"]
    r = await ana.http.post(
        "/api/me/password", json={"current_password": PASSWORD, "new_password": "another-long-pass"}
    )
    assert r.status_code == 204
    gone = await http.get("/api/me", headers={"Authorization": f"Bearer {other_token}"})
    assert gone.status_code == 401
    assert (await ana.http.get("/api/me")).status_code == 200
    r = await http.post(
        "/api/auth/login", json={"username": ana.username, "password": "another-long-pass"}
    )
    assert r.status_code == 200


async def test_cookie_writes_need_the_csrf_header(http: httpx.AsyncClient) -> None:
    name = unique_name("csrf")
    r = await http.post("/api/auth/register", json={"username": name, "password": PASSWORD})
    csrf = r.json()["csrf_token"]
    refused = await http.post("/api/rooms", json={"name": "x", "visibility": "public"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"
    forged = await http.post(
        "/api/rooms", json={"name": "x", "visibility": "public"}, headers={"X-CSRF-Token": "0" * 64}
    )
    assert forged.status_code == 403
    # A header byte outside ASCII is a wrong token too, not a server error.
    odd = await http.post(
        "/api/rooms",
        json={"name": "x", "visibility": "public"},
        headers={"X-CSRF-Token": "é".encode("latin-1")},
    )
    assert odd.status_code == 403
    assert odd.json()["error"]["code"] == "csrf_failed"
    ok = await http.post(
        "/api/rooms", json={"name": "x", "visibility": "public"}, headers={"X-CSRF-Token": csrf}
    )
    assert ok.status_code == 201


async def test_me_without_a_session_is_401_json(http: httpx.AsyncClient) -> None:
    r = await http.get("/api/me")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "unauthorized"


async def test_display_name_can_be_changed(ana: Person) -> None:
    r = await ana.http.patch("/api/me", json={"display_name": "Ana Lima"})
    assert r.status_code == 200
    assert (await ana.http.get("/api/me")).json()["user"]["display_name"] == "Ana Lima"


async def test_user_search_finds_people_by_prefix_without_secrets(ana: Person, ben: Person) -> None:
    r = await ana.http.get("/api/users", params={"q": ben.username[:8]})
    users = r.json()["users"]
    assert any(u["username"] == ben.username for u in users)
    assert all(set(u) == {"id", "username", "display_name", "created_at"} for u in users)
