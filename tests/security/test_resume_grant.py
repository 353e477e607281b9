"""A resume in progress ends with the member's right to read the room.

A member resumes from far back and reads slowly, so the server is still paging history
when the grant ends (a ban, a kick, leaving, a disabled account). From that moment the
socket gets no more history pages and none of the messages posted afterwards.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

from tests.security.helpers import create_admin, sign_in
from tests.support import Person, ServerProcess, sign_up

# Far more than the socket buffers between a server and a client that stops reading
# (about 1-2 MB on loopback), so the server is mid-resume when the grant ends.
HISTORY = 1200
PAD = "h" * 5000
RECEIVE_BUFFER = 32 * 1024


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server without send limiting: one person writes the long history in seconds."""
    data_dir: Path = tmp_path_factory.mktemp("resume-grant") / "data"
    proc = ServerProcess(data_dir, env={"PARLEY_SEND_RATE": "0"}).start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def admin_name(busy_server: ServerProcess) -> str:
    return create_admin(busy_server)


@pytest.fixture
async def people(busy_server: ServerProcess) -> AsyncIterator[Callable[[], Awaitable[Person]]]:
    made: list[Person] = []

    async def make() -> Person:
        person = await sign_up(busy_server.url)
        made.append(person)
        return person

    yield make
    for person in made:
        await person.http.aclose()


async def _write_history(owner: Person, room_id: int) -> None:
    async with owner.socket() as sock:
        for i in range(HISTORY):
            await sock.send(
                {
                    "type": "send",
                    "room_id": room_id,
                    "body": f"history-{i} {PAD}",
                    "client_id": f"h{i}",
                }
            )
        acked = 0
        while acked < HISTORY:
            frame = await sock.next(timeout=30)
            assert frame["type"] != "error", frame
            acked += frame["type"] == "ack"


async def _read_to_the_end(
    ws: websockets.ClientConnection,
) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame until ``resumed`` plus a ping barrier, or until the server closes."""
    frames: list[dict[str, Any]] = []
    try:
        async with asyncio.timeout(60):
            while not frames or frames[-1]["type"] != "resumed":
                frames.append(orjson.loads(await ws.recv()))
            await ws.send('{"type":"ping"}')
            while frames[-1]["type"] != "pong":
                frames.append(orjson.loads(await ws.recv()))
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None
    return frames, None


def _small_window_socket(port: int) -> socket.socket:
    """A client socket with a small receive buffer, fixed before connecting so the
    kernel does not grow it: what the server can push ahead of the reader stays small."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER)
    sock.connect(("127.0.0.1", port))
    return sock


async def _grant_ender(
    how: str, server: ServerProcess, admin_name: str, owner: Person, member: Person, room_id: int
) -> Callable[[], Awaitable[None]]:
    """The request that ends the member's grant, made ready beforehand so that it is
    sent the moment the resume is under way."""
    if how == "disable":
        admin = await sign_in(server, admin_name)
        request = admin.http.post(f"/api/admin/users/{member.id}/disable")
    elif how == "ban":
        request = owner.http.delete(f"/api/rooms/{room_id}/members/{member.id}?ban=1")
    elif how == "kick":
        request = owner.http.delete(f"/api/rooms/{room_id}/members/{member.id}")
    else:
        request = member.http.delete(f"/api/rooms/{room_id}/members/me")

    async def end() -> None:
        r = await request
        assert r.status_code in (200, 204), r.text
        if how == "disable":
            await admin.http.aclose()

    return end


@pytest.mark.parametrize("how", ["ban", "kick", "leave", "disable"])
async def test_a_resume_in_progress_stops_when_the_grant_ends(
    busy_server: ServerProcess,
    admin_name: str,
    people: Callable[[], Awaitable[Person]],
    how: str,
) -> None:
    owner, member = await people(), await people()
    room = await owner.create_room(f"resume-{how}", "private")
    await owner.add(room["id"], member)
    await _write_history(owner, room["id"])

    end_grant = await _grant_ender(how, busy_server, admin_name, owner, member, room["id"])
    async with websockets.connect(
        member.ws_url,
        additional_headers={"Authorization": f"Bearer {member.token}"},
        max_size=2**22,
        max_queue=4,
        sock=_small_window_socket(busy_server.port),
    ) as ws:
        assert orjson.loads(await ws.recv())["type"] == "ready"
        await ws.send(orjson.dumps({"type": "resume", "cursors": {str(room["id"]): 0}}).decode())
        while (first := orjson.loads(await ws.recv()))["type"] != "message":
            assert first["type"] == "presence", first  # the owner's history socket closed
        assert first["message"]["seq"] == 1
        # The member reads no further: the server pages on as fast as the buffers allow.
        await end_grant()
        secret = f"after-{how}-{uuid.uuid4().hex}"
        assert (await owner.post(room["id"], secret)).status_code == 201
        frames, close_code = await _read_to_the_end(ws)

    assert secret not in str(frames)
    history = [f for f in frames if f["type"] == "message"]
    # Cut short: what was already in the socket's buffers, not the rest of the room.
    assert len(history) + 1 < HISTORY, f"{len(history) + 1} of {HISTORY} history messages sent"
    if how == "disable":
        assert close_code == 4401
    else:
        assert close_code is None
        left = [f for f in frames if f["type"] == "member_left"]
        assert [f["user"]["id"] for f in left] == [member.id]


@pytest.mark.parametrize("how", ["ban", "kick", "leave", "disable"])
async def test_live_messages_stop_the_moment_the_grant_ends(
    busy_server: ServerProcess,
    admin_name: str,
    people: Callable[[], Awaitable[Person]],
    how: str,
) -> None:
    owner, member = await people(), await people()
    room = await owner.create_room(f"live-{how}", "private")
    await owner.add(room["id"], member)
    end_grant = await _grant_ender(how, busy_server, admin_name, owner, member, room["id"])
    async with member.socket() as sock:
        assert (await owner.post(room["id"], "before")).status_code == 201
        assert (await sock.expect("message"))["message"]["body"] == "before"
        await end_grant()
        secret = f"live-after-{how}-{uuid.uuid4().hex}"
        assert (await owner.post(room["id"], secret)).status_code == 201
        frames, close_code = await _after_barrier(sock.ws)
    assert secret not in str(frames)
    assert close_code == (4401 if how == "disable" else None)


async def _after_barrier(
    ws: websockets.ClientConnection,
) -> tuple[list[dict[str, Any]], int | None]:
    """Every frame up to the pong that answers a ping sent now (or the server's close)."""
    frames: list[dict[str, Any]] = []
    try:
        await ws.send('{"type":"ping"}')
        async with asyncio.timeout(30):
            while not frames or frames[-1]["type"] != "pong":
                frames.append(orjson.loads(await ws.recv()))
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None
    return frames, None
