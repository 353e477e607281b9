"""Which local connection follows which room, user and session; applies bus events.

Room messages reach the hub in seq order from one process, but two processes publish
independently, so seq 7 may arrive before seq 6 (or 6 may never arrive: its process died
between commit and publish, or Redis dropped it). The hub keeps, per room followed here,
the last seq it fanned out. A message ahead of a gap waits up to GAP_WAIT_S for the
missing ones; then the gap is filled from the database (everything below a published
seq is committed, since seqs are assigned under the room's row lock). This happens once
per room per process, not per connection, and connections get every seq in order.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import TypeVar

from parley.bus.base import Event
from parley.metrics import Histogram
from parley.realtime.connection import CLOSE_UNAUTHORIZED, Connection, framed

log = logging.getLogger(__name__)

# How long a message that arrived ahead of its predecessor waits before the gap is read
# from the database: long enough for the usual reorder between two publishers.
GAP_WAIT_S = 0.15
FILL_PAGE = 200
FILL_RETRY_S = 1.0
# Rooms caught up at once after the bus reconnects (each is one query per page).
RESYNC_CONCURRENCY = 8

K = TypeVar("K")

# (room id, after seq, limit) -> [(seq, encoded message frame)], ascending.
FetchAfter = Callable[[int, int, int], Awaitable[list[tuple[int, bytes]]]]


def _append_once(conns: list[Connection], conn: Connection) -> None:
    if conn not in conns:
        conns.append(conn)


def _remove_from(index: dict[K, list[Connection]], key: K, conn: Connection) -> None:
    conns = index.get(key)
    if conns is not None and conn in conns:
        conns.remove(conn)
        if not conns:
            del index[key]


@dataclass(slots=True)
class _RoomStream:
    """Where this process stands in one room's message stream."""

    last: int
    ahead: dict[int, Event] = field(default_factory=dict)
    timer: asyncio.TimerHandle | None = None
    filling: bool = False
    # Read on to the room's newest message (the bus may have lost events).
    to_end: bool = False


