"""The hub hands each room's messages to connections in seq order, filling gaps once."""

from __future__ import annotations

import asyncio

import orjson

from parley.bus.base import Event
from parley.domain.models import User
from parley.realtime.connection import Connection
from parley.realtime.hub import Hub
from tests.unit.test_connection import parse_frames

ROOM = 7


class Recorder:
    """A connection's socket: the seqs of the message frames written to it."""

    write_paused = False

    def __init__(self) -> None:
        self.seqs: list[int] = []
        self.changed = asyncio.Event()

    def write(self, data: bytes) -> None:
        for payload in parse_frames(data):
            frame = orjson.loads(payload)
            if frame["type"] == "message":
                self.seqs.append(frame["message"]["seq"])
                self.changed.set()

    def close(self, code: int, reason: str) -> None:
        pass

    async def until(self, count: int) -> list[int]:
        async with asyncio.timeout(5):
            while len(self.seqs) < count:
                self.changed.clear()
                await self.changed.wait()
        return self.seqs


class Database:
    """Stands in for the store: every message of the room, and the reads made."""

    def __init__(self, last_seq: int) -> None:
        self.last_seq = last_seq
        self.reads: list[tuple[int, int, int]] = []

    async def fetch_after(self, room_id: int, after: int, limit: int) -> list[tuple[int, bytes]]:
        self.reads.append((room_id, after, limit))
        top = min(self.last_seq, after + limit)
        return [(seq, frame(seq)) for seq in range(after + 1, top + 1)]


def frame(seq: int) -> bytes:
    return orjson.dumps({"type": "message", "message": {"room_id": ROOM, "seq": seq}})


def event(seq: int, origin: str | None = None) -> Event:
    return Event(kind="room", room_id=ROOM, seq=seq, payload=frame(seq), origin=origin)


def connect(hub: Hub, name: str, delivered: int = 0) -> tuple[Connection, Recorder]:
    recorder = Recorder()
    conn = Connection(name, User(len(name), name, name, "2026-01-01T00:00:00Z"), None, recorder)
    hub.add(conn, [ROOM])
    conn.ready('{"type": "ready"}')
    conn.release(ROOM, delivered)
    hub.caught_up(ROOM, delivered)
    return conn, recorder


async def test_a_message_that_overtakes_its_predecessor_waits_for_it() -> None:
    db = Database(last_seq=3)
    hub = Hub(fetch_after=db.fetch_after)
    _, seen = connect(hub, "ana")
    hub.handle(event(2))
    hub.handle(event(1))
    hub.handle(event(3))
    assert await seen.until(3) == [1, 2, 3]
    assert db.reads == [], "a reorder that heals itself needs no database read"


async def test_a_lost_message_is_read_from_the_database_once_for_every_connection() -> None:
    db = Database(last_seq=5)
    hub = Hub(fetch_after=db.fetch_after)
    conns = [connect(hub, name) for name in ("ana", "ben", "cat")]
    hub.handle(event(1))
    for seq in (3, 5, 4):  # 2 never comes: its process died after the commit
        hub.handle(event(seq))
    for _, seen in conns:
        assert await seen.until(5) == [1, 2, 3, 4, 5]
    assert db.reads == [(ROOM, 1, 1)]


async def test_the_sender_is_not_echoed_its_own_message_when_it_arrives_late() -> None:
    hub = Hub(fetch_after=Database(last_seq=2).fetch_after)
    _, sender_seen = connect(hub, "ana")
    _, other_seen = connect(hub, "ben")
    hub.handle(event(2))
    hub.handle(event(1, origin="ana"))
    assert await other_seen.until(2) == [1, 2]
    assert await sender_seen.until(1) == [2]


async def test_after_the_bus_reconnects_every_room_catches_up_from_the_database() -> None:
    db = Database(last_seq=4)
    hub = Hub(fetch_after=db.fetch_after)
    _, seen = connect(hub, "ana", delivered=1)
    hub.handle(Event(kind="resync"))  # 2..4 were published while Redis was away
    assert await seen.until(3) == [2, 3, 4]
    hub.handle(event(4))
    hub.handle(event(5))
    assert await seen.until(4) == [2, 3, 4, 5]
    await hub.close()


class TypeRecorder(Recorder):
    """A socket that keeps the type of every frame written to it."""

    def __init__(self) -> None:
        super().__init__()
        self.types: list[str] = []

    def write(self, data: bytes) -> None:
        for payload in parse_frames(data):
            self.types.append(orjson.loads(payload)["type"])
            self.changed.set()


async def test_a_person_removed_during_a_resume_still_hears_they_left() -> None:
    hub = Hub(fetch_after=Database(last_seq=0).fetch_after)
    seen = TypeRecorder()
    conn = Connection("ana", User(3, "ana", "ana", "2026-01-01T00:00:00Z"), None, seen)
    hub.add(conn, [ROOM])
    conn.ready('{"type": "ready"}')
    # The resume read the grant's end from the database before the bus's leave event.
    hub.unfollow(conn, ROOM)
    left = orjson.dumps({"type": "member_left", "room_id": ROOM, "user": {"id": 3}})
    hub.handle(Event(kind="leave", room_id=ROOM, user_ids=[3], payload=left))
    async with asyncio.timeout(5):
        while "member_left" not in seen.types:
            seen.changed.clear()
            await seen.changed.wait()
    assert seen.types.count("member_left") == 1
