"""Bot accounts with API tokens."""

from __future__ import annotations

import httpx

from tests.support import PASSWORD, Person


async def test_a_bot_gets_a_token_and_posts_like_anyone(ana: Person, ben: Person) -> None:
    name = f"bot_{ana.username}"[:32]
    r = await ana.http.post("/api/bots", json={"username": name, "display_name": "Helper"})
    assert r.status_code == 201, r.text
    bot, token = r.json()["bot"], r.json()["token"]
    assert bot["display_name"] == "Helper"
    room = await ana.create_room("with-bot")
    await ana.add(room["id"], ben)
    r = await ana.http.post(f"/api/rooms/{room['id']}/members", json={"username": name})
    assert r.status_code == 201
    async with httpx.AsyncClient(base_url=ana.server_url) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/me", headers=headers)).json()["user"]["id"] == bot["id"]
        r = await client.post(
            f"/api/rooms/{room['id']}/messages", json={"body": "beep"}, headers=headers
        )
        assert r.status_code == 201
    assert (await ben.history(room["id"]))[-1]["author"]["username"] == name
    listed = (await ana.http.get("/api/bots")).json()["bots"]
    assert [b["id"] for b in listed] == [bot["id"]]


async def test_a_bot_cannot_sign_in_with_a_password_and_dies_with_its_owner_delete(
    ana: Person,
) -> None:
    name = f"b2_{ana.username}"[:32]
    r = await ana.http.post("/api/bots", json={"username": name})
    bot, token = r.json()["bot"], r.json()["token"]
    async with httpx.AsyncClient(base_url=ana.server_url) as client:
        r = await client.post("/api/auth/login", json={"username": name, "password": PASSWORD})
        assert r.status_code == 401
        r = await client.post("/api/auth/login", json={"username": name, "password": "!bot"})
        assert r.status_code == 401
        assert (await ana.http.delete(f"/api/bots/{bot['id']}")).status_code == 204
        r = await client.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401


async def test_nobody_else_can_delete_my_bot_and_bots_cannot_make_bots(
    ana: Person, ben: Person
) -> None:
    name = f"b3_{ana.username}"[:32]
    r = await ana.http.post("/api/bots", json={"username": name})
    bot, token = r.json()["bot"], r.json()["token"]
    assert (await ben.http.delete(f"/api/bots/{bot['id']}")).status_code == 404
    async with httpx.AsyncClient(base_url=ana.server_url) as client:
        headers = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/api/me", headers=headers)).status_code == 200
        r = await client.post("/api/bots", json={"username": name + "x"}, headers=headers)
        assert r.status_code == 403