class Hub:
    def __init__(
        self,
        fetch_after: FetchAfter | None = None,
        resync_memberships: Callable[[], Awaitable[None]] | None = None,
    ) -> None:
        self.by_room: dict[int, set[Connection]] = defaultdict(set)
        # A user's or a session's connections, in the order they opened: lists, not
        # sets, as there is nearly always one (a set of one is 216 bytes, a list 88,
        # for every idle connection twice) and never more than the per-user cap.
        self.by_user: dict[int, list[Connection]] = defaultdict(list)
        self.by_session: dict[str, list[Connection]] = defaultdict(list)
        self._fetch_after = fetch_after
        self._resync_memberships = resync_memberships
        self._streams: dict[int, _RoomStream] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        # Read by /metrics.
        self.deliveries = 0
        self.gap_fills = 0
        self.fanout_latency = Histogram()

    @property
    def connections(self) -> int:
        return sum(len(conns) for conns in self.by_user.values())

    def add(self, conn: Connection, room_ids: list[int]) -> None:
        _append_once(self.by_user[conn.user.id], conn)
        if conn.session_id is not None:
            _append_once(self.by_session[conn.session_id], conn)
        for room_id in room_ids:
            self.follow(conn, room_id)

    def remove(self, conn: Connection) -> None:
        for room_id in conn.rooms:
            self._discard(self.by_room, room_id, conn)
            self._forget_if_unfollowed(room_id)
        _remove_from(self.by_user, conn.user.id, conn)
        if conn.session_id is not None:
            _remove_from(self.by_session, conn.session_id, conn)

    def follow(self, conn: Connection, room_id: int) -> None:
        conn.rooms.add(room_id)
        self.by_room[room_id].add(conn)

    def unfollow(self, conn: Connection, room_id: int) -> None:
        conn.rooms.discard(room_id)
        conn.delivered.pop(room_id, None)
        conn.since.pop(room_id, None)
        conn.unhold(room_id)
        self._discard(self.by_room, room_id, conn)
        self._forget_if_unfollowed(room_id)

    def caught_up(self, room_id: int, seq: int) -> None:
        """A connection read the room up to ``seq`` from the database.

        Starts the room's stream there if this process had none, so that a later gap is
        recognised; an existing stream is left alone (its own gap may still be open).
        """
        if room_id in self.by_room and room_id not in self._streams:
            self._streams[room_id] = _RoomStream(last=seq)

    def _forget_if_unfollowed(self, room_id: int) -> None:
        if room_id in self.by_room:
            return
        stream = self._streams.pop(room_id, None)
        if stream is not None and stream.timer is not None:
            stream.timer.cancel()

    @staticmethod
    def _discard(
        index: dict[int, set[Connection]],
        key: int,
        conn: Connection,
    ) -> None:
        conns = index.get(key)
        if conns is not None:
            conns.discard(conn)
            if not conns:
                del index[key]

    def handle(self, event: Event) -> None:
        """Apply one bus event to this process's connections."""
        kind = event.kind
        if kind == "room":
            if event.seq is None or event.room_id is None:
                self._to_room(event)
            else:
                self._sequenced(event, event.room_id, event.seq)
        elif kind == "users":
            data = framed(event.payload)
            for user_id in event.user_ids:
                for conn in self.by_user.get(user_id, ()):
                    conn.push_framed(data)
        elif kind == "typing":
            data = framed(event.payload)
            excluded = set(event.user_ids)
            for conn in self.by_room.get(event.room_id or 0, ()):
                if conn.user.id not in excluded:
                    conn.push_framed(data)
        elif kind == "join" and event.room_id is not None:
            joined_at = event.seq  # the room's position at the join, not a message's seq
            for user_id in event.user_ids:
                for conn in list(self.by_user.get(user_id, ())):
                    self.follow(conn, event.room_id)
                    if joined_at is not None:
                        position = max(conn.delivered.get(event.room_id, 0), joined_at)
                        conn.delivered[event.room_id] = position
            self._to_room(replace(event, seq=None))
        elif kind == "leave" and event.room_id is not None:
            self._to_room(event)
            for user_id in event.user_ids:
                for conn in list(self.by_user.get(user_id, ())):
                    if event.room_id not in conn.rooms:
                        # A resume that read the grant's end from the database has
                        # already unfollowed the room: the person still hears they left.
                        conn.push_framed(framed(event.payload))
                    self.unfollow(conn, event.room_id)
        elif kind == "close_sessions":
            for session_id in event.session_ids:
                for conn in list(self.by_session.get(session_id, ())):
                    conn.close(CLOSE_UNAUTHORIZED, "signed out")
        elif kind == "close_users":
            for user_id in event.user_ids:
                for conn in list(self.by_user.get(user_id, ())):
                    conn.close(CLOSE_UNAUTHORIZED, "account disabled")
        elif kind == "resync":
            self._spawn(self._resync())

    # -- ordered room streams ------------------------------------------------------

    def _sequenced(self, event: Event, room_id: int, seq: int) -> None:
        if room_id not in self.by_room:
            return  # nobody here follows the room
        stream = self._streams.get(room_id)
        if stream is None:
            stream = self._streams[room_id] = _RoomStream(last=seq - 1)
        if seq <= stream.last:
            return  # already fanned out (a repeat, or filled from the database)
        if seq == stream.last + 1 and not stream.filling:
            self._to_room(event)
            stream.last = seq
            if stream.ahead:
                self._drain(stream)
            return
        stream.ahead[seq] = event
        if not stream.filling and stream.timer is None:
            stream.timer = asyncio.get_running_loop().call_later(
                GAP_WAIT_S, self._start_fill, room_id, stream
            )

    def _drain(self, stream: _RoomStream) -> None:
        """Fan out the waiting messages that are now next in line."""
        while stream.last + 1 in stream.ahead:
            stream.last += 1
            self._to_room(stream.ahead.pop(stream.last))
        for stale in [seq for seq in stream.ahead if seq <= stream.last]:
            del stream.ahead[stale]
        if not stream.ahead and stream.timer is not None:
            stream.timer.cancel()
            stream.timer = None

    def _start_fill(self, room_id: int, stream: _RoomStream) -> None:
        stream.timer = None
        if self._streams.get(room_id) is stream and not stream.filling:
            self._spawn(self._fill(room_id, stream))

    async def _fill(self, room_id: int, stream: _RoomStream) -> None:
        """Read the missing seqs from the database and fan everything out in order.

        Reads up to the first message waiting, or with ``stream.to_end`` up to the
        room's newest message. One fill per room at a time.
        """
        if self._fetch_after is None or stream.filling:
            return
        stream.filling = True
        try:
            while self._streams.get(room_id) is stream:
                target = min(stream.ahead) - 1 if stream.ahead else None
                if target is None and not stream.to_end:
                    break
                if target is not None and target <= stream.last:
                    self._drain(stream)
                    continue
                wanted = FILL_PAGE if target is None else min(FILL_PAGE, target - stream.last)
                page = await self._fetch_after(room_id, stream.last, wanted)
                if self._streams.get(room_id) is not stream:
                    return
                self.gap_fills += 1
                for seq, frame in page:
                    if seq <= stream.last:
                        continue
                    waiting = stream.ahead.pop(seq, None)
                    if waiting is not None:
                        self._to_room(waiting)  # keeps its origin: no echo to the sender
                    else:
                        self._to_room(Event(kind="room", room_id=room_id, seq=seq, payload=frame))
                    stream.last = seq
                if len(page) < wanted:
                    # Everything below a published seq is committed: what the database
                    # does not return up to it does not exist (nothing to wait for).
                    if target is not None:
                        stream.last = max(stream.last, target)
                    elif not stream.ahead:
                        stream.to_end = False
                        break
                self._drain(stream)
        except Exception:
            log.warning(
                "filling room %s from the database failed; retrying", room_id, exc_info=True
            )
        finally:
            stream.filling = False
        if (
            self._streams.get(room_id) is stream
            and (stream.ahead or stream.to_end)
            and stream.timer is None
        ):
            stream.timer = asyncio.get_running_loop().call_later(
                FILL_RETRY_S, self._start_fill, room_id, stream
            )

    async def _resync(self) -> None:
        """The bus may have lost events: catch every followed room up from the database.

        Joins and leaves may have been lost too, so who follows what is read again first.
        """
        if self._resync_memberships is not None:
            try:
                await self._resync_memberships()
            except Exception:
                log.warning("re-reading memberships after a bus outage failed", exc_info=True)
        limit = asyncio.Semaphore(RESYNC_CONCURRENCY)

        async def one(room_id: int) -> None:
            stream = self._streams.get(room_id)
            if stream is None:
                conns = self.by_room.get(room_id)
                if not conns:
                    return
                start = min(conn.delivered.get(room_id, 0) for conn in conns)
                stream = self._streams[room_id] = _RoomStream(last=start)
            stream.to_end = True
            async with limit:
                await self._fill(room_id, stream)

        await asyncio.gather(*(one(room_id) for room_id in list(self.by_room)))

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        for stream in self._streams.values():
            if stream.timer is not None:
                stream.timer.cancel()
        self._streams.clear()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _to_room(self, event: Event) -> None:
        conns = self.by_room.get(event.room_id or 0)
        if not conns:
            return
        # Framed once: every recipient is written the same bytes.
        data = framed(event.payload)
        origin = event.origin
        room_id = event.room_id or 0
        seq = event.seq
        for conn in conns:
            if conn.id != origin:
                conn.deliver(room_id, seq, data)
        self.deliveries += len(conns)
        if event.sent_at:
            self.fanout_latency.observe(max(0.0, time.time() - event.sent_at))
