"""The ``/ws`` endpoint: admits a socket, opens its connection, and forgets it at the end.

It is called straight from the WebSocket protocol (parley.realtime.transport), not
through ASGI or Quart, because the real-time path is the hot one: a received frame is
parsed and handled as it arrives, and the per-frame work is a dict lookup and a queue
append, not a framework's request machinery. The jobs are in modules of their own:
``handshake`` (token, origin, refusals), ``session`` (frames in order, pacing, acks),
``resume`` (catching a connection up); this one ties them to the hub and the bus.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Coroutine
from functools import partial
from typing import Any

from parley.domain import frames, presence_actions
from parley.domain.context import Context
from parley.realtime import handshake, resume
from parley.realtime.connection import CLOSE_GOING_AWAY, Connection, FlushScheduler
from parley.realtime.hub import Hub
from parley.realtime.session import CLOSE_INTERNAL_ERROR, Session
from parley.realtime.session_keeper import SessionKeeper
from parley.realtime.transport import ParleySocket

log = logging.getLogger(__name__)

SHUTDOWN_CLOSE_WAIT_S = 3.0
# Upgrades authenticated and opened at once; the others wait their turn in a queue here.
# Opening is a handful of queries, and an upgrade that waits for the database (a pooled
# connection, SQLite's writer) does so inside SQLAlchemy's greenlet, its stack copied to
# the heap, some tens of KB each. A burst of thousands of clients (a reconnect storm)
# grew the heap by that much per waiting upgrade, and what it grew stayed fragmented
# under the connections made meanwhile. Idle connections at 2,000 opened 192 at a time
# (KiB of RSS each): 9.7 unbounded, 8.3 with 16 at once, 7.4 with 8, 7.2 with 4; the
# connect rate is the same for all (SQLite), and 8 leaves PostgreSQL room for overlap.
OPENING_AT_ONCE = 8


class Gateway:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.hub = Hub(fetch_after=self._frames_after, resync_memberships=self._memberships)
        self.sessions = SessionKeeper(ctx, self.hub)
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}-{os.urandom(3).hex()}"
        self._connections: set[Connection] = set()
        # Open sockets per user in this process, against PARLEY_MAX_WEBSOCKETS_PER_USER.
        self._per_user: dict[int, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.scheduler = FlushScheduler()
        self.accepting = True
        self._opening = asyncio.Semaphore(OPENING_AT_ONCE)
        # Set during shutdown when the last connection has gone.
        self._none_left: asyncio.Event | None = None

    async def start(self) -> None:
        await self.ctx.bus.start(self.hub.handle)
        self.sessions.start()
        # Shared presence reports the users of a crashed process (LocalPresence has none).
        watch_offline = getattr(self.ctx.presence, "watch_offline", None)
        if watch_offline is not None:
            watch_offline(partial(presence_actions.went_offline, self.ctx))

    @property
    def connections(self) -> list[Connection]:
        return list(self._connections)

    def spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _memberships(self) -> None:
        """Make each local connection follow exactly its user's rooms, as stored.

        Run after the bus lost events: someone added to a room meanwhile starts getting
        it (and a ``member_joined`` frame for themselves); someone removed stops at once.
        """
        for user_id in list(self.hub.by_user):
            stored = dict(await self.ctx.store.memberships.room_cursors_of(user_id))
            for conn in list(self.hub.by_user.get(user_id, ())):
                for room_id in sorted(stored.keys() - conn.rooms):
                    # Live from here on, as after any join; history is the client's to read.
                    self.hub.follow(conn, room_id)
                    conn.release(room_id, stored[room_id])
                    self.hub.caught_up(room_id, stored[room_id])
                    conn.push(frames.member_joined(room_id, conn.user))
                for room_id in conn.rooms - stored.keys():
                    self.hub.unfollow(conn, room_id)

    async def _frames_after(
        self, room_id: int, after_seq: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """A room's messages after ``after_seq`` as frames: the hub fills gaps with them."""
        page = await self.ctx.store.messages.page(
            room_id, before_seq=None, after_seq=after_seq, limit=limit
        )
        return [(m.seq, frames.message(m)) for m in page]

    # -- the socket entry point (see parley.realtime.transport) -----------------------

    async def open_socket(self, socket: ParleySocket) -> None:
        """Authenticate an upgrade request, accept it, and send ``ready``."""
        async with self._opening:
            await self._open_socket(socket)

    async def _open_socket(self, socket: ParleySocket) -> None:
        found = await handshake.admit(
            self.ctx, socket, accepting=self.accepting, open_per_user=self._per_user
        )
        if found is None:
            return
        session_id, account = found
        hold_for_resume = resume.wants_resume(socket.request.path)  # gone once accepted
        conn = Connection(
            f"{self._prefix}-{next(self._ids)}",
            account.user,
            session_id,
            socket,
            self.scheduler,
        )
        session = Session(self, conn, socket)
        if not socket.accept(session):
            return
        self._connections.add(conn)
        user_id = account.user.id
        self._per_user[user_id] = self._per_user.get(user_id, 0) + 1
        try:
            await self._open(conn, hold_for_resume=hold_for_resume)
        except Exception:
            log.exception("opening connection %s failed", conn.id)
            conn.close(CLOSE_INTERNAL_ERROR, "internal error")
        session.opened()

    async def forget(self, conn: Connection) -> None:
        """The socket is gone: stop delivering to it and tell the others it left."""
        conn.close(CLOSE_GOING_AWAY)
        self.hub.remove(conn)
        if conn in self._connections:
            self._connections.discard(conn)
            left = self._per_user.get(conn.user.id, 0) - 1
            if left > 0:
                self._per_user[conn.user.id] = left
            else:
                self._per_user.pop(conn.user.id, None)
        if not self._connections and self._none_left is not None:
            self._none_left.set()
        await self.ctx.attention.closed(conn.user.id, conn.id)
        await presence_actions.disconnected(self.ctx, conn.user.id)

    async def _open(self, conn: Connection, *, hold_for_resume: bool = False) -> None:
        """Follow the user's rooms, then send ``ready`` with each room's last seq.

        Rooms are followed (and held) before their positions are read, so a message
        stored in between is neither lost nor sent ahead of ``ready``. With
        ``hold_for_resume`` they stay held until the client's resume (or
        resume.RESUME_WAIT_S): a live message sent ahead of the backfill would break
        seq order.
        """
        room_ids = [
            room_id for room_id, _ in await self.ctx.store.memberships.room_cursors_of(conn.user.id)
        ]
        for room_id in room_ids:
            conn.hold(room_id)
        self.hub.add(conn, room_ids)
        cursors = await self.ctx.store.memberships.room_cursors_of(conn.user.id)
        conn.ready(frames.ready(conn.user, cursors))
        waiting: dict[int, int] = {}
        for room_id, last_seq in cursors:
            if room_id not in conn.rooms:
                self.hub.follow(conn, room_id)  # joined in between
            if hold_for_resume:
                waiting[room_id] = last_seq
            else:
                conn.release(room_id, last_seq)
            self.hub.caught_up(room_id, last_seq)
        if waiting:
            resume.hold_until_resume(conn, waiting)
        await self.ctx.attention.opened(conn.user.id, conn.id)
        await presence_actions.connected(self.ctx, conn.user.id)

    # -- shutdown ------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Refuse new connections and close every open one with 1001 (going away)."""
        self.accepting = False
        await self.sessions.stop()
        await self.hub.close()
        for conn in list(self._connections):
            conn.close(CLOSE_GOING_AWAY, "server shutting down")
        # Each socket ends when its peer answers the close (or at the close grace).
        if self._connections:
            self._none_left = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._none_left.wait(), SHUTDOWN_CLOSE_WAIT_S)
