"""The outbound side of one connection: bounds, batched writes, ready first, abort."""

from __future__ import annotations

import asyncio
from typing import Any

from parley.domain.models import User
from parley.realtime import connection
from parley.realtime.connection import CLOSE_TOO_SLOW, Connection

USER = User(id=1, username="ana", display_name="Ana", created_at="2026-01-01T00:00:00Z")


class FakeSocket:
    """Records batched writes; ``blocked`` makes a write wait like a full socket."""

    def __init__(self) -> None:
        self.batches: list[list[bytes]] = []
        self.closes: list[dict[str, Any]] = []
        self.blocked = asyncio.Event()
        self.blocked.set()
        self.aborted = False

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.close":
            self.closes.append(message)

    async def send_batch(self, frames: list[bytes]) -> None:
        await self.blocked.wait()
        if self.aborted:
            raise ConnectionResetError
        self.batches.append(frames)

    def abort(self) -> None:
        self.aborted = True
        self.blocked.set()


def _conn(sock: FakeSocket) -> Connection:
    conn = Connection("c1", USER, None, sock.send, send_batch=sock.send_batch, abort=sock.abort)
    conn.ready(b'{"type":"ready"}')
    return conn


async def test_frames_waiting_together_go_out_in_one_write() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    for i in range(50):
        conn.push(f'{{"n":{i}}}')
    writer = asyncio.create_task(conn.run_writer())
    await asyncio.sleep(0.01)
    assert len(sock.batches) == 1
    assert len(sock.batches[0]) == 51  # ready and the fifty
    conn.close(1000)
    await writer


async def test_frames_before_ready_wait_for_it() -> None:
    sock = FakeSocket()
    conn = Connection("c1", USER, None, sock.send, send_batch=sock.send_batch)
    conn.push(b'{"type":"presence"}')
    conn.ready(b'{"type":"ready"}')
    writer = asyncio.create_task(conn.run_writer())
    await asyncio.sleep(0.01)
    assert sock.batches[0] == [b'{"type":"ready"}', b'{"type":"presence"}']
    conn.close(1000)
    await writer


async def test_a_queue_past_its_byte_bound_closes_with_4008() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    big = "x" * (connection.MAX_QUEUED_BYTES // 4)
    for _ in range(5):
        conn.push(big)
    assert conn.close_code == CLOSE_TOO_SLOW
    assert conn.queued == 0


async def test_a_writer_stuck_on_a_full_socket_is_aborted_after_the_grace(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(connection, "CLOSE_GRACE_S", 0.05)
    sock = FakeSocket()
    conn = _conn(sock)
    writer = asyncio.create_task(conn.run_writer())
    await asyncio.sleep(0.01)
    sock.blocked.clear()  # the peer stopped reading
    conn.push("one more")
    await asyncio.sleep(0.01)
    for _ in range(connection.MAX_QUEUED_FRAMES + 1):
        conn.push("x")
    assert conn.close_code == CLOSE_TOO_SLOW
    await asyncio.wait_for(writer, 2)
    assert sock.aborted
    assert conn.closed.is_set()


async def test_a_slow_reader_that_drains_in_time_gets_the_close_frame_not_a_reset(
    monkeypatch: Any,
) -> None:
    monkeypatch.setattr(connection, "CLOSE_GRACE_S", 1.0)
    sock = FakeSocket()
    conn = _conn(sock)
    writer = asyncio.create_task(conn.run_writer())
    await asyncio.sleep(0.01)
    sock.blocked.clear()
    conn.push("pending")
    await asyncio.sleep(0.01)
    conn.close(CLOSE_TOO_SLOW, "too slow")
    sock.blocked.set()  # it reads again within the grace
    await asyncio.wait_for(writer, 2)
    assert not sock.aborted
    assert sock.closes[0]["code"] == CLOSE_TOO_SLOW


async def test_resume_pacing_waits_until_the_queue_drains() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    sock.blocked.clear()
    writer = asyncio.create_task(conn.run_writer())
    for _ in range(5):  # one batch goes to the blocked socket, the rest stays queued
        conn.push("y" * (connection.LOW_WATER_BYTES // 2))
    drained = asyncio.create_task(conn.drained())
    await asyncio.sleep(0.01)
    assert not drained.done()
    sock.blocked.set()
    await asyncio.wait_for(drained, 2)
    conn.close(1000)
    await writer
