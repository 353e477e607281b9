"""Webhooks and invite links act with their creator's right to manage the room, as it
is when they are used: banning, removing, demoting or disabling the creator ends them."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.security.helpers import create_admin, sign_in
from tests.support import Person, ServerProcess


@pytest.fixture(scope="module")
def admin_name(server: ServerProcess) -> str:
    return create_admin(server)


@pytest.fixture
async def boss(server: ServerProcess, admin_name: str) -> AsyncIterator[Person]:
    person = await sign_in(server, admin_name)
    yield person
    await person.http.aclose()


async def _room_with_admin(owner: Person, admin: Person, name: str) -> int:
    room = await owner.create_room(name, "private")
    await owner.add(room["id"], admin)
    r = await owner.http.patch(
        f"/api/rooms/{room['id']}/members/{admin.id}", json={"role": "admin"}
    )
    assert r.status_code == 200, r.text
    return int(room["id"])


async def _end_role(how: str, owner: Person, boss: Person, room_id: int, admin: Person) -> None:
    if how == "ban":
        r = await owner.http.delete(f"/api/rooms/{room_id}/members/{admin.id}?ban=1")
    elif how == "remove":
        r = await owner.http.delete(f"/api/rooms/{room_id}/members/{admin.id}")
    elif how == "demote":
        r = await owner.http.patch(
            f"/api/rooms/{room_id}/members/{admin.id}", json={"role": "member"}
        )
    else:
        r = await boss.http.post(f"/api/admin/users/{admin.id}/disable")
    assert r.status_code in (200, 204), r.text


@pytest.mark.parametrize("how", ["ban", "remove", "demote", "disable"])
async def test_a_webhook_dies_with_its_creators_right_to_manage_the_room(
    server: ServerProcess, boss: Person, ana: Person, ben: Person, how: str
) -> None:
    room_id = await _room_with_admin(ana, ben, f"hooked-{how}")
    r = await ben.http.post(f"/api/rooms/{room_id}/webhooks", json={"name": "CI"})
    assert r.status_code == 201, r.text
    url = r.json()["webhook"]["url"]
    async with httpx.AsyncClient(timeout=30) as anonymous:
        assert (await anonymous.post(url, json={"body": "build green"})).status_code == 201
        await _end_role(how, ana, boss, room_id, ben)
        r = await anonymous.post(url, json={"body": f"posted after the {how}"})
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "webhook_inactive"
    bodies = [m["body"] for m in await ana.history(room_id)]
    assert "build green" in bodies
    assert f"posted after the {how}" not in bodies


@pytest.mark.parametrize("how", ["ban", "remove", "demote", "disable"])
async def test_an_invite_dies_with_its_creators_right_to_invite(
    boss: Person, ana: Person, ben: Person, cat: Person, how: str
) -> None:
    room_id = await _room_with_admin(ana, ben, f"invited-{how}")
    r = await ben.http.post(f"/api/rooms/{room_id}/invites", json={})
    assert r.status_code == 201, r.text
    code = r.json()["invite"]["code"]
    await _end_role(how, ana, boss, room_id, ben)
    r = await cat.http.post(f"/api/invites/{code}/accept")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "invite_inactive"
    assert (await cat.http.get(f"/api/rooms/{room_id}/messages")).status_code in (403, 404)


async def test_an_owners_webhook_and_invite_survive_handing_ownership_to_an_admin(
    ana: Person, ben: Person, cat: Person
) -> None:
    """Still an admin after the hand-over: the right to manage the room is unbroken."""
    room_id = await _room_with_admin(ana, ben, "handover")
    hook = (await ana.http.post(f"/api/rooms/{room_id}/webhooks", json={"name": "CI"})).json()
    code = (await ana.http.post(f"/api/rooms/{room_id}/invites", json={})).json()["invite"]["code"]
    r = await ana.http.patch(f"/api/rooms/{room_id}/members/{ben.id}", json={"role": "owner"})
    assert r.status_code == 200, r.text
    async with httpx.AsyncClient(timeout=30) as anonymous:
        r = await anonymous.post(hook["webhook"]["url"], json={"body": "still on"})
    assert r.status_code == 201, r.text
    assert (await cat.http.post(f"/api/invites/{code}/accept")).status_code == 200
