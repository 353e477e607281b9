"""Read state: mark a room as read; mute and unmute it."""

from __future__ import annotations

from tests.support import Person


async def _entry(person: Person, room_id: int) -> dict:
    rooms = (await person.http.get("/api/rooms")).json()["rooms"]
    return next(r for r in rooms if r["id"] == room_id)


async def test_a_muted_room_says_so_in_my_room_list_and_my_other_tabs_hear_it(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("noisy")
    await ana.add(room["id"], ben)
    assert (await _entry(ben, room["id"]))["muted"] is False
    async with ben.socket() as other_tab:
        assert (await ben.http.put(f"/api/rooms/{room['id']}/mute")).status_code == 204
        frame = await other_tab.expect("room_muted")
        assert frame == {"type": "room_muted", "room_id": room["id"], "muted": True}
    assert (await _entry(ben, room["id"]))["muted"] is True
    assert (await _entry(ana, room["id"]))["muted"] is False
    assert (await ben.http.delete(f"/api/rooms/{room['id']}/mute")).status_code == 204
    assert (await _entry(ben, room["id"]))["muted"] is False


async def test_muting_a_room_i_am_not_in_is_not_found(ana: Person, cat: Person) -> None:
    room = await ana.create_room("not-yours", "private")
    r = await cat.http.put(f"/api/rooms/{room['id']}/mute")
    assert r.status_code == 404
    assert r.json()["error"]["code"] == "room_not_found"


async def test_marking_a_room_read_without_a_seq_clears_unread_and_mentions(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("catch-up")
    await ana.add(room["id"], ben)
    await ana.post(room["id"], "one")
    await ana.post(room["id"], f"two @{ben.username}")
    before = await _entry(ben, room["id"])
    assert (before["unread"], before["mentions"]) == (2, 1)
    r = await ben.http.post(f"/api/rooms/{room['id']}/read")
    assert r.status_code == 200
    assert r.json()["read_seq"] == 2
    after = await _entry(ben, room["id"])
    assert (after["unread"], after["mentions"]) == (0, 0)


async def test_marking_a_room_i_am_not_in_as_read_is_not_found(ana: Person, cat: Person) -> None:
    room = await ana.create_room("read-outsider", "private")
    assert (await cat.http.post(f"/api/rooms/{room['id']}/read")).status_code == 404
