"""Site admins: disabling an account ends its sessions at once; others may not."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from tests.security.helpers import create_admin, sign_in
from tests.support import PASSWORD, Person, ServerProcess


async def _drain(ws: websockets.ClientConnection) -> None:
    """Read until the server closes the socket."""
    async with asyncio.timeout(30):
        while True:
            await ws.recv()


@pytest.fixture
async def boss(server: ServerProcess) -> AsyncIterator[Person]:
    name = await asyncio.to_thread(create_admin, server)
    person = await sign_in(server, name)
    yield person
    await person.http.aclose()


async def test_an_admin_disables_an_account_and_its_socket_and_token_stop_at_once(
    server: ServerProcess, boss: Person, ben: Person
) -> None:
    async with ben.socket() as sock:
        r = await boss.http.post(f"/api/admin/users/{ben.id}/disable")
        assert r.status_code == 200, r.text
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await _drain(sock.ws)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
    assert (await ben.http.get("/api/me")).status_code == 401
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.post(
            "/api/auth/login", json={"username": ben.username, "password": PASSWORD}
        )
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "invalid_credentials"


async def test_an_enabled_account_signs_in_again_but_old_tokens_stay_dead(
    server: ServerProcess, boss: Person, ben: Person
) -> None:
    await boss.http.post(f"/api/admin/users/{ben.id}/disable")
    r = await boss.http.post(f"/api/admin/users/{ben.id}/enable")
    assert r.status_code == 200
    assert r.json()["user"]["username"] == ben.username
    assert (await ben.http.get("/api/me")).status_code == 401
    again = await sign_in(server, ben.username)
    assert (await again.http.get("/api/me")).status_code == 200
    await again.http.aclose()


async def test_a_member_cannot_disable_anyone(ana: Person, ben: Person) -> None:
    for path in (
        f"/api/admin/users/{ben.id}/disable",
        f"/api/admin/users/{ben.id}/enable",
        "/api/admin/users/999999/disable",
    ):
        r = await ana.http.post(path)
        assert r.status_code == 403
        assert r.json()["error"]["code"] == "admin_only"
    assert (await ben.http.get("/api/me")).status_code == 200


async def test_an_admin_cannot_lock_themself_out(boss: Person) -> None:
    r = await boss.http.post(f"/api/admin/users/{boss.id}/disable")
    assert r.status_code == 400
    assert (await boss.http.get("/api/me")).status_code == 200


async def test_disabling_an_unknown_user_is_not_found(boss: Person) -> None:
    r = await boss.http.post("/api/admin/users/987654321/disable")
    assert r.status_code == 404


async def test_disabling_a_person_ends_their_bots_tokens_and_sockets_at_once(
    server: ServerProcess, boss: Person, ben: Person
) -> None:
    room = await ben.create_room("bot-room", "private")
    r = await ben.http.post("/api/bots", json={"username": f"bot_{ben.username}"[:32]})
    assert r.status_code == 201, r.text
    bot_token = r.json()["token"]
    r = await ben.http.post(
        f"/api/rooms/{room['id']}/members", json={"username": r.json()["bot"]["username"]}
    )
    assert r.status_code == 201, r.text
    async with httpx.AsyncClient(
        base_url=server.url, timeout=30, headers={"Authorization": f"Bearer {bot_token}"}
    ) as bot:
        posted = await bot.post(f"/api/rooms/{room['id']}/messages", json={"body": "beep"})
        assert posted.status_code == 201, posted.text
        async with websockets.connect(
            server.ws_url, additional_headers={"Authorization": f"Bearer {bot_token}"}
        ) as ws:
            r = await boss.http.post(f"/api/admin/users/{ben.id}/disable")
            assert r.status_code == 200, r.text
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await _drain(ws)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4401
        assert (await bot.get("/api/me")).status_code == 401
        r = await bot.post(f"/api/rooms/{room['id']}/messages", json={"body": "still here"})
        assert r.status_code == 401
        assert r.json()["error"]["code"] == "unauthorized"
        with pytest.raises(websockets.InvalidStatus) as refused:
            await websockets.connect(
                server.ws_url, additional_headers={"Authorization": f"Bearer {bot_token}"}
            )
        assert refused.value.response.status_code == 401
