"""Pins (a room's, seen by its members, set by its owner and admins) and saved messages
(a person's own list, checked against their access each time it is read)."""

from __future__ import annotations

from typing import Any

from tests.support import Person


async def pins_of(person: Person, room_id: int) -> list[dict[str, Any]]:
    r = await person.http.get(f"/api/rooms/{room_id}/pins")
    assert r.status_code == 200, r.text
    return list(r.json()["pins"])


async def saved_of(person: Person) -> list[dict[str, Any]]:
    r = await person.http.get("/api/saved")
    assert r.status_code == 200, r.text
    return list(r.json()["saved"])


async def test_admins_pin_members_see_it_live_and_in_the_list(ana: Person, ben: Person) -> None:
    room = await ana.create_room("pins")
    await ana.add(room["id"], ben)
    message = (await ben.post(room["id"], "the wifi password is in the wiki")).json()["message"]
    async with ben.socket() as b:
        assert (await ana.http.post(f"/api/messages/{message['id']}/pin")).status_code == 204
        frame = await b.expect("pin")
        assert frame == {
            "type": "pin",
            "room_id": room["id"],
            "message_id": message["id"],
            "pinned": True,
            "user_id": ana.id,
        }
        # Pinning again changes nothing and sends nothing.
        assert (await ana.http.post(f"/api/messages/{message['id']}/pin")).status_code == 204
        found = await pins_of(ben, room["id"])
        assert [p["message"]["id"] for p in found] == [message["id"]]
        assert found[0]["pinned_by"] == ana.id
        assert (await ana.http.delete(f"/api/messages/{message['id']}/pin")).status_code == 204
        frame = await b.expect("pin")
        assert frame["pinned"] is False
        assert not [f for f in await b.settle() if f["type"] == "pin"]
    assert await pins_of(ana, room["id"]) == []


async def test_plain_members_of_a_channel_cannot_pin_but_both_people_in_a_dm_can(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("pin-roles")
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "rules")).json()["message"]
    r = await ben.http.post(f"/api/messages/{message['id']}/pin")
    assert r.status_code == 403
    assert r.json()["error"]["code"] == "forbidden"
    dm = (await ben.http.post("/api/dms", json={"username": ana.username})).json()["room"]
    note = (await ana.post(dm["id"], "address")).json()["message"]
    assert (await ben.http.post(f"/api/messages/{note['id']}/pin")).status_code == 204
    assert [p["message"]["id"] for p in await pins_of(ana, dm["id"])] == [note["id"]]


async def test_a_deleted_message_cannot_be_pinned_or_saved_and_leaves_the_lists(
    ana: Person,
) -> None:
    room = await ana.create_room("pin-deleted")
    message = (await ana.post(room["id"], "soon gone")).json()["message"]
    assert (await ana.http.post(f"/api/messages/{message['id']}/pin")).status_code == 204
    assert (await ana.http.post(f"/api/messages/{message['id']}/save")).status_code == 204
    await ana.http.delete(f"/api/messages/{message['id']}")
    assert await pins_of(ana, room["id"]) == []
    assert await saved_of(ana) == []
    for action in ("pin", "save"):
        r = await ana.http.post(f"/api/messages/{message['id']}/{action}")
        assert r.status_code == 409, r.text
        assert r.json()["error"]["code"] == "message_deleted"


async def test_saved_messages_are_private_and_newest_first(ana: Person, ben: Person) -> None:
    room = await ana.create_room("saving")
    await ana.add(room["id"], ben)
    first = (await ana.post(room["id"], "first")).json()["message"]
    second = (await ana.post(room["id"], "second")).json()["message"]
    for message in (first, second):
        assert (await ben.http.post(f"/api/messages/{message['id']}/save")).status_code == 204
    assert (await ben.http.post(f"/api/messages/{first['id']}/save")).status_code == 204
    found = await saved_of(ben)
    assert [s["message"]["body"] for s in found] == ["second", "first"]
    assert all(s["saved_at"] for s in found)
    assert await saved_of(ana) == []
    assert (await ben.http.delete(f"/api/messages/{second['id']}/save")).status_code == 204
    assert (await ben.http.delete(f"/api/messages/{second['id']}/save")).status_code == 204
    assert [s["message"]["body"] for s in await saved_of(ben)] == ["first"]


async def test_outsiders_cannot_pin_save_or_list_and_a_room_left_empties_the_saved_list(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("pin-secret", "private")
    await ana.add(room["id"], ben)
    message = (await ana.post(room["id"], "secret launch date")).json()["message"]
    assert (await ana.http.post(f"/api/messages/{message['id']}/pin")).status_code == 204
    assert (await ben.http.post(f"/api/messages/{message['id']}/save")).status_code == 204

    async def locked_out(person: Person) -> None:
        for method, url in (
            ("POST", f"/api/messages/{message['id']}/pin"),
            ("DELETE", f"/api/messages/{message['id']}/pin"),
            ("POST", f"/api/messages/{message['id']}/save"),
            ("GET", f"/api/rooms/{room['id']}/pins"),
        ):
            r = await person.http.request(method, url)
            assert r.status_code == 404, (method, url, r.text)
            assert "launch" not in r.text
        assert "launch" not in (await person.http.get("/api/saved")).text

    await locked_out(cat)
    r = await ana.http.delete(f"/api/rooms/{room['id']}/members/{ben.id}")
    assert r.status_code == 204
    # The saved row is still ben's, but what it points at is not readable any more.
    assert await saved_of(ben) == []
    await locked_out(ben)
    assert [p["message"]["id"] for p in await pins_of(ana, room["id"])] == [message["id"]]
