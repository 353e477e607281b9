"""Deleting accounts (issue 24): by the person, by an admin; messages kept or erased."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import httpx
import pyotp
import pytest
import websockets

from tests.files_support import uploaded
from tests.security.helpers import cookie_client, create_admin, sign_in
from tests.support import PASSWORD, Person, ServerProcess, Socket, sign_up


async def _drain(sock: Socket) -> None:
    async with asyncio.timeout(30):
        while True:
            await sock.ws.recv()


async def _closed_code(sock: Socket) -> int | None:
    """Read until the server closes the socket; its close code."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        await _drain(sock)
    return closed.value.rcvd.code if closed.value.rcvd else None


@pytest.fixture
async def boss(server: ServerProcess) -> AsyncIterator[Person]:
    name = await asyncio.to_thread(create_admin, server)
    person = await sign_in(server, name)
    yield person
    await person.http.aclose()


async def _delete_me(person: Person, messages: str = "keep", **extra: str) -> httpx.Response:
    body = {"password": PASSWORD, "messages": messages, **extra}
    return await person.http.request("DELETE", "/api/me", json=body)


async def test_deleting_my_account_keeps_my_messages_as_deleted_user(
    server: ServerProcess, ana: Person, ben: Person
) -> None:
    room = await ana.create_room("leaving", "private")
    await ana.add(room["id"], ben)
    posted = (await ana.post(room["id"], "remember me")).json()["message"]
    dm = await ana.http.post("/api/dms", json={"username": ben.username})
    assert dm.status_code in (200, 201), dm.text
    dm_id = dm.json()["room"]["id"]
    assert (await ana.post(dm_id, "just between us")).status_code == 201
    bot = await ana.http.post("/api/bots", json={"username": "bot" + ana.username[-6:]})
    assert bot.status_code == 201, bot.text
    bot_token = bot.json()["token"]
    async with ana.socket() as mine, ben.socket() as theirs:
        r = await _delete_me(ana)
        assert r.status_code == 204, r.text
        assert await _closed_code(mine) == 4401
        left = await theirs.expect("member_left", room_id=room["id"])
        assert left["user"]["display_name"] == "Deleted user"
        promoted = await theirs.expect("member_updated", room_id=room["id"])
        assert promoted["user_id"] == ben.id and promoted["role"] == "owner"
    # The old token, the bot's token: gone; signing in: impossible.
    assert (await ana.http.get("/api/me")).status_code == 401
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        as_bot = await http.get("/api/me", headers={"Authorization": f"Bearer {bot_token}"})
        assert as_bot.status_code == 401
        login = await http.post(
            "/api/auth/login", json={"username": ana.username, "password": PASSWORD}
        )
        assert login.status_code == 401
    # The message stays, by "Deleted user"; the room is ben's now.
    history = await ben.history(room["id"])
    kept = next(m for m in history if m["id"] == posted["id"])
    assert kept["body"] == "remember me"
    assert kept["author"]["id"] == ana.id
    assert kept["author"]["display_name"] == "Deleted user"
    assert kept["author"]["username"] == f"~deleted-{ana.id}"
    members = (await ben.http.get(f"/api/rooms/{room['id']}/members")).json()["members"]
    assert [(m["id"], m["role"]) for m in members] == [(ben.id, "owner")]
    # ben's DM with ana still names her peer, as "Deleted user", and is read-only.
    listed = {r["id"]: r for r in (await ben.http.get("/api/rooms")).json()["rooms"]}
    assert listed[dm_id]["dm_user"]["display_name"] == "Deleted user"
    assert listed[dm_id]["archived_at"] is not None
    assert [m["body"] for m in await ben.history(dm_id)] == ["just between us"]
    assert (await ben.post(dm_id, "hello?")).status_code == 403
    # The name is free for anyone at once.
    again = await sign_up(server.url, ana.username)
    assert again.id != ana.id
    await again.http.aclose()


