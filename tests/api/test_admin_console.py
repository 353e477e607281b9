"""The admin console's API (issue 24): people, rooms, server settings, the audit log,
password-reset links; and what ordinary people may not do there."""

from __future__ import annotations

import asyncio
import hashlib
import json
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pyotp
import pytest
import websockets

from tests.files_support import upload
from tests.security.helpers import create_admin, sign_in
from tests.support import PASSWORD, Person, ServerProcess, sign_up, unique_name

NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture
async def boss(server: ServerProcess) -> AsyncIterator[Person]:
    name = await asyncio.to_thread(create_admin, server)
    person = await sign_in(server, name)
    yield person
    await person.http.aclose()


async def _drain(ws: websockets.ClientConnection) -> None:
    """Read until the server closes the socket."""
    async with asyncio.timeout(30):
        while True:
            await ws.recv()


async def _login(server: ServerProcess, username: str, password: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        return await http.post("/api/auth/login", json={"username": username, "password": password})


async def _settings(boss: Person, **changes: object) -> dict[str, object]:
    """Change the settings (or with none, read them): the settings in force."""
    if changes:
        r = await boss.http.patch("/api/admin/settings", json=changes)
    else:
        r = await boss.http.get("/api/admin/settings")
    assert r.status_code == 200, r.text
    return dict(r.json()["settings"])


async def test_an_admin_finds_people_by_part_of_their_name(boss: Person, ana: Person) -> None:
    r = await boss.http.get("/api/admin/users", params={"q": ana.username[3:]})
    assert r.status_code == 200, r.text
    found = {u["username"]: u for u in r.json()["users"]}
    assert found[ana.username]["is_admin"] is False
    assert found[ana.username]["disabled"] is False
    assert "password" not in r.text


async def test_ordinary_people_get_403_on_the_admin_routes(ana: Person, ben: Person) -> None:
    calls = [
        ("GET", "/api/admin/users", None),
        ("POST", f"/api/admin/users/{ben.id}/2fa/reset", None),
        ("PUT", f"/api/admin/users/{ana.id}/admin", {"is_admin": True}),
        ("POST", f"/api/admin/users/{ben.id}/password-reset", None),
        ("GET", "/api/admin/rooms", None),
        ("POST", "/api/admin/rooms/1/archive", None),
        ("PUT", "/api/admin/rooms/1/owner", {"user_id": ana.id}),
        ("GET", "/api/admin/settings", None),
        ("PATCH", "/api/admin/settings", {"signup": "closed"}),
        ("GET", "/api/admin/audit", None),
        ("GET", "/api/admin/audit.jsonl", None),
    ]
    for method, path, body in calls:
        r = await ana.http.request(method, path, json=body)
        assert r.status_code == 403, (method, path, r.text)
        assert r.json()["error"]["code"] == "admin_only"
    assert (await ana.http.get("/api/me")).json()["is_admin"] is False


async def test_a_reset_link_works_once_and_ends_every_session(
    server: ServerProcess, boss: Person, ben: Person
) -> None:
    r = await boss.http.post(f"/api/admin/users/{ben.id}/password-reset")
    assert r.status_code == 201, r.text
    link = r.json()["url"]
    assert link.startswith(server.url + "/reset-password#token=")
    token = link.split("#token=", 1)[1]
    async with ben.socket() as sock, httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
        weak = await anon.post("/api/auth/password-reset", json={"token": token, "password": "x"})
        assert weak.status_code == 400
        assert (await ben.http.get("/api/me")).status_code == 200  # a refused try spends nothing
        r = await anon.post(
            "/api/auth/password-reset", json={"token": token, "password": NEW_PASSWORD}
        )
        assert r.status_code == 204, r.text
        assert (await ben.http.get("/api/me")).status_code == 401
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _drain(sock.ws)
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401
        again = await anon.post(
            "/api/auth/password-reset", json={"token": token, "password": NEW_PASSWORD + "2"}
        )
        assert again.status_code == 404
        assert again.json()["error"]["code"] == "reset_invalid"
    assert (await _login(server, ben.username, PASSWORD)).status_code == 401
    assert (await _login(server, ben.username, NEW_PASSWORD)).status_code == 200


async def test_a_newer_link_voids_the_older_one(
    server: ServerProcess, boss: Person, ben: Person
) -> None:
    first = (await boss.http.post(f"/api/admin/users/{ben.id}/password-reset")).json()["url"]
    await boss.http.post(f"/api/admin/users/{ben.id}/password-reset")
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
        r = await anon.post(
            "/api/auth/password-reset",
            json={"token": first.split("#token=")[1], "password": NEW_PASSWORD},
        )
    assert r.status_code == 404


async def test_an_expired_reset_link_is_refused(fresh_server: ServerProcess) -> None:
    fresh_server.start()
    ben = await sign_up(fresh_server.url)
    token = "an-expired-token-of-forty-three-characters-xx"
    with sqlite3.connect(fresh_server.data_dir / "parley.db") as db:
        db.execute(
            "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at)"
            " VALUES (?, ?, ?, ?)",
            (
                hashlib.sha256(token.encode()).hexdigest(),
                ben.id,
                "2026-01-01T00:00:00.000000Z",
                "2026-01-02T00:00:00.000000Z",
            ),
        )
    r = await ben.http.post(
        "/api/auth/password-reset", json={"token": token, "password": NEW_PASSWORD}
    )
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "reset_invalid"
    assert (await ben.http.get("/api/me")).status_code == 200
    await ben.http.aclose()


async def test_an_admin_resets_a_lost_second_factor(
    server: ServerProcess, boss: Person, ben: Person
) -> None:
    setup = await ben.http.post("/api/auth/2fa/setup", json={"password": PASSWORD})
    totp = pyotp.TOTP(setup.json()["secret"])
    assert (
        await ben.http.post("/api/auth/2fa/enable", json={"otp": totp.now()})
    ).status_code == 200
    assert (await _login(server, ben.username, PASSWORD)).json()["error"]["code"] == "otp_required"
    r = await boss.http.post(f"/api/admin/users/{ben.id}/2fa/reset")
    assert r.status_code == 200, r.text
    assert (await _login(server, ben.username, PASSWORD)).status_code == 200


async def test_the_last_site_admin_cannot_be_demoted(fresh_server: ServerProcess) -> None:
    fresh_server.start()
    boss = await sign_in(fresh_server, await asyncio.to_thread(create_admin, fresh_server))
    ana = await sign_up(fresh_server.url)
    r = await boss.http.put(f"/api/admin/users/{boss.id}/admin", json={"is_admin": False})
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "last_admin"
    r = await boss.http.put(f"/api/admin/users/{ana.id}/admin", json={"is_admin": True})
    assert r.status_code == 200, r.text
    assert (await ana.http.get("/api/me")).json()["is_admin"] is True
    assert (await ana.http.get("/api/admin/settings")).status_code == 200
    r = await ana.http.put(f"/api/admin/users/{boss.id}/admin", json={"is_admin": False})
    assert r.status_code == 200
    assert (await boss.http.get("/api/admin/settings")).status_code == 403
    for person in (boss, ana):
        await person.http.aclose()


async def test_an_admin_archives_a_room_and_hands_it_to_someone_else(
    boss: Person, ana: Person, ben: Person
) -> None:
    room = await ana.create_room(unique_name("hall"), "private")
    await ana.post(room["id"], "hello")
    r = await boss.http.get("/api/admin/rooms", params={"q": room["name"]})
    listed = r.json()["rooms"]
    assert [x["id"] for x in listed] == [room["id"]]
    assert listed[0]["member_count"] == 1
    assert listed[0]["message_count"] == 1
    assert listed[0]["last_activity_at"]
    assert listed[0]["owner"]["username"] == ana.username
    r = await boss.http.post(f"/api/admin/rooms/{room['id']}/archive")
    assert r.status_code == 200, r.text
    assert r.json()["room"]["archived_at"]
    assert (await ana.post(room["id"], "still there?")).status_code in (403, 409)
    r = await boss.http.post(f"/api/admin/rooms/{room['id']}/unarchive")
    assert r.json()["room"]["archived_at"] is None
    r = await boss.http.put(f"/api/admin/rooms/{room['id']}/owner", json={"user_id": ben.id})
    assert r.status_code == 200, r.text
    assert r.json()["room"]["owner"]["username"] == ben.username
    members = {m["username"]: m["role"] for m in await _members(ben, room["id"])}
    assert members == {ana.username: "admin", ben.username: "owner"}
    missing = await boss.http.post("/api/admin/rooms/99999999/archive")
    assert missing.status_code == 404


async def _members(person: Person, room_id: int) -> list[dict[str, object]]:
    r = await person.http.get(f"/api/rooms/{room_id}/members")
    assert r.status_code == 200, r.text
    return [
        {"username": m.get("username") or m["user"]["username"], "role": m["role"]}
        for m in r.json()["members"]
    ]


async def test_sign_up_closed_then_by_invite_then_open(
    server: ServerProcess, boss: Person, ana: Person
) -> None:
    room = await ana.create_room(unique_name("club"), "private")
    code = (await ana.http.post(f"/api/rooms/{room['id']}/invites", json={})).json()["invite"][
        "code"
    ]
    try:
        assert (await _settings(boss, signup="closed"))["signup"] == "closed"
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as anon:
            options = (await anon.get("/api/auth/options")).json()
            assert options == {"signup": "closed", "email_recovery": False}
            body = {"username": unique_name(), "password": PASSWORD}
            r = await anon.post("/api/auth/register", json=body)
            assert r.status_code == 403
            assert r.json()["error"]["code"] == "signup_closed"
            await _settings(boss, signup="invite")
            r = await anon.post("/api/auth/register", json=body)
            assert r.json()["error"]["code"] == "invite_required"
            r = await anon.post("/api/auth/register", json={**body, "invite": "no-such-code"})
            assert r.status_code == 404
            r = await anon.post("/api/auth/register", json={**body, "invite": code})
            assert r.status_code == 201, r.text
            rooms = await anon.get("/api/rooms")
            assert room["id"] in [x["id"] for x in rooms.json()["rooms"]]
    finally:
        await _settings(boss, signup="open")
    assert (await sign_up(server.url)).username


async def test_the_upload_limit_set_in_the_console_applies_at_once(
    boss: Person, ana: Person
) -> None:
    before = await _settings(boss)
    try:
        await _settings(boss, max_upload_mb=1)
        r = await upload(ana.http, b"x" * (1024 * 1024 + 10))
        assert r.status_code == 413
        assert "1 MB" in r.json()["error"]["message"]
    finally:
        await _settings(boss, max_upload_mb=None)
    assert (await _settings(boss))["max_upload_mb"] == before["max_upload_mb"]
    assert (await upload(ana.http, b"x" * (1024 * 1024 + 10))).status_code == 201


async def test_settings_are_validated(boss: Person) -> None:
    for body in (
        {"signup": "maybe"},
        {"allowed_email_domains": ["not a domain"]},
        {"retention_days": 0},
        {"max_upload_mb": -1},
        {"no_such_setting": 1},
        {},
    ):
        r = await boss.http.patch("/api/admin/settings", json=body)
        assert r.status_code in (400, 422), (body, r.text)
    settings = await _settings(boss, retention_days=30, allowed_email_domains=["Example.ORG"])
    assert settings["retention_days"] == 30
    assert settings["allowed_email_domains"] == ["example.org"]
    settings = await _settings(boss, retention_days=None, allowed_email_domains=[])
    assert settings["retention_days"] is None
    assert settings["allowed_email_domains"] == []


async def test_the_audit_log_records_sign_ins_failures_and_admin_actions(
    server: ServerProcess, boss: Person, ben: Person
) -> None:
    assert (await _login(server, ben.username, "not the password")).status_code == 401
    await boss.http.post(f"/api/admin/users/{ben.id}/disable")
    await boss.http.post(f"/api/admin/users/{ben.id}/enable")
    r = await boss.http.get("/api/admin/audit", params={"actor": ben.username})
    actions = [e["action"] for e in r.json()["entries"]]
    assert "auth.sign_in_failed" in actions
    assert "auth.sign_in" in actions
    failed = next(e for e in r.json()["entries"] if e["action"] == "auth.sign_in_failed")
    assert failed["address"] == "127.0.0.1"
    assert failed["detail"] == {"reason": "wrong_password"}
    r = await boss.http.get("/api/admin/audit", params={"actor": boss.username, "action": "admin."})
    mine = [(e["action"], e["target"]) for e in r.json()["entries"]][:2]
    assert mine == [
        ("admin.user_enabled", f"user:{ben.id} {ben.username}"),
        ("admin.user_disabled", f"user:{ben.id} {ben.username}"),
    ]
    r = await boss.http.get(
        "/api/admin/audit", params={"action": "auth.sign_in", "since": "2999-01-01"}
    )
    assert r.json()["entries"] == []
    bad = await boss.http.get("/api/admin/audit", params={"since": "yesterday"})
    assert bad.status_code == 400
    r = await boss.http.get("/api/admin/audit.jsonl", params={"actor": ben.username})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/x-ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert {e["action"] for e in lines} >= {"auth.sign_in", "auth.sign_in_failed"}
    assert all(e["actor"]["username"] == ben.username for e in lines)


async def test_the_audit_log_records_lockouts_two_factor_sessions_bots_and_hooks(
    server: ServerProcess, boss: Person, ana: Person
) -> None:
    await ana.http.post("/api/bots", json={"username": unique_name("bot")})
    room = await ana.create_room(unique_name("hooks"), "private")
    await ana.http.post(f"/api/rooms/{room['id']}/webhooks", json={"name": "ci"})
    await ana.http.delete("/api/sessions")
    setup = await ana.http.post("/api/auth/2fa/setup", json={"password": PASSWORD})
    totp = pyotp.TOTP(setup.json()["secret"])
    await ana.http.post("/api/auth/2fa/enable", json={"otp": totp.now()})
    victim = await sign_up(server.url)
    for _ in range(12):
        await _login(server, victim.username, "wrong password")
    r = await boss.http.get("/api/admin/audit", params={"actor": ana.username, "limit": 50})
    actions = {e["action"] for e in r.json()["entries"]}
    assert {"bot.created", "webhook.created", "twofactor.enabled"} <= actions
    r = await boss.http.get(
        "/api/admin/audit", params={"actor": victim.username, "action": "auth.locked_out"}
    )
    assert len(r.json()["entries"]) == 1
    await victim.http.aclose()


def test_the_audit_module_names_every_action_it_writes() -> None:
    root = Path(__file__).resolve().parents[2] / "src" / "parley"
    from parley.domain.audit import ACTIONS

    written = set()
    for path in root.rglob("*.py"):
        text = path.read_text()
        for action in ACTIONS:
            if f'"{action}"' in text and path.name != "audit.py":
                written.add(action)
    assert written <= set(ACTIONS)


async def test_entries_past_the_audit_retention_are_swept(fresh_server: ServerProcess) -> None:
    fresh_server.env["PARLEY_AUDIT_DAYS"] = "30"
    fresh_server.start()
    boss = await sign_in(fresh_server, await asyncio.to_thread(create_admin, fresh_server))
    with sqlite3.connect(fresh_server.data_dir / "parley.db") as db:
        for at, action in (
            ("2020-01-01T00:00:00.000000Z", "old"),
            ("2999-01-01T00:00:00.000000Z", "new"),
        ):
            db.execute(
                "INSERT INTO audit_log (at, actor_name, action) VALUES (?, 'someone', ?)",
                (at, f"test.{action}"),
            )
    await boss.http.aclose()
    fresh_server.stop()
    fresh_server.start()  # the sweep runs at start, then hourly
    boss = await sign_in(fresh_server, boss.username)
    r = await boss.http.get("/api/admin/audit", params={"action": "test."})
    assert [e["action"] for e in r.json()["entries"]] == ["test.new"]
    await boss.http.aclose()


async def test_bans_and_exports_are_audited(boss: Person, ana: Person, ben: Person) -> None:
    room = await ana.create_room(unique_name("audited"), "private")
    await ana.add(room["id"], ben)
    r = await ana.http.delete(f"/api/rooms/{room['id']}/members/{ben.id}", params={"ban": "true"})
    assert r.status_code == 204, r.text
    assert (await ana.http.get(f"/api/rooms/{room['id']}/export")).status_code == 200
    r = await boss.http.get("/api/admin/audit", params={"actor": ana.username})
    found = {e["action"]: e for e in r.json()["entries"]}
    assert found["room.banned"]["target"] == f"user:{ben.id} {ben.username}"
    assert found["export.room"]["target"] == f"room:{room['id']} {room['name']}"
