"""Site admins delete any message, even in a private room they are not in, and still
cannot read that room; nobody else gets that power."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from tests.security.helpers import create_admin, sign_in
from tests.support import Person, ServerProcess


@pytest.fixture
async def boss(server: ServerProcess) -> AsyncIterator[Person]:
    name = await asyncio.to_thread(create_admin, server)
    person = await sign_in(server, name)
    yield person
    await person.http.aclose()


async def test_a_site_admin_deletes_a_message_in_a_private_room_they_are_not_in(
    boss: Person, ana: Person, ben: Person
) -> None:
    room = await ana.create_room("secret-plans", "private")
    await ana.add(room["id"], ben)
    message = (await ben.post(room["id"], "spam spam spam")).json()["message"]
    async with ana.socket() as sock:
        r = await boss.http.delete(f"/api/messages/{message['id']}")
        assert r.status_code == 204, r.text
        assert r.content == b""  # nothing of the message comes back
        frame = await sock.expect("message_deleted", timeout=15, message_id=message["id"])
    assert frame == {
        "type": "message_deleted",
        "room_id": room["id"],
        "message_id": message["id"],
        "seq": message["seq"],
    }
    stored = (await ana.history(room["id"]))[0]
    assert stored["deleted"] is True
    assert stored["body"] == ""
    # Deleting it again changes nothing and tells nothing.
    assert (await boss.http.delete(f"/api/messages/{message['id']}")).status_code == 204


async def test_a_site_admin_still_cannot_read_or_edit_a_room_they_are_not_in(
    boss: Person, ana: Person
) -> None:
    room = await ana.create_room("private-diary", "private")
    message = (await ana.post(room["id"], "dear diary, zanzibar")).json()["message"]
    for path in (
        f"/api/rooms/{room['id']}",
        f"/api/rooms/{room['id']}/messages",
        f"/api/rooms/{room['id']}/members",
    ):
        r = await boss.http.get(path)
        assert r.status_code in (403, 404), path
        assert "zanzibar" not in r.text and "private-diary" not in r.text
    r = await boss.http.patch(f"/api/messages/{message['id']}", json={"body": "rewritten"})
    assert r.status_code in (403, 404)
    r = await boss.http.get("/api/search", params={"q": "zanzibar"})
    assert "zanzibar" not in r.text
    async with boss.socket() as sock:
        assert room["id"] not in [r["id"] for r in sock.ready["rooms"]]
        await sock.send({"type": "resume", "cursors": {str(room["id"]): 0}})
        frames = await sock.settle()
    assert "zanzibar" not in str(frames)
    assert (await ana.history(room["id"]))[0]["body"] == "dear diary, zanzibar"


async def test_a_stranger_cannot_delete_a_message_in_a_room_they_are_not_in(
    ana: Person, cat: Person
) -> None:
    room = await ana.create_room("not-yours", "private")
    message = (await ana.post(room["id"], "stays")).json()["message"]
    r = await cat.http.delete(f"/api/messages/{message['id']}")
    assert r.status_code == 404  # the same as for a message that does not exist
    assert r.json()["error"]["code"] == "message_not_found"
    missing = await cat.http.delete("/api/messages/987654321")
    assert missing.json() == r.json()
    assert (await ana.history(room["id"]))[0]["deleted"] is False


async def test_a_plain_member_cannot_delete_someone_elses_message(ana: Person, ben: Person) -> None:
    room = await ana.create_room("members-only")
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "mine")).json()["message"]
    r = await ben.http.delete(f"/api/messages/{message['id']}")
    assert r.status_code == 403
    assert (await ana.history(room["id"]))[0]["deleted"] is False
