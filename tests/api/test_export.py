"""Export: the room owner downloads the room's history as JSON."""

from __future__ import annotations

import json

from tests.support import Person


async def test_the_owner_downloads_the_whole_history_as_an_attachment(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("exportable")
    await ana.add(room["id"], ben)
    for i in range(7):
        await (ana if i % 2 else ben).post(room["id"], f"line {i}")
    gone = (await ana.post(room["id"], "deleted one")).json()["message"]
    await ana.http.delete(f"/api/messages/{gone['id']}")
    r = await ana.http.get(f"/api/rooms/{room['id']}/export")
    assert r.status_code == 200
    assert r.headers["content-disposition"].startswith("attachment;")
    assert "exportable" in r.headers["content-disposition"]
    data = json.loads(r.content)
    assert data["room"]["id"] == room["id"]
    assert [m["seq"] for m in data["messages"]] == list(range(1, 9))
    assert data["messages"][0]["body"] == "line 0"
    assert data["messages"][-1]["deleted"] is True
    assert data["files"] == []


async def test_members_cannot_export_and_outsiders_get_not_found(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("no-export", "private")
    await ana.add(room["id"], ben)
    await ana.post(room["id"], "confidential")
    r = await ben.http.get(f"/api/rooms/{room['id']}/export")
    assert r.status_code == 403
    r = await cat.http.get(f"/api/rooms/{room['id']}/export")
    assert r.status_code == 404
    assert "confidential" not in r.text