async def test_erasing_my_messages_tombstones_them_live_and_removes_their_files(
    server: ServerProcess, ana: Person, ben: Person
) -> None:
    room = await ana.create_room("erase", "public")
    await ana.add(room["id"], ben)
    file = await uploaded(ana.http, b"private notes\n", "notes.txt", "text/plain")
    r = await ana.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "see file", "attachments": [file["id"]]}
    )
    assert r.status_code == 201, r.text
    only_hers = f"only {ana.username}'s bytes\n".encode()
    key = hashlib.sha256(only_hers).hexdigest()
    blob = server.data_dir / "uploads" / key[:2] / key[2:4] / key
    unique = await uploaded(ana.http, only_hers, "unique.txt", "text/plain")
    r2 = await ana.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "mine", "attachments": [unique["id"]]}
    )
    assert r2.status_code == 201 and blob.exists()
    mine = [r.json()["message"], r2.json()["message"]] + [
        (await ana.post(room["id"], f"mine {i}")).json()["message"] for i in range(3)
    ]
    theirs = (await ben.post(room["id"], "ben stays")).json()["message"]
    assert (await ben.http.get(f"/api/files/{file['id']}/content")).status_code == 200
    # ben uploads the same bytes: one blob, two files; his must outlive ana's.
    same = await uploaded(ben.http, b"private notes\n", "copy.txt", "text/plain")
    r = await ben.http.post(
        f"/api/rooms/{room['id']}/messages", json={"body": "copy", "attachments": [same["id"]]}
    )
    assert r.status_code == 201
    async with ben.socket() as sock:
        r = await _delete_me(ana, "erase")
        assert r.status_code == 204, r.text
        for message in mine:
            frame = await sock.expect("message_deleted", message_id=message["id"])
            assert frame["room_id"] == room["id"] and frame["seq"] == message["seq"]
    history = {m["id"]: m for m in await ben.history(room["id"])}
    for message in mine:
        gone = history[message["id"]]
        assert gone["deleted"] is True and gone["body"] == "" and gone["attachments"] == []
        assert gone["seq"] == message["seq"]  # the seq stays: resume sees the tombstone
    assert history[theirs["id"]]["body"] == "ben stays"
    assert (await ben.http.get(f"/api/files/{file['id']}/content")).status_code == 404
    assert not blob.exists()  # bytes no other file shares are gone from the disk
    kept = await ben.http.get(f"/api/files/{same['id']}/content")
    assert kept.status_code == 200 and kept.content == b"private notes\n"
    # A resume from before the erasure gets the tombstones, in seq order.
    async with ben.socket() as sock:
        await sock.send({"type": "resume", "cursors": {str(room["id"]): 0}})
        resumed = []
        while (frame := await sock.next())["type"] != "resumed":
            if frame["type"] == "message":
                resumed.append(frame["message"])
        seqs = [m["seq"] for m in resumed]
        assert seqs == sorted(seqs) and len(resumed) == len(history)
        erased = {m["id"] for m in mine}
        assert all(m["deleted"] and m["body"] == "" for m in resumed if m["id"] in erased)


async def test_my_account_is_deleted_only_with_my_password(
    server: ServerProcess, ana: Person, ben: Person
) -> None:
    for body in (
        {"messages": "keep"},
        {"password": "wrong password", "messages": "keep"},
    ):
        r = await ana.http.request("DELETE", "/api/me", json=body)
        assert r.status_code == 401, r.text
    r = await ana.http.request("DELETE", "/api/me", json={"password": PASSWORD, "messages": "all"})
    assert r.status_code in (400, 422)
    assert (await ana.http.get("/api/me")).status_code == 200
    # A browser session must pass CSRF, like every other write.
    http, csrf = await cookie_client(server, ana.username)
    try:
        r = await http.request("DELETE", "/api/me", json={"password": PASSWORD, "messages": "keep"})
        assert r.status_code == 403 and r.json()["error"]["code"] == "csrf_failed"
        old_cookie = http.cookies["parley_session"]
        r = await http.request(
            "DELETE",
            "/api/me",
            json={"password": PASSWORD, "messages": "keep"},
            headers={"X-CSRF-Token": csrf},
        )
        assert r.status_code == 204
        assert "parley_session" not in http.cookies
        # The old cookie, kept by someone who copied it: dead.
        stale = await http.get("/api/me", headers={"Cookie": f"parley_session={old_cookie}"})
        assert stale.status_code == 401
    finally:
        await http.aclose()
    # /api/me is always the caller: ben was never at risk.
    assert (await ben.http.get("/api/me")).status_code == 200


