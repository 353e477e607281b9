"""The WebSocket, frame type by frame type, against people who are not in the room."""

from __future__ import annotations

import uuid

import httpx
import pytest
import websockets

from tests.support import Person, ServerProcess


async def test_every_frame_about_a_room_i_am_not_in_is_refused_and_leaks_nothing(
    ana: Person, cat: Person
) -> None:
    room = await ana.create_room("ws-hideout", "private")
    secret = f"ws-secret-{uuid.uuid4().hex[:8]}"
    await ana.post(room["id"], secret)
    rid = room["id"]
    async with ana.socket() as a, cat.socket() as c:
        assert rid not in [r["id"] for r in c.ready["rooms"]]
        frames = [
            {"type": "send", "room_id": rid, "body": "intrusion", "client_id": "x1"},
            {"type": "typing", "room_id": rid},
            {"type": "read", "room_id": rid, "seq": 1},
            {"type": "resume", "cursors": {str(rid): 0}},
        ]
        for frame in frames:
            await c.send(frame)
        got = await c.settle()
        # A send is pipelined and answered by its own ack or error, possibly after the pong.
        if not [f for f in got if f.get("ref") == "x1"]:
            got.append(await c.expect("error", timeout=10, ref="x1"))
        got += await c.settle()
        errors = [f for f in got if f["type"] == "error"]
        assert len(errors) == 4
        assert secret not in str(got)
        assert not [f for f in got if f["type"] in ("message", "ack", "typing")]
        # Ana saw no typing, no message from the intruder.
        seen = await a.settle()
        assert not [f for f in seen if f["type"] in ("typing", "message")]
    assert [m["body"] for m in await ana.history(rid)] == [secret]


async def test_a_member_who_leaves_stops_receiving_at_once(ana: Person, ben: Person) -> None:
    room = await ana.create_room("ws-leave", "private")
    await ana.add(room["id"], ben)
    async with ben.socket() as b:
        await ana.post(room["id"], "before")
        assert (await b.expect("message"))["message"]["body"] == "before"
        r = await ben.http.delete(f"/api/rooms/{room['id']}/members/me")
        assert r.status_code == 204
        await ana.post(room["id"], "after-leaving")
        async with ana.socket() as a:
            await a.send({"type": "typing", "room_id": room["id"]})
            await a.settle()
            late = await b.settle()
        assert "after-leaving" not in str(late)
        assert not [f for f in late if f["type"] == "typing"]
        await b.send({"type": "send", "room_id": room["id"], "body": "x", "client_id": "late"})
        error = await b.expect("error", timeout=10)
        assert error["ref"] == "late"


async def test_presence_is_not_told_to_strangers(ana: Person, cat: Person) -> None:
    async with ana.socket() as a:
        async with cat.socket() as c:
            await c.settle()
            frames = await a.settle()
        frames += await a.settle()
    assert not [f for f in frames if f.get("type") == "presence" and f["user_id"] == cat.id]


async def test_anonymous_forged_and_signed_out_sockets_are_refused(
    server: ServerProcess, ana: Person
) -> None:
    for url, headers in (
        (server.ws_url, {}),
        (server.ws_url, {"Authorization": "Bearer " + "A" * 43}),
        (f"{server.ws_url}?token=forged", {}),
        (server.ws_url, {"Cookie": "parley_session=forged"}),
    ):
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 401
    token = ana.token
    async with ana.socket() as sock:
        await ana.http.post("/api/auth/logout")
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.expect("never", timeout=30)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4401
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        r = await http.get("/api/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(f"{server.ws_url}?token={token}"):
            pass
