"""The ``/ws`` endpoint: authenticate the upgrade, then read frames and dispatch them.

It is called straight from the WebSocket protocol (parley.realtime.transport), not
through ASGI or Quart, because the real-time path is the hot one: a received frame is
parsed and handled as it arrives, and the per-frame work is a dict lookup and a queue
append, not a framework's request machinery.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections import deque
from collections.abc import Coroutine
from functools import partial
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import orjson
from websockets.datastructures import Headers

from parley.bus.base import Event
from parley.credentials import read_credential
from parley.domain import accounts, messaging, rooms
from parley.domain.context import Context
from parley.domain.models import NewMessage, User
from parley.errors import ParleyError, RateLimited, Unavailable
from parley.realtime import codec
from parley.realtime.connection import CLOSE_GOING_AWAY, Connection, FlushScheduler
from parley.realtime.hub import Hub
from parley.realtime.session_keeper import SessionKeeper
from parley.realtime.transport import ParleySocket

log = logging.getLogger(__name__)

# Frames from one connection waiting to be handled plus its sends waiting for their
# commit; past it, reading from that socket pauses.
MAX_FRAMES_WAITING = 256
RESUME_PAGE = 200
# A resume naming rooms the user is not in gets one error listing at most this many.
UNKNOWN_ROOMS_LISTED = 100
TYPING_INTERVAL_S = 2.0
# A client that connects with ``?resume=1`` has its rooms' live messages held after
# ``ready`` until its resume, so that the backfill and the live messages come in one seq
# order; a client that said so and sends no resume gets them after this long.
RESUME_WAIT_S = 3.0
SHUTDOWN_CLOSE_WAIT_S = 3.0
# A refused upgrade over the per-user cap: when to try again (a tab may have closed).
RETRY_AFTER_S = 10
CLOSE_INTERNAL_ERROR = 1011
PONG = '{"type":"pong"}'
BINARY_REFUSED = codec.FrameError("binary_not_supported", "Frames are JSON text, not binary.")


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
        # Set during shutdown when the last connection has gone.
        self._none_left: asyncio.Event | None = None

    async def start(self) -> None:
        await self.ctx.bus.start(self.hub.handle)
        self.sessions.start()
        # Shared presence reports the users of a crashed process (LocalPresence has none).
        watch_offline = getattr(self.ctx.presence, "watch_offline", None)
        if watch_offline is not None:
            watch_offline(self._announce_offline)

    @property
    def connections(self) -> list[Connection]:
        return list(self._connections)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _memberships(self) -> None:
        """Make each local connection follow exactly its user's rooms, as stored.

        Run after the bus lost events: someone added to a room meanwhile starts getting
        it (and a ``member_joined`` frame for themselves); someone removed stops at once.
        """
        for user_id in list(self.hub.by_user):
            stored = dict(await self.ctx.store.rooms.room_cursors_of(user_id))
            for conn in list(self.hub.by_user.get(user_id, ())):
                for room_id in sorted(stored.keys() - conn.rooms):
                    # Live from here on, as after any join; history is the client's to read.
                    self.hub.follow(conn, room_id)
                    conn.release(room_id, stored[room_id])
                    self.hub.caught_up(room_id, stored[room_id])
                    conn.push(
                        orjson.dumps(
                            {"type": "member_joined", "room_id": room_id, "user": conn.user}
                        )
                    )
                for room_id in conn.rooms - stored.keys():
                    self.hub.unfollow(conn, room_id)

    async def _frames_after(
        self, room_id: int, after_seq: int, limit: int
    ) -> list[tuple[int, bytes]]:
        """A room's messages after ``after_seq`` as frames: the hub fills gaps with them."""
        page = await self.ctx.store.messages.page(
            room_id, before_seq=None, after_seq=after_seq, limit=limit
        )
        return [(m.seq, messaging.encode_message_frame(m)) for m in page]

    # -- the socket entry point (see parley.realtime.transport) -----------------------

    async def open_socket(self, socket: ParleySocket) -> None:
        """Authenticate an upgrade request, accept it, and send ``ready``."""
        request = socket.request
        headers = request.headers
        if not self.accepting:
            socket.refuse(503, _error_body("unavailable", "The server is shutting down."))
            return
        if not _same_origin(headers):
            socket.refuse(403, _error_body("cross_origin", "Cross-site WebSocket refused."))
            return
        credential = read_credential(
            headers.get("authorization", ""),
            headers.get("cookie", ""),
            # Allowed here, unlike on HTTP: some clients cannot set headers on an upgrade.
            request.path.partition("?")[2],
        )
        found = await accounts.authenticate(self.ctx, credential.token) if credential else None
        if found is None:
            socket.refuse(401, _error_body("unauthorized", "Sign in first."))
            return
        session_id, account = found
        user_id = account.user.id
        cap = self.ctx.settings.max_websockets_per_user
        if cap and self._per_user.get(user_id, 0) >= cap:
            socket.refuse(
                429,
                _error_body(
                    "too_many_connections",
                    f"At most {cap} open WebSockets per user; close one first.",
                ),
                [("Retry-After", str(RETRY_AFTER_S))],
            )
            return
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
        self._per_user[user_id] = self._per_user.get(user_id, 0) + 1
        try:
            await self._open(conn, hold_for_resume=_wants_resume(request.path))
        except Exception:
            log.exception("opening connection %s failed", conn.id)
            conn.close(CLOSE_INTERNAL_ERROR, "internal error")
        session.opened()

    async def _forget(self, conn: Connection) -> None:
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
        await self._went_offline(conn.user)

    async def _open(self, conn: Connection, *, hold_for_resume: bool = False) -> None:
        """Follow the user's rooms, then send ``ready`` with each room's last seq.

        Rooms are followed (and held) before their positions are read, so a message
        stored in between is neither lost nor sent ahead of ``ready``. With
        ``hold_for_resume`` they stay held until the client's resume (or
        RESUME_WAIT_S): a live message sent ahead of the backfill would break seq order.
        """
        room_ids = [
            room_id for room_id, _ in await self.ctx.store.rooms.room_cursors_of(conn.user.id)
        ]
        for room_id in room_ids:
            conn.hold(room_id)
        self.hub.add(conn, room_ids)
        cursors = await self.ctx.store.rooms.room_cursors_of(conn.user.id)
        conn.ready(
            orjson.dumps(
                {
                    "type": "ready",
                    "user": conn.user,
                    "rooms": [{"id": rid, "last_seq": seq} for rid, seq in cursors],
                }
            ).decode()
        )
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
            conn.awaiting_resume = waiting
            asyncio.get_running_loop().call_later(
                RESUME_WAIT_S, _stop_waiting_for_resume, conn, waiting
            )
        if await self.ctx.presence.connected(conn.user.id):
            await self._announce_presence(conn.user, "online")

    async def _went_offline(self, user: User) -> None:
        if await self.ctx.presence.disconnected(user.id):
            with contextlib.suppress(Exception):
                await self._announce_presence(user, "offline")

    async def _announce_offline(self, user_ids: list[int]) -> None:
        for user_id in user_ids:
            await self._announce_presence_of(user_id, "offline")

    async def _announce_presence(self, user: User, status: str) -> None:
        await self._announce_presence_of(user.id, status)

    async def _announce_presence_of(self, user_id: int, status: str) -> None:
        watchers = await self.ctx.store.rooms.co_member_ids(user_id)
        watchers.discard(user_id)
        if watchers:
            frame = orjson.dumps({"type": "presence", "user_id": user_id, "status": status})
            await self.ctx.bus.publish(
                Event(kind="users", user_ids=sorted(watchers), payload=frame)
            )

    # -- frames --------------------------------------------------------------------

    @staticmethod
    def _send_failed(conn: Connection, frame: codec.Send, exc: Exception) -> None:
        if isinstance(exc, RateLimited):
            conn.push(
                orjson.dumps(
                    {
                        "type": "error",
                        "code": exc.code,
                        "message": exc.message,
                        "ref": frame.client_id,
                        "retry_after": exc.retry_after,
                    }
                ).decode()
            )
        elif isinstance(exc, ParleyError):
            conn.push(codec.error_frame(exc.code, exc.message, frame.client_id))
        else:
            log.error("send from %s failed", conn.id, exc_info=exc)
            conn.push(
                codec.error_frame("internal_error", "The message was not stored.", frame.client_id)
            )

    async def _dispatch(
        self, conn: Connection, frame: codec.ClientFrame, typing_sent: dict[int, float]
    ) -> None:
        try:
            if isinstance(frame, codec.Resume):
                await self._resume(conn, frame)
            elif isinstance(frame, codec.Typing):
                self._check_member(conn, frame.room_id)
                now = asyncio.get_running_loop().time()
                if now - typing_sent.get(frame.room_id, -TYPING_INTERVAL_S) >= TYPING_INTERVAL_S:
                    typing_sent[frame.room_id] = now
                    payload = orjson.dumps(
                        {"type": "typing", "room_id": frame.room_id, "user": conn.user}
                    )
                    await self.ctx.bus.publish(
                        Event(
                            kind="typing",
                            room_id=frame.room_id,
                            user_ids=[conn.user.id],
                            payload=payload,
                        )
                    )
            elif isinstance(frame, codec.Read):
                self._check_member(conn, frame.room_id)
                marker = await rooms.mark_read(self.ctx, conn.user, frame.room_id, frame.seq)
                payload = orjson.dumps({"type": "read", "room_id": frame.room_id, "seq": marker})
                await self.ctx.bus.publish(
                    Event(kind="users", user_ids=[conn.user.id], payload=payload)
                )
        except codec.FrameError as exc:
            conn.push(codec.error_frame(exc.code, exc.message, exc.ref))
        except ParleyError as exc:
            conn.push(codec.error_frame(exc.code, exc.message))

    @staticmethod
    def _check_member(conn: Connection, room_id: int) -> None:
        if room_id not in conn.rooms:
            raise codec.FrameError("room_not_found", "No such room.")

    async def _resume(self, conn: Connection, frame: codec.Resume) -> None:
        """Send every message after each cursor, in order, then ``resumed``."""
        unknown = sorted(room_id for room_id in frame.cursors if room_id not in conn.rooms)
        if unknown:
            # One frame for all of them: thousands of error frames would trip the queue bound.
            listed = ", ".join(str(room_id) for room_id in unknown[:UNKNOWN_ROOMS_LISTED])
            more = (
                f" and {len(unknown) - UNKNOWN_ROOMS_LISTED} more"
                if len(unknown) > UNKNOWN_ROOMS_LISTED
                else ""
            )
            conn.push(
                orjson.dumps(
                    {
                        "type": "error",
                        "code": "room_not_found",
                        "message": f"No such room: {listed}{more}.",
                        "room_ids": unknown[:UNKNOWN_ROOMS_LISTED],
                    }
                )
            )
        waiting, conn.awaiting_resume = conn.awaiting_resume, None
        for room_id, last_seq in (waiting or {}).items():
            if room_id not in frame.cursors or room_id not in conn.rooms:
                conn.release(room_id, last_seq)  # not resumed: live from ``ready`` on
        for room_id, cursor in sorted(frame.cursors.items()):
            if room_id not in conn.rooms:
                continue
            conn.hold(room_id)  # held since ``ready`` if the client asked: kept
            # Frames in [since, sent] already went out live on this connection.
            sent = conn.delivered.get(room_id, 0)
            since = conn.since.get(room_id, sent + 1)
            position = cursor
            try:
                while not conn.closing and room_id in conn.rooms:
                    if position >= since - 1:
                        position = max(position, sent)
                    await conn.drained()  # paced by the client's reading, not the bound
                    if conn.closing or room_id not in conn.rooms:
                        break  # the grant ended (a leave event) while the client read
                    page = await self.ctx.store.messages.page(
                        room_id, before_seq=None, after_seq=position, limit=RESUME_PAGE
                    )
                    if not await self._may_still_read(conn, room_id):
                        break
                    for message in page:
                        if not since <= message.seq <= sent:
                            conn.push(messaging.encode_message_frame(message))
                        position = message.seq
                    if len(page) < RESUME_PAGE:
                        break
            finally:
                if room_id in conn.rooms:
                    # Not hub.caught_up: one connection's read of the database may include
                    # messages committed but not yet published, and starting the process's
                    # stream past them would drop them for every other connection.
                    conn.release(room_id, position)
                    if not conn.closing:
                        conn.since[room_id] = min(since, cursor + 1)
        conn.push('{"type":"resumed"}')

    async def _may_still_read(self, conn: Connection, room_id: int) -> bool:
        """Whether a page just read may go to ``conn``: the member's grant, as stored now.

        Checked after the page was read, so every message in it was committed while the
        user could still read the room. A grant found gone also stops the room's live
        frames for this connection at once, without waiting for the bus's leave event
        (which another process's outage may have lost).
        """
        if conn.closing or room_id not in conn.rooms:
            return False
        if await self.ctx.store.rooms.active_role_of(room_id, conn.user.id) is not None:
            return room_id in conn.rooms and not conn.closing
        self.hub.unfollow(conn, room_id)
        return False

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