async def test_an_admin_deletes_an_account_and_its_socket_and_token_stop(
    boss: Person, ben: Person, cat: Person
) -> None:
    room = await cat.create_room("watch", "public")
    await cat.add(room["id"], ben)
    posted = (await ben.post(room["id"], "ben was here")).json()["message"]
    # Ordinary people may not, on anyone.
    for target in (ben.id, boss.id, cat.id):
        r = await cat.http.request(
            "DELETE", f"/api/admin/users/{target}", json={"messages": "erase"}
        )
        assert r.status_code == 403, r.text
    async with ben.socket() as sock, cat.socket() as watcher:
        r = await boss.http.request(
            "DELETE", f"/api/admin/users/{ben.id}", json={"messages": "erase"}
        )
        assert r.status_code == 204, r.text
        assert await _closed_code(sock) == 4401
        await watcher.expect("message_deleted", message_id=posted["id"])
    assert (await ben.http.get("/api/me")).status_code == 401
    # Gone is gone: a second delete finds no one; an admin's own account: not here.
    again = await boss.http.request(
        "DELETE", f"/api/admin/users/{ben.id}", json={"messages": "keep"}
    )
    assert again.status_code == 404
    me = await boss.http.request("DELETE", f"/api/admin/users/{boss.id}", json={"messages": "keep"})
    assert me.status_code == 400
    bad = await boss.http.request("DELETE", f"/api/admin/users/{cat.id}", json={"messages": "x"})
    assert bad.status_code == 400
    assert (await cat.http.get("/api/me")).status_code == 200


async def test_the_last_admin_stays_and_erasure_follows_the_servers_setting(
    fresh_server: ServerProcess,
) -> None:
    fresh_server.env["PARLEY_ALLOW_MESSAGE_ERASURE"] = "0"
    fresh_server.start()
    name = await asyncio.to_thread(create_admin, fresh_server)
    boss = await sign_in(fresh_server, name)
    ana = await sign_up(fresh_server.url)
    try:
        r = await _delete_me(boss)
        assert r.status_code == 409 and r.json()["error"]["code"] == "last_admin"
        r = await _delete_me(ana, "erase")
        assert r.status_code == 403 and r.json()["error"]["code"] == "erasure_not_allowed"
        assert (await ana.http.get("/api/me")).status_code == 200
        # An admin may still erase (a legal request, say).
        r = await boss.http.request(
            "DELETE", f"/api/admin/users/{ana.id}", json={"messages": "erase"}
        )
        assert r.status_code == 204
    finally:
        await boss.http.aclose()
        await ana.http.aclose()


async def test_with_two_factor_on_deleting_my_account_also_needs_a_code(ana: Person) -> None:
    setup = await ana.http.post("/api/auth/2fa/setup", json={"password": PASSWORD})
    assert setup.status_code == 200, setup.text
    totp = pyotp.TOTP(setup.json()["secret"])
    enabled = await ana.http.post("/api/auth/2fa/enable", json={"otp": totp.now()})
    assert enabled.status_code == 200, enabled.text
    recovery = enabled.json()["recovery_codes"][0]
    r = await _delete_me(ana)
    assert r.status_code == 401 and r.json()["error"]["code"] == "otp_required"
    r = await _delete_me(ana, otp="000000")
    assert r.status_code == 401 and r.json()["error"]["code"] == "otp_invalid"
    assert (await ana.http.get("/api/me")).status_code == 200
    r = await _delete_me(ana, otp=recovery)
    assert r.status_code == 204, r.text
    assert (await ana.http.get("/api/me")).status_code == 401
