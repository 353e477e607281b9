"""The outbound side of one connection: one write per step, bounds, ready first, pacing."""

from __future__ import annotations

import asyncio

from parley.domain.models import User
from parley.realtime import connection
from parley.realtime.connection import CLOSE_TOO_SLOW, Connection, FlushScheduler, framed

USER = User(id=1, username="ana", display_name="Ana", created_at="2026-01-01T00:00:00Z")


def parse_frames(data: bytes) -> list[bytes]:
    """Split unmasked server text frames (RFC 6455) into their payloads."""
    payloads = []
    at = 0
    while at < len(data):
        assert data[at] == 0x81, "a final text frame"
        length = data[at + 1]
        at += 2
        if length == 126:
            length = int.from_bytes(data[at : at + 2], "big")
            at += 2
        elif length == 127:
            length = int.from_bytes(data[at : at + 8], "big")
            at += 8
        payloads.append(data[at : at + length])
        at += length
    return payloads


class FakeSocket:
    """Records writes and closes; ``write_paused`` stands for a full socket buffer."""

    def __init__(self) -> None:
        self.writes: list[list[bytes]] = []
        self.closes: list[tuple[int, str]] = []
        self.write_paused = False

    def write(self, data: bytes) -> None:
        self.writes.append(parse_frames(data))

    def close(self, code: int, reason: str) -> None:
        self.closes.append((code, reason))


def _conn(sock: FakeSocket) -> Connection:
    conn = Connection("c1", USER, None, sock, FlushScheduler())
    conn.ready(b'{"type":"ready"}')
    return conn


async def test_frames_queued_in_one_step_go_out_in_one_write() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    for i in range(50):
        conn.push(f'{{"n":{i}}}')
    assert sock.writes == [], "nothing is written before the step ends"
    await asyncio.sleep(0)
    assert len(sock.writes) == 1
    assert len(sock.writes[0]) == 51  # ready and the fifty
    assert sock.writes[0][1] == b'{"n":0}'


async def test_one_callback_writes_every_connection_with_frames() -> None:
    scheduler = FlushScheduler()
    socks = [FakeSocket() for _ in range(3)]
    conns = [Connection(f"c{i}", USER, None, s, scheduler) for i, s in enumerate(socks)]
    shared = framed(b'{"type":"message"}')
    for conn in conns:
        conn.ready("{}")
        conn.deliver(7, 1, shared)
    await asyncio.sleep(0)
    assert [len(s.writes) for s in socks] == [1, 1, 1]
    assert all(s.writes[0][1] == b'{"type":"message"}' for s in socks)


async def test_frames_before_ready_wait_for_it() -> None:
    sock = FakeSocket()
    conn = Connection("c1", USER, None, sock)
    conn.push(b'{"type":"presence"}')
    await asyncio.sleep(0)
    assert sock.writes == []
    conn.ready(b'{"type":"ready"}')
    await asyncio.sleep(0)
    assert sock.writes[0] == [b'{"type":"ready"}', b'{"type":"presence"}']


async def test_a_queue_past_its_byte_bound_closes_with_4008() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    await asyncio.sleep(0)
    sock.write_paused = True  # the peer stopped reading
    big = "x" * (connection.MAX_QUEUED_BYTES // 4)
    for _ in range(5):
        conn.push(big)
    assert conn.close_code == CLOSE_TOO_SLOW
    assert sock.closes == [(CLOSE_TOO_SLOW, "too slow; reconnect and resume")]
    assert conn.queued == 0
    await asyncio.sleep(0)
    assert len(sock.writes) == 1, "what was queued is dropped: a resume recovers it"


async def test_a_burst_past_the_frame_bound_is_written_while_the_socket_takes_it() -> None:
    """2,001 answers made in one step (2,001 pings in one read) to a peer that reads:
    the bound counts frames left waiting on a full socket, not a burst."""
    sock = FakeSocket()
    conn = _conn(sock)
    for _ in range(connection.MAX_QUEUED_FRAMES + 1):
        conn.push('{"type":"pong"}')
    await asyncio.sleep(0)
    assert conn.close_code is None
    sent = [frame for write in sock.writes for frame in write]
    assert sent.count(b'{"type":"pong"}') == connection.MAX_QUEUED_FRAMES + 1


async def test_a_full_socket_queues_until_it_drains_then_sends_everything_at_once() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    await asyncio.sleep(0)
    sock.write_paused = True  # the peer reads slowly
    for i in range(3):
        conn.push(f'{{"n":{i}}}')
    await asyncio.sleep(0)
    assert len(sock.writes) == 1 and conn.queued == 3
    sock.write_paused = False
    conn.on_writable()
    assert sock.writes[1] == [b'{"n":0}', b'{"n":1}', b'{"n":2}']


async def test_a_peer_that_never_drains_is_closed_at_the_frame_bound() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    await asyncio.sleep(0)
    sock.write_paused = True
    for _ in range(connection.MAX_QUEUED_FRAMES + 1):
        conn.push("x")
    assert conn.close_code == CLOSE_TOO_SLOW
    assert sock.closes[0][0] == CLOSE_TOO_SLOW


async def test_resume_pacing_waits_until_the_queue_drains() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    await asyncio.sleep(0)
    sock.write_paused = True
    for _ in range(3):
        conn.push("y" * (connection.LOW_WATER_BYTES // 2))
    drained = asyncio.create_task(conn.drained())
    await asyncio.sleep(0.01)
    assert not drained.done()
    sock.write_paused = False
    conn.on_writable()
    await asyncio.wait_for(drained, 2)


async def test_a_lost_socket_ends_the_wait_for_a_drain() -> None:
    sock = FakeSocket()
    conn = _conn(sock)
    sock.write_paused = True
    drained = asyncio.create_task(conn.drained())
    await asyncio.sleep(0.01)
    conn.on_lost()
    await asyncio.wait_for(drained, 2)
    conn.push("after")
    await asyncio.sleep(0)
    assert conn.queued == 0