def _wants_resume(path: str) -> bool:
    return parse_qs(path.partition("?")[2]).get("resume") == ["1"]


def _stop_waiting_for_resume(conn: Connection, waiting: dict[int, int]) -> None:
    """No resume came in time: the held rooms go live from where ``ready`` left them."""
    if conn.awaiting_resume is waiting:
        conn.awaiting_resume = None
        for room_id, last_seq in waiting.items():
            conn.release(room_id, last_seq)


def _same_origin(headers: Headers) -> bool:
    """A browser's Origin must name this server; clients without Origin are not browsers."""
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host", "")
    try:
        return bool(host) and urlsplit(origin).netloc.lower() == host.lower()
    except ValueError:
        return False


def _error_body(code: str, message: str) -> bytes:
    return orjson.dumps({"error": {"code": code, "message": message}})


class Session:
    """The gateway's side of one accepted socket: frames in, in order; acks out.

    Frames are handled as they are parsed, without a task, when they need no waiting
    (a ping, a bad frame). Anything else goes through a queue that one short-lived task
    works through in order while it is not empty, so one connection's sends are stored
    in the order it sent them. Reading pauses while the queue or the sends waiting for
    their commit pass their bounds, and resumes below half.
    """

    __slots__ = (
        "_in_flight",
        "_inbound",
        "_opening",
        "_reading",
        "_typing",
        "_worker",
        "conn",
        "gateway",
        "socket",
    )

    def __init__(self, gateway: Gateway, conn: Connection, socket: ParleySocket) -> None:
        self.gateway = gateway
        self.conn = conn
        self.socket = socket
        # Made on the first frame that has to wait (a deque is 600 bytes: idle
        # connections should not pay for it).
        self._inbound: deque[codec.ClientFrame | codec.FrameError] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._in_flight = 0
        # Room id -> when this connection's last typing event went out.
        self._typing: dict[int, float] | None = None
        self._opening = True
        self._reading = True

    def opened(self) -> None:
        """``ready`` is queued: work through what arrived meanwhile."""
        self._opening = False
        if self.conn.lost:
            self.gateway._spawn(self.gateway._forget(self.conn))
        elif self._inbound:
            self._start_worker()

    # -- the socket's events ------------------------------------------------------------

    def on_text(self, text: str) -> None:
        if self.conn.closing:
            return
        try:
            frame: codec.ClientFrame | codec.FrameError = codec.parse_frame(text)
        except codec.FrameError as exc:
            frame = exc
        except Exception:
            # A parsing bug must cost this frame, not the connection: raised from here
            # it reached the transport, which dropped TCP without a close frame.
            log.exception("parsing a frame from %s failed", self.conn.id)
            frame = codec.FrameError("invalid_frame", "The frame could not be read.")
        self._take(frame)

    def on_binary(self) -> None:
        if not self.conn.closing:
            self._take(BINARY_REFUSED)

    def _take(self, frame: codec.ClientFrame | codec.FrameError) -> None:
        if self._inbound or self._opening:
            self._waiting().append(frame)  # behind what is waiting, to keep the order
            self._pace()
        elif isinstance(frame, codec.FrameError):
            self.conn.push(codec.error_frame(frame.code, frame.message, frame.ref))
        elif isinstance(frame, codec.Ping):
            self.conn.push(PONG)
        elif not (isinstance(frame, codec.Send) and self._send_now(frame)):
            self._waiting().append(frame)
            self._start_worker()

    def _waiting(self) -> deque[codec.ClientFrame | codec.FrameError]:
        if self._inbound is None:
            self._inbound = deque()
        return self._inbound

    def on_writable(self) -> None:
        self.conn.on_writable()

    def on_lost(self) -> None:
        self.conn.on_lost()
        if self._inbound is not None:
            self._inbound.clear()
        if not self._opening:
            self.gateway._spawn(self.gateway._forget(self.conn))

    # -- working through the frames -----------------------------------------------------

    def _start_worker(self) -> None:
        if self._worker is None:
            self._worker = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        inbound = self._waiting()
        try:
            while inbound and not self.conn.closing:
                await self._handle(inbound[0])
                if inbound:
                    inbound.popleft()
                self._pace()
        except Exception:
            log.exception("handling a frame from %s failed", self.conn.id)
            self.conn.close(CLOSE_INTERNAL_ERROR, "internal error")
        finally:
            self._worker = None
            if self._inbound is inbound and not inbound:
                self._inbound = None

    async def _handle(self, frame: codec.ClientFrame | codec.FrameError) -> None:
        conn = self.conn
        if isinstance(frame, codec.FrameError):
            conn.push(codec.error_frame(frame.code, frame.message, frame.ref))
        elif isinstance(frame, codec.Send):
            try:
                stored = await messaging.admit(self.gateway.ctx, self._prepare(frame), conn.id)
            except Exception as exc:
                self.gateway._send_failed(conn, frame, exc)
                return
            self._sending(frame, stored)
        elif isinstance(frame, codec.Ping):
            conn.push(PONG)
        else:
            if self._typing is None:
                self._typing = {}
            await self.gateway._dispatch(conn, frame, self._typing)

    def _send_now(self, frame: codec.Send) -> bool:
        """Store a send without a task when nothing needs waiting; False if it does."""
        try:
            item = self._prepare(frame)
        except ParleyError as exc:
            self.gateway._send_failed(self.conn, frame, exc)
            return True
        stored = messaging.admit_now(self.gateway.ctx, item, self.conn.id)
        if stored is None:
            return False
        self._sending(frame, stored)
        return True

    def _prepare(self, frame: codec.Send) -> NewMessage:
        return messaging.prepare(
            self.gateway.ctx,
            self.conn.user,
            frame.room_id,
            frame.body,
            frame.client_id,
            reply_to=frame.reply_to,
            attachments=frame.attachments,
        )

    def _sending(self, frame: codec.Send, stored: asyncio.Future[messaging.Sent]) -> None:
        self._in_flight += 1
        self._pace()
        stored.add_done_callback(partial(self._acked, frame))

    def _acked(self, frame: codec.Send, stored: asyncio.Future[messaging.Sent]) -> None:
        self._in_flight -= 1
        self._pace()
        if self.conn.closing:
            return
        if stored.cancelled():
            self.gateway._send_failed(self.conn, frame, Unavailable("The server is stopping."))
            return
        error = stored.exception()
        if error is not None:
            self.gateway._send_failed(self.conn, frame, cast(Exception, error))
        else:
            self.conn.push(messaging.ack_frame(frame.client_id, stored.result().frame))

    def _pace(self) -> None:
        """Pause reading past the bounds, resume below half of them."""
        busy = len(self._inbound or ()) + self._in_flight
        if self._reading and busy >= MAX_FRAMES_WAITING:
            self._reading = False
            self.socket.pause_reading()
        elif not self._reading and busy <= MAX_FRAMES_WAITING // 2:
            self._reading = True
            self.socket.resume_reading()
