"""A chat client that survives server restarts the way a good real client does.

It keeps a window of sends in flight, re-sends unacked ones with the same ``client_id``
after a reconnect, resumes every room from the highest seq it holds without a gap, and
records what it saw so that a test can compare it with what the server stored.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import Any

import orjson
import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from tests.support import Person

RECONNECT_PAUSE_S = 0.05
CONNECT_TIMEOUT_S = 5.0


@dataclass
class Session:
    """What one connection has received, and the cursors it resumed from."""

    last: dict[int, int] = field(default_factory=dict)  # stream -> last seq
    seen: set[tuple[int, int]] = field(default_factory=set)  # (room, seq)
    cursors: dict[int, int] = field(default_factory=dict)


@dataclass
class ClientRecord:
    seen: dict[int, dict[int, str | None]] = field(default_factory=dict)  # room -> seq -> cid
    acked: dict[str, tuple[int, int]] = field(default_factory=dict)  # cid -> (room, seq)
    # Message frames the server sent twice on one connection, or at or below the cursor
    # the client resumed from. A resume sends everything after the cursor, so a seq the
    # client already held above it (its own acked message past a gap) may come again in
    # a later session; the client drops it by seq, as a real client does.
    repeated: list[tuple[int, int]] = field(default_factory=list)
    out_of_order: list[tuple[int, int, int]] = field(default_factory=list)
    close_codes: list[int | None] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    sessions: int = 0


class ResilientClient:
    def __init__(
        self, person: Person, room_ids: list[int], send_room: int, total: int, window: int = 4
    ) -> None:
        self.person = person
        self.room_ids = room_ids
        self.send_room = send_room
        self.pending = [f"{person.username}-{i}" for i in range(total)]
        self.outstanding: dict[str, int] = {}
        self.window = window
        self.record = ClientRecord(seen={rid: {} for rid in room_ids})
        self._slot = asyncio.Event()
        self._backoff = 0.0
        self._ready_seq: dict[int, int] = {}
        self.first_ack = asyncio.Event()

    @property
    def done_sending(self) -> bool:
        return not self.pending and not self.outstanding

    def cursor(self, room_id: int) -> int:
        """The highest seq n such that 1..n have all been seen: where to resume from."""
        seen = self.record.seen[room_id]
        n = 0
        while n + 1 in seen:
            n += 1
        return n

    async def run(self, stop: asyncio.Event) -> None:
        """Connect, resume and send until everything is acked and ``stop`` is set."""
        while not (stop.is_set() and self.done_sending):
            with contextlib.suppress(OSError, ConnectionClosed, InvalidHandshake, TimeoutError):
                await self._session(stop)
            await asyncio.sleep(RECONNECT_PAUSE_S)

    async def catch_up(self) -> None:
        """One last connection: resume every room and return at ``resumed``."""
        async with self._connect() as ws:
            ready = orjson.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT_S))
            self._ready_seq = {r["id"]: r["last_seq"] for r in ready["rooms"]}
            session = Session()
            await self._resume(ws, session)
            async for raw in ws:
                frame = orjson.loads(raw)
                self._on_frame(frame, session)
                if frame["type"] == "resumed":
                    return

    def _connect(self) -> Any:
        return websockets.connect(
            self.person.ws_url,
            additional_headers={"Authorization": f"Bearer {self.person.token}"},
            open_timeout=CONNECT_TIMEOUT_S,
            max_size=2**22,
            ping_interval=None,
        )

    async def _resume(self, ws: Any, session: Session) -> None:
        cursors = {rid: self.cursor(rid) for rid in self.room_ids}
        session.cursors = cursors
        payload = {"type": "resume", "cursors": {str(rid): c for rid, c in cursors.items()}}
        await ws.send(orjson.dumps(payload).decode())

    async def _session(self, stop: asyncio.Event) -> None:
        async with self._connect() as ws:
            self.record.sessions += 1
            session = Session()
            try:
                ready = orjson.loads(await asyncio.wait_for(ws.recv(), CONNECT_TIMEOUT_S))
                assert ready["type"] == "ready", ready
                self._ready_seq = {r["id"]: r["last_seq"] for r in ready["rooms"]}
                await self._resume(ws, session)
                sender = asyncio.create_task(self._sender(ws))
                try:
                    while not (stop.is_set() and self.done_sending):
                        try:
                            raw = await asyncio.wait_for(ws.recv(), 0.2)
                        except TimeoutError:
                            continue
                        self._on_frame(orjson.loads(raw), session)
                finally:
                    sender.cancel()
                    with contextlib.suppress(asyncio.CancelledError, ConnectionClosed, OSError):
                        await sender
            except ConnectionClosed as exc:
                self.record.close_codes.append(exc.rcvd.code if exc.rcvd else None)
                raise

    async def _sender(self, ws: Any) -> None:
        for cid in list(self.outstanding):  # unacked before the break: same client_id again
            await self._send(ws, cid)
        while self.pending or self.outstanding:
            while self.pending and len(self.outstanding) < self.window:
                if self._backoff:
                    await asyncio.sleep(self._backoff)
                    self._backoff = 0.0
                cid = self.pending.pop(0)
                self.outstanding[cid] = self.send_room
                await self._send(ws, cid)
            self._slot.clear()
            await self._slot.wait()

    async def _send(self, ws: Any, cid: str) -> None:
        frame = {
            "type": "send",
            "room_id": self.send_room,
            "body": f"body of {cid}",
            "client_id": cid,
        }
        await ws.send(orjson.dumps(frame).decode())

    def _on_frame(self, frame: dict[str, Any], session: Session) -> None:
        kind = frame["type"]
        if kind == "message":
            message = frame["message"]
            room, seq = message["room_id"], message["seq"]
            # Backfill (at or below ready's last_seq, sent by resume) and live frames
            # (above it) may interleave; each stream on its own must be in seq order.
            stream = room if seq > self._ready_seq.get(room, 0) else -room
            if seq <= session.last.get(stream, 0):
                self.record.out_of_order.append((room, session.last[stream], seq))
            session.last[stream] = seq
            if (room, seq) in session.seen or seq <= session.cursors.get(room, 0):
                self.record.repeated.append((room, seq))
            session.seen.add((room, seq))
            self.record.seen[room][seq] = message["client_id"]
        elif kind == "ack":
            message = frame["message"]
            cid = frame["client_id"]
            self.record.acked[cid] = (message["room_id"], message["seq"])
            self.first_ack.set()
            self.record.seen[message["room_id"]][message["seq"]] = cid
            session.seen.add((message["room_id"], message["seq"]))
            if self.outstanding.pop(cid, None) is not None:
                self._slot.set()
        elif kind == "error":
            self.record.errors.append(frame)
            ref = frame.get("ref")
            if ref is not None and self.outstanding.pop(ref, None) is not None:
                self.pending.insert(0, ref)  # not stored: send it again, a little later
                self._backoff = float(frame.get("retry_after", 0.2))
                self._slot.set()


async def stored_history(person: Person, room_id: int) -> list[dict[str, Any]]:
    """Every message of a room, read page by page over HTTP."""
    messages: list[dict[str, Any]] = []
    while True:
        after = messages[-1]["seq"] if messages else 0
        page = await person.history(room_id, after_seq=after, limit=200)
        messages.extend(page)
        if len(page) < 200:
            return messages


async def assert_exactly_once(
    clients: list[ResilientClient], reader: Person, rooms: list[int], expected: int
) -> int:
    """Every acked message stored once, seq gapless, every client holding all of it.

    Returns the number of messages stored.
    """
    histories = {room_id: await stored_history(reader, room_id) for room_id in rooms}
    acked = {cid: where for c in clients for cid, where in c.record.acked.items()}
    assert len(acked) == expected
    for room_id, history in histories.items():
        seqs = [m["seq"] for m in history]
        assert seqs == list(range(1, len(history) + 1)), "seq has a gap or a repeat"
        cids = [m["client_id"] for m in history]
        assert len(set(cids)) == len(cids), "a client_id was stored twice"
        for message in history:
            # Stored means acked (clients re-send until acked), with the acked seq.
            assert acked[message["client_id"]] == (room_id, message["seq"])
    stored = sum(len(h) for h in histories.values())
    assert stored == len(acked)
    for client in clients:
        record = client.record
        assert not record.repeated, f"{client.person.username} got a message twice"
        assert not record.out_of_order, f"{client.person.username} got one out of order"
        for room_id, history in histories.items():
            assert record.seen[room_id] == {m["seq"]: m["client_id"] for m in history}
    return stored


async def people_in_rooms(
    server_url: str, count: int, rooms: int
) -> tuple[list[Person], list[int]]:
    """``count`` people who are all members of ``rooms`` new public rooms."""
    from tests.support import sign_up

    people = list(await asyncio.gather(*(sign_up(server_url) for _ in range(count))))
    room_ids = [(await people[0].create_room(f"shared-{i}"))["id"] for i in range(rooms)]
    for person in people[1:]:
        for room_id in room_ids:
            r = await person.http.post(f"/api/rooms/{room_id}/join")
            assert r.status_code == 200, r.text
    return people, room_ids
