"""Live delivery over /ws: ready, send and ack, fan-out, resume, typing, read markers."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import httpx
import orjson
import pytest
import websockets

from parley.realtime.resume import RESUME_WAIT_S
from tests.support import Person, ServerProcess, Socket


async def test_ready_lists_my_rooms_with_their_last_seq(ana: Person) -> None:
    room = await ana.create_room("ready-room")
    await ana.post(room["id"], "one")
    async with ana.socket() as sock:
        assert sock.ready["user"]["username"] == ana.username
        assert {"id": room["id"], "last_seq": 1} in sock.ready["rooms"]


async def test_a_message_sent_over_ws_is_acked_to_the_sender_and_delivered_to_members(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("live", "private")
    await ana.add(room["id"], ben)
    async with ana.socket() as a, ana.socket() as a2, ben.socket() as b:
        ack = await a.send_message(room["id"], "hello ben", "cid-1")
        assert ack["message"]["seq"] == 1
        assert ack["message"]["author"]["username"] == ana.username
        got = await b.expect("message")
        assert got["message"]["body"] == "hello ben"
        assert got["message"]["seq"] == 1
        other_tab = await a2.expect("message")
        assert other_tab["message"]["client_id"] == "cid-1"
        # The sending connection gets the ack and no separate message frame.
        assert not [f for f in await a.settle() if f["type"] == "message"]


async def test_http_posts_reach_websocket_members(ana: Person, ben: Person) -> None:
    room = await ana.create_room("http-to-ws")
    await ana.add(room["id"], ben)
    async with ben.socket() as b:
        r = await ana.post(room["id"], "via http")
        assert r.status_code == 201
        got = await b.expect("message")
        assert got["message"]["body"] == "via http"


async def test_resume_sends_exactly_what_was_missed_in_order(ana: Person, ben: Person) -> None:
    room = await ana.create_room("resume")
    await ana.add(room["id"], ben)
    for i in range(5):
        await ana.post(room["id"], f"m{i}")
    async with ben.socket() as b:
        await b.send({"type": "resume", "cursors": {str(room["id"]): 2}})
        seqs = []
        while True:
            frame = await b.next()
            if frame["type"] == "resumed":
                break
            if frame["type"] == "message":
                seqs.append(frame["message"]["seq"])
        assert seqs == [3, 4, 5]


async def _messages_until_resumed(sock: Socket) -> list[dict[str, Any]]:
    got = []
    while (frame := await sock.next())["type"] != "resumed":
        if frame["type"] == "message":
            got.append(frame["message"])
    return got


async def test_a_client_that_will_resume_gets_backfill_and_live_messages_in_one_order(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("resume-order")
    quiet_room = await ana.create_room("not-resumed")
    await ana.add(room["id"], ben)
    await ana.add(quiet_room["id"], ben)
    for i in range(5):
        await ana.post(room["id"], f"missed {i}")
    async with ben.socket("resume=1") as b:
        # Messages stored after ``ready`` and before the resume: without the hold they
        # went out at once, ahead of the backfill of 3-5.
        for i in range(3):
            await ana.post(room["id"], f"live {i}")
        await ana.post(quiet_room["id"], "elsewhere")
        await asyncio.sleep(0.3)
        await b.send({"type": "resume", "cursors": {str(room["id"]): 2}})
        got = await _messages_until_resumed(b)
        got += [f["message"] for f in await b.settle() if f["type"] == "message"]
    assert [m["seq"] for m in got if m["room_id"] == room["id"]] == [3, 4, 5, 6, 7, 8]
    # A room left out of the resume goes live from ``ready`` on, as without the flag.
    assert [m["body"] for m in got if m["room_id"] == quiet_room["id"]] == ["elsewhere"]


async def test_a_client_that_said_it_will_resume_but_does_not_still_gets_live_messages(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("no-resume-after-all")
    await ana.add(room["id"], ben)
    async with ben.socket("resume=1") as b:
        await ana.post(room["id"], "hello")
        got = await b.expect("message", timeout=RESUME_WAIT_S + 5)
        assert got["message"]["body"] == "hello"


async def test_resume_of_a_room_i_am_not_in_gets_an_error_not_its_messages(
    ana: Person, ben: Person
) -> None:
    secret = await ana.create_room("secret", "private")
    await ana.post(secret["id"], "private words")
    async with ben.socket() as b:
        await b.send({"type": "resume", "cursors": {str(secret["id"]): 0}})
        error = await b.expect("error")
        assert error["code"] == "room_not_found"
        frames = []
        while (frame := await b.next())["type"] != "resumed":
            frames.append(frame)
        assert not [f for f in frames if f["type"] == "message"]


async def test_typing_reaches_other_members_only(ana: Person, ben: Person) -> None:
    room = await ana.create_room("typing")
    await ana.add(room["id"], ben)
    async with ana.socket() as a, ben.socket() as b:
        await a.send({"type": "typing", "room_id": room["id"]})
        frame = await b.expect("typing")
        assert frame["room_id"] == room["id"]
        assert frame["user"]["username"] == ana.username
        assert not [f for f in await a.settle() if f["type"] == "typing"]


async def test_read_marker_moves_unread_count(ana: Person, ben: Person) -> None:
    room = await ana.create_room("unread")
    await ana.add(room["id"], ben)
    for i in range(3):
        await ana.post(room["id"], f"u{i}")
    rooms = (await ben.http.get("/api/rooms")).json()["rooms"]
    assert next(r for r in rooms if r["id"] == room["id"])["unread"] == 3
    async with ben.socket() as b:
        await b.send({"type": "read", "room_id": room["id"], "seq": 2})
        await b.expect("read", room_id=room["id"])
    rooms = (await ben.http.get("/api/rooms")).json()["rooms"]
    assert next(r for r in rooms if r["id"] == room["id"])["unread"] == 1


async def test_a_read_marker_set_over_http_reaches_my_other_tabs_as_one_set_over_ws_does(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("read-everywhere")
    await ana.add(room["id"], ben)
    for i in range(3):
        await ana.post(room["id"], f"r{i}")
    async with ben.socket() as tab1, ben.socket() as tab2:
        await tab1.send({"type": "read", "room_id": room["id"], "seq": 1})
        by_ws = [await tab.expect("read", room_id=room["id"]) for tab in (tab1, tab2)]
        r = await ben.http.post(f"/api/rooms/{room['id']}/read", json={"seq": 2})
        assert r.json() == {"room_id": room["id"], "read_seq": 2}
        by_http = [await tab.expect("read", room_id=room["id"]) for tab in (tab1, tab2)]
        # No body: everything up to the room's newest message is read.
        assert (await ben.http.post(f"/api/rooms/{room['id']}/read")).json()["read_seq"] == 3
        everything = [await tab.expect("read", room_id=room["id"]) for tab in (tab1, tab2)]
    assert by_ws == [{"type": "read", "room_id": room["id"], "seq": 1}] * 2
    assert by_http == [{"type": "read", "room_id": room["id"], "seq": 2}] * 2
    assert everything == [{"type": "read", "room_id": room["id"], "seq": 3}] * 2


async def test_presence_announces_online_and_offline_to_room_members(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("presence")
    await ana.add(room["id"], ben)
    async with ana.socket() as a:
        async with ben.socket():
            online = await a.expect("presence", user_id=ben.id)
            assert online["status"] == "online"
            members = (await ana.http.get(f"/api/rooms/{room['id']}/members")).json()["members"]
            assert {m["username"]: m["status"] for m in members}[ben.username] == "online"
        offline = await a.expect("presence", user_id=ben.id)
        assert offline["status"] == "offline"


async def test_ping_gets_pong(ana: Person) -> None:
    async with ana.socket() as a:
        await a.send({"type": "ping"})
        await a.expect("pong")


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ("[1,2]", "invalid_frame"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "send", "room_id": 1}', "invalid_client_id"),
        ('{"type": "send", "room_id": "x", "client_id": "c", "body": "b"}', "invalid_room_id"),
        ('{"type": "resume", "cursors": []}', "invalid_cursors"),
        ('{"type": "read", "room_id": 1, "seq": -1}', "invalid_seq"),
        (
            '{"type": "send", "room_id": 1, "body": "' + "x" * 70_000 + '", "client_id": "c"}',
            "frame_too_large",
        ),
    ],
)
async def test_a_bad_frame_gets_an_error_frame_and_the_connection_lives_on(
    ana: Person, frame: str, code: str
) -> None:
    async with ana.socket() as a:
        await a.send(frame)
        error = await a.expect("error")
        assert error["code"] == code
        await a.send({"type": "ping"})
        await a.expect("pong")


async def test_sending_to_a_room_i_am_not_in_is_refused_with_ref(ana: Person, ben: Person) -> None:
    room = await ana.create_room("closed", "private")
    async with ben.socket() as b:
        await b.send({"type": "send", "room_id": room["id"], "body": "hi", "client_id": "x1"})
        error = await b.expect("error")
        assert error["code"] == "room_not_found"
        assert error["ref"] == "x1"
    assert await ana.history(room["id"]) == []


async def test_binary_frames_get_an_error(ana: Person) -> None:
    async with ana.socket() as a:
        await a.ws.send(b"\x00\x01")
        error = await a.expect("error")
        assert error["code"] == "binary_not_supported"


async def test_unauthenticated_upgrade_is_refused_with_401(server: ServerProcess) -> None:
    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(server.ws_url):
            pass
    assert info.value.response.status_code == 401


async def test_cross_origin_upgrade_is_refused_even_with_a_valid_cookie(
    server: ServerProcess, ana: Person
) -> None:
    headers = {"Cookie": f"parley_session={ana.token}", "Origin": "https://evil.example"}
    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(server.ws_url, additional_headers=headers):
            pass
    assert info.value.response.status_code == 403


async def test_same_origin_cookie_upgrade_is_accepted(server: ServerProcess, ana: Person) -> None:
    headers = {"Cookie": f"parley_session={ana.token}", "Origin": server.url}
    async with websockets.connect(server.ws_url, additional_headers=headers) as ws:
        ready = orjson.loads(await ws.recv())
        assert ready["type"] == "ready"


async def test_the_session_cookie_is_read_beside_a_cookie_of_another_app(
    server: ServerProcess, ana: Person
) -> None:
    # Another app on the same host may set values that http.cookies gives up on (JSON,
    # spaces): the session cookie after them must still open a socket, as over HTTP.
    jar = f'prefs={{"theme": "dark"}}; note=two words; parley_session={ana.token}'
    headers = {"Cookie": jar, "Origin": server.url}
    async with websockets.connect(server.ws_url, additional_headers=headers) as ws:
        assert orjson.loads(await ws.recv())["type"] == "ready"
    async with httpx.AsyncClient(base_url=server.url, headers={"Cookie": jar}) as http:
        assert (await http.get("/api/me")).status_code == 200


async def test_token_query_parameter_authenticates(server: ServerProcess, ana: Person) -> None:
    async with websockets.connect(f"{server.ws_url}?token={ana.token}") as ws:
        assert orjson.loads(await ws.recv())["type"] == "ready"


async def test_logout_closes_live_connections_of_that_session(server: ServerProcess) -> None:
    async with httpx.AsyncClient(base_url=server.url) as http:
        name = f"lo{uuid.uuid4().hex[:8]}"
        r = await http.post(
            "/api/auth/register", json={"username": name, "password": "pw-long-enough"}
        )
        token = r.json()["token"]
        async with websockets.connect(f"{server.ws_url}?token={token}") as ws:
            await ws.recv()
            r = await http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 204
            with pytest.raises(websockets.ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 5)
            assert info.value.rcvd is not None and info.value.rcvd.code == 4401


async def test_a_client_that_does_not_resume_still_gets_live_messages(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("no-resume")
    await ana.add(room["id"], ben)
    async with ben.socket() as b:
        await b.send({"type": "ping"})
        await b.expect("pong")
        await ana.post(room["id"], "live")
        frame = await b.expect("message", timeout=5)
        assert frame["message"]["body"] == "live"


async def test_pipelined_sends_from_one_connection_are_stored_in_the_order_sent(
    ana: Person,
) -> None:
    room = await ana.create_room("pipeline")
    async with ana.socket() as a:
        for i in range(60):
            await a.send(
                {"type": "send", "room_id": room["id"], "body": f"p{i}", "client_id": f"p{i}"}
            )
        acks = {}
        while len(acks) < 60:
            frame = await a.expect("ack")
            acks[frame["client_id"]] = frame["message"]["seq"]
    assert [acks[f"p{i}"] for i in range(60)] == list(range(1, 61))


async def test_frames_sent_before_ready_are_answered_after_it_in_order(ana: Person) -> None:
    async with websockets.connect(f"{ana.ws_url}?token={ana.token}") as raw:
        # Sent at once, before the server has read the session and built ready.
        await raw.send('{"type":"ping"}')
        await raw.send("not json")
        await raw.send('{"type":"ping"}')
        kinds = [orjson.loads(await raw.recv())["type"] for _ in range(4)]
    assert kinds == ["ready", "pong", "error", "pong"]


async def test_a_burst_past_the_read_pause_bound_gets_every_send_answered_in_order(
    ana: Person,
) -> None:
    # 600 sends in one go: reading pauses at 256 waiting and resumes as they commit.
    # The send rate limit answers some with errors; every send gets exactly one answer.
    room = await ana.create_room("burst")
    count = 600
    async with ana.socket() as a:
        await asyncio.gather(
            *(
                a.send(
                    {"type": "send", "room_id": room["id"], "body": f"b{i}", "client_id": f"b{i}"}
                )
                for i in range(count)
            )
        )
        answers: dict[str, dict] = {}
        while len(answers) < count:
            frame = await a.next()
            if frame["type"] == "ack":
                answers[frame["client_id"]] = frame
            elif frame["type"] == "error":
                assert frame["code"] == "rate_limited", frame
                answers[frame["ref"]] = frame
    acked = [answers[f"b{i}"] for i in range(count) if answers[f"b{i}"]["type"] == "ack"]
    assert acked, "the first sends fit the burst allowance"
    assert [f["message"]["seq"] for f in acked] == list(range(1, len(acked) + 1))
