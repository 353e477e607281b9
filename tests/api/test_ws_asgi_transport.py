"""The ASGI WebSocket transport, which runs when uvicorn no longer fits the fast one.

A server started with PARLEY_WS_TRANSPORT=asgi speaks /ws through uvicorn's stock
protocol and ASGI messages (parley.realtime.asgi_transport). Its users must not be able
to tell: the same refusals, frames, acks, resume, typing and close codes as the fast
transport gives (tests/api/test_realtime.py holds those against the default server).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator

import httpx
import orjson
import pytest
import websockets

from tests.support import Person, ServerProcess, sign_up


@pytest.fixture(scope="module")
def asgi_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(
        tmp_path_factory.mktemp("asgi") / "data", env={"PARLEY_WS_TRANSPORT": "asgi"}
    ).start()
    yield proc
    proc.stop()


@pytest.fixture
async def ana(asgi_server: ServerProcess) -> AsyncIterator[Person]:
    person = await sign_up(asgi_server.url)
    yield person
    await person.http.aclose()


@pytest.fixture
async def ben(asgi_server: ServerProcess) -> AsyncIterator[Person]:
    person = await sign_up(asgi_server.url)
    yield person
    await person.http.aclose()


def test_the_server_says_it_runs_the_asgi_transport(asgi_server: ServerProcess) -> None:
    assert "WebSocket transport: asgi" in asgi_server.log()


async def test_ready_lists_my_rooms_with_their_last_seq(ana: Person) -> None:
    room = await ana.create_room("asgi-ready")
    await ana.post(room["id"], "one")
    async with ana.socket() as sock:
        assert sock.ready["user"]["username"] == ana.username
        assert {"id": room["id"], "last_seq": 1} in sock.ready["rooms"]


async def test_a_send_is_acked_and_delivered_to_members_and_my_other_tab(
    ana: Person, ben: Person
) -> None:
    room = await ana.create_room("asgi-live", "private")
    await ana.add(room["id"], ben)
    async with ana.socket() as a, ana.socket() as a2, ben.socket() as b:
        ack = await a.send_message(room["id"], "hello ben", "cid-1")
        assert ack["message"]["seq"] == 1
        got = await b.expect("message")
        assert got["message"]["body"] == "hello ben"
        assert (await a2.expect("message"))["message"]["client_id"] == "cid-1"
        assert not [f for f in await a.settle() if f["type"] == "message"]
    assert [m["body"] for m in await ben.history(room["id"])] == ["hello ben"]


async def test_pipelined_sends_are_acked_in_order(ana: Person) -> None:
    room = await ana.create_room("asgi-pipeline")
    async with ana.socket() as a:
        for i in range(50):
            await a.send(
                {"type": "send", "room_id": room["id"], "body": f"m{i}", "client_id": f"c{i}"}
            )
        acks = [await a.expect("ack") for _ in range(50)]
    assert [ack["client_id"] for ack in acks] == [f"c{i}" for i in range(50)]
    assert [ack["message"]["seq"] for ack in acks] == list(range(1, 51))


async def test_resume_sends_exactly_what_was_missed_in_order(ana: Person, ben: Person) -> None:
    room = await ana.create_room("asgi-resume")
    await ana.add(room["id"], ben)
    for i in range(5):
        await ana.post(room["id"], f"m{i}")
    async with ben.socket() as b:
        await b.send({"type": "resume", "cursors": {str(room["id"]): 2}})
        seqs = []
        while (frame := await b.next())["type"] != "resumed":
            if frame["type"] == "message":
                seqs.append(frame["message"]["seq"])
    assert seqs == [3, 4, 5]


async def test_typing_reaches_other_members_only(ana: Person, ben: Person) -> None:
    room = await ana.create_room("asgi-typing")
    await ana.add(room["id"], ben)
    async with ana.socket() as a, ben.socket() as b:
        await a.send({"type": "typing", "room_id": room["id"]})
        frame = await b.expect("typing")
        assert frame["room_id"] == room["id"]
        assert frame["user"]["username"] == ana.username
        assert not [f for f in await a.settle() if f["type"] == "typing"]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("not json", "invalid_json"),
        ('{"type": "dance"}', "unknown_type"),
        ('{"type": "send", "room_id": "x", "client_id": "c", "body": "b"}', "invalid_room_id"),
    ],
)
async def test_a_bad_frame_gets_an_error_frame_and_the_connection_lives_on(
    ana: Person, frame: str, code: str
) -> None:
    async with ana.socket() as a:
        await a.send(frame)
        assert (await a.expect("error"))["code"] == code
        await a.send({"type": "ping"})
        await a.expect("pong")


async def test_a_binary_frame_gets_an_error(ana: Person) -> None:
    async with ana.socket() as a:
        await a.ws.send(b"\x00\x01")
        assert (await a.expect("error"))["code"] == "binary_not_supported"


async def test_an_upgrade_without_a_session_is_refused_401_with_the_json_error(
    asgi_server: ServerProcess,
) -> None:
    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(asgi_server.ws_url):
            pass
    response = info.value.response
    assert response.status_code == 401
    assert orjson.loads(response.body)["error"]["code"] == "unauthorized"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_a_cross_origin_upgrade_is_refused_403(
    asgi_server: ServerProcess, ana: Person
) -> None:
    headers = {"Cookie": f"parley_session={ana.token}", "Origin": "https://evil.example"}
    with pytest.raises(websockets.InvalidStatus) as info:
        async with websockets.connect(asgi_server.ws_url, additional_headers=headers):
            pass
    assert info.value.response.status_code == 403
    assert orjson.loads(info.value.response.body)["error"]["code"] == "cross_origin"


async def test_logout_closes_live_connections_of_that_session_with_4401(
    asgi_server: ServerProcess,
) -> None:
    async with httpx.AsyncClient(base_url=asgi_server.url) as http:
        r = await http.post(
            "/api/auth/register",
            json={"username": f"lo{uuid.uuid4().hex[:8]}", "password": "pw-long-enough"},
        )
        token = r.json()["token"]
        async with websockets.connect(f"{asgi_server.ws_url}?token={token}") as ws:
            assert orjson.loads(await ws.recv())["type"] == "ready"
            r = await http.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
            assert r.status_code == 204
            with pytest.raises(websockets.ConnectionClosed) as info:
                await asyncio.wait_for(ws.recv(), 5)
            assert info.value.rcvd is not None and info.value.rcvd.code == 4401
