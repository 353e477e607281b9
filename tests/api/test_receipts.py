"""Read receipts: in DMs and small rooms members see how far the others have read."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from parley.domain.receipts import RECEIPTS_MAX_MEMBERS
from tests.support import Person, Socket

COALESCE_S = 1.0  # ctx.receipts: one frame per reader and room per second


async def receipts_of(person: Person, room_id: int) -> list[dict[str, Any]] | None:
    r = await person.http.get(f"/api/rooms/{room_id}")
    assert r.status_code == 200, r.text
    found = r.json()["receipts"]
    return None if found is None else list(found)


async def no_receipt_within(sock: Socket, seconds: float) -> None:
    await asyncio.sleep(seconds)
    assert not [f for f in await sock.settle() if f["type"] == "receipt"]


async def test_a_dm_partner_sees_how_far_i_read_live_and_in_the_rooms_detail(
    ana: Person, ben: Person
) -> None:
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    posted = [(await ana.post(dm["id"], f"note {i}")).json()["message"] for i in range(3)]
    async with ana.socket() as a:
        # Several moves within a second reach ana as one frame, at the latest position.
        for message in posted:
            r = await ben.http.post(f"/api/rooms/{dm['id']}/read", json={"seq": message["seq"]})
            assert r.status_code == 200
        frame = await a.expect("receipt", timeout=5)
        assert frame == {
            "type": "receipt",
            "room_id": dm["id"],
            "user_id": ben.id,
            "seq": posted[-1]["seq"],
        }
        await no_receipt_within(a, COALESCE_S + 0.5)
    assert await receipts_of(ana, dm["id"]) == [{"user_id": ben.id, "read_seq": posted[-1]["seq"]}]
    # Over the WebSocket too.
    async with ana.socket() as a, ben.socket() as b:
        latest = (await ana.post(dm["id"], "one more")).json()["message"]
        await b.send({"type": "read", "room_id": dm["id"], "seq": latest["seq"]})
        assert (await a.expect("receipt", timeout=5))["seq"] == latest["seq"]


async def test_turning_receipts_off_hides_mine_and_theirs(ana: Person, ben: Person) -> None:
    dm = (await ana.http.post("/api/dms", json={"username": ben.username})).json()["room"]
    message = (await ana.post(dm["id"], "read me")).json()["message"]
    assert (await ben.http.get("/api/me/read-receipts")).json() == {"enabled": True}
    r = await ben.http.put("/api/me/read-receipts", json={"enabled": False})
    assert r.status_code == 204
    assert (await ben.http.get("/api/me/read-receipts")).json() == {"enabled": False}
    async with ana.socket() as a:
        await ben.http.post(f"/api/rooms/{dm['id']}/read", json={"seq": message["seq"]})
        await no_receipt_within(a, COALESCE_S + 0.5)
    assert await receipts_of(ana, dm["id"]) == []
    # Off both ways: ben sees no one's either.
    assert await receipts_of(ben, dm["id"]) is None
    async with ben.socket() as b:
        await ana.http.post(f"/api/rooms/{dm['id']}/read", json={"seq": message["seq"]})
        await no_receipt_within(b, COALESCE_S + 0.5)
    for bad in ("no", 1, None):
        r = await ben.http.put("/api/me/read-receipts", json={"enabled": bad})
        assert r.status_code == 400, (bad, r.text)


async def test_rooms_past_the_limit_show_no_receipts(
    ana: Person, person_factory: Callable[[], Awaitable[Person]]
) -> None:
    room = await ana.create_room("big-room")
    others = [await person_factory() for _ in range(RECEIPTS_MAX_MEMBERS)]
    for person in others[:-1]:
        await ana.add(room["id"], person)
    assert len(await receipts_of(ana, room["id"]) or []) == RECEIPTS_MAX_MEMBERS - 1
    await ana.add(room["id"], others[-1])
    assert await receipts_of(ana, room["id"]) is None
    for person in others:
        await person.http.aclose()


async def test_outsiders_and_removed_members_get_no_receipts(
    ana: Person, ben: Person, cat: Person
) -> None:
    room = await ana.create_room("receipts-private", "private")
    await ana.add(room["id"], ben)
    await ana.add(room["id"], cat)
    message = (await ana.post(room["id"], "hello")).json()["message"]
    assert (await cat.http.get(f"/api/rooms/{room['id']}")).status_code == 200
    assert (await ana.http.delete(f"/api/rooms/{room['id']}/members/{cat.id}")).status_code == 204
    r = await cat.http.get(f"/api/rooms/{room['id']}")
    assert r.status_code == 404
    assert "receipts" not in r.text
    async with cat.socket() as c, ana.socket() as a:
        await ben.http.post(f"/api/rooms/{room['id']}/read", json={"seq": message["seq"]})
        assert (await a.expect("receipt", timeout=5))["user_id"] == ben.id
        await no_receipt_within(c, 0.2)
