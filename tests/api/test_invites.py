"""Invite links that expire."""

from __future__ import annotations

import httpx

from tests.support import Person


async def test_an_invite_link_lets_someone_into_a_private_room(ana: Person, ben: Person) -> None:
    room = await ana.create_room("invite-only", "private")
    r = await ana.http.post(f"/api/rooms/{room['id']}/invites", json={"expires_in": 3600})
    assert r.status_code == 201, r.text
    invite = r.json()["invite"]
    assert invite["url"].endswith("/invite/" + invite["code"])
    assert invite["expires_at"] > room["created_at"]
    assert (await ben.http.post(f"/api/rooms/{room['id']}/join")).status_code in (403, 404)
    r = await ben.http.post(f"/api/invites/{invite['code']}/accept")
    assert r.status_code == 200
    assert r.json()["room"]["id"] == room["id"]
    assert (await ben.post(room["id"], "thanks for the invite")).status_code == 201
    async with httpx.AsyncClient() as browser:
        page = await browser.get(invite["url"])
    assert page.status_code == 200


async def test_a_made_up_or_expired_code_lets_nobody_in(ana: Person, ben: Person) -> None:
    room = await ana.create_room("short-lived", "private")
    r = await ben.http.post("/api/invites/not-a-real-code/accept")
    assert r.status_code == 404
    r = await ana.http.post(f"/api/rooms/{room['id']}/invites", json={"expires_in": 5})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "invalid_expires_in"
    r = await ben.http.get(f"/api/rooms/{room['id']}")
    assert r.status_code == 404


async def test_members_cannot_make_invites_and_outsiders_cannot_see_the_room(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("closed", "private")
    await ana.add(room["id"], ben)
    assert (await ben.http.post(f"/api/rooms/{room['id']}/invites", json={})).status_code == 403
    assert (await cat.http.post(f"/api/rooms/{room['id']}/invites", json={})).status_code == 404


async def test_a_banned_user_cannot_come_back_with_an_invite(ana: Person, ben: Person) -> None:
    room = await ana.create_room("no-return", "private")
    await ana.add(room["id"], ben)
    await ana.http.delete(f"/api/rooms/{room['id']}/members/{ben.id}", params={"ban": "true"})
    code = (await ana.http.post(f"/api/rooms/{room['id']}/invites", json={})).json()["invite"]
    r = await ben.http.post(f"/api/invites/{code['code']}/accept")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "banned"
