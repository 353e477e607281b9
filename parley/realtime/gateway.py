"""The ``/ws`` endpoint as a plain ASGI handler: authenticate, then read and dispatch.

It runs in front of Quart (see parley.app) because the real-time path is the hot one:
the per-frame work here is a dict lookup and a queue append, not a framework's request
machinery.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson

from parley.bus.base import Event
from parley.domain import accounts, messaging, rooms
from parley.domain.context import Context
from parley.domain.models import Message, User
from parley.errors import ParleyError, RateLimited
from parley.realtime import codec
from parley.realtime.connection import CLOSE_GOING_AWAY, Connection
from parley.realtime.hub import Hub
from parley.realtime.transport import SOCKET_EXTENSION
from parley.web.cookies import SESSION_COOKIE, parse_cookie_header

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
SendFn = Callable[[dict[str, Any]], Awaitable[None]]

# Sends from one connection still waiting for their commit; past it, reading pauses.
MAX_SENDS_IN_FLIGHT = 256
RESUME_PAGE = 200
# A resume naming rooms the user is not in gets one error listing at most this many.
UNKNOWN_ROOMS_LISTED = 100
TYPING_INTERVAL_S = 2.0
SHUTDOWN_CLOSE_WAIT_S = 3.0


class Gateway:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.hub = Hub(fetch_after=self._frames_after, resync_memberships=self._memberships)
        self._ids = itertools.count(1)
        self._prefix = f"{os.getpid():x}-{os.urandom(3).hex()}"
        self._connections: set[Connection] = set()
        self.accepting = True

    async def start(self) -> None:
        await self.ctx.bus.start(self.hub.handle)
        # Shared presence reports the users of a crashed process (LocalPresence has none).
        watch_offline = getattr(self.ctx.presence, "watch_offline", None)
        if watch_offline is not None:
            watch_offline(self._announce_offline)

    @property
    def connections(self) -> list[Connection]:
        return list(self._connections)

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
    ) -> list[tuple[int, str]]:
        """A room's messages after ``after_seq`` as frames: the hub fills gaps with them."""
        page = await self.ctx.store.messages.page(
            room_id, before_seq=None, after_seq=after_seq, limit=limit
        )
        return [(m.seq, messaging.encode_message_frame(m).decode()) for m in page]

    # -- the ASGI entry point ------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: SendFn) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if not self.accepting:
            await _refuse(scope, send, 503, "unavailable", "The server is shutting down.")
            return
        if not _same_origin(headers):
            await _refuse(scope, send, 403, "cross_origin", "Cross-site WebSocket refused.")
            return
        found = await accounts.authenticate(self.ctx, _token_from(scope, headers))
        if found is None:
            await _refuse(scope, send, 401, "unauthorized", "Sign in first.")
            return
        session_id, account = found
        first = await receive()
        if first.get("type") != "websocket.connect":
            return
        await send({"type": "websocket.accept"})
        socket_ext = scope.get("extensions", {}).get(SOCKET_EXTENSION) or {}
        conn = Connection(
            f"{self._prefix}-{next(self._ids)}",
            account.user,
            session_id,
            send,
            send_batch=socket_ext.get("send_batch"),
            abort=socket_ext.get("abort"),
        )
        await self._serve(conn, receive)

    async def _serve(self, conn: Connection, receive: Receive) -> None:
        writer = asyncio.create_task(conn.run_writer(), name=f"ws-writer-{conn.id}")
        self._connections.add(conn)
        in_flight = asyncio.Semaphore(MAX_SENDS_IN_FLIGHT)
        tasks: set[asyncio.Task[None]] = set()
        typing_sent: dict[int, float] = {}
        try:
            await self._open(conn)
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                if conn.closing:
                    continue
                data = message.get("text")
                if data is None:
                    data = message.get("bytes") or b""
                try:
                    frame = codec.parse_frame(data)
                except codec.FrameError as exc:
                    conn.push(codec.error_frame(exc.code, exc.message, exc.ref))
                    continue
                if isinstance(frame, codec.Send):
                    await in_flight.acquire()
                    # Submitted here, in the reader, so that one connection's sends are
                    # stored in the order it sent them; their commits then overlap.
                    try:
                        stored = await messaging.submit(
                            self.ctx,
                            conn.user,
                            frame.room_id,
                            frame.body,
                            frame.client_id,
                            reply_to=frame.reply_to,
                            attachments=frame.attachments,
                            origin=conn.id,
                        )
                    except Exception as exc:
                        in_flight.release()
                        self._send_failed(conn, frame, exc)
                        continue
                    task = asyncio.create_task(self._send(conn, frame, stored, in_flight))
                    tasks.add(task)
                    task.add_done_callback(tasks.discard)
                elif isinstance(frame, codec.Ping):
                    conn.push('{"type":"pong"}')
                else:
                    await self._dispatch(conn, frame, typing_sent)
        finally:
            conn.close(CLOSE_GOING_AWAY)
            self.hub.remove(conn)
            self._connections.discard(conn)
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await writer
            await self._went_offline(conn.user)

    async def _open(self, conn: Connection) -> None:
        """Follow the user's rooms, then send ``ready`` with each room's last seq.

        Rooms are followed (and held) before their positions are read, so a message
        stored in between is neither lost nor sent ahead of ``ready``.
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
        for room_id, last_seq in cursors:
            if room_id not in conn.rooms:
                self.hub.follow(conn, room_id)  # joined in between
            conn.release(room_id, last_seq)
            self.hub.caught_up(room_id, last_seq)
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

    async def _send(
        self,
        conn: Connection,
        frame: codec.Send,
        stored: asyncio.Future[tuple[Message, bool]],
        in_flight: asyncio.Semaphore,
    ) -> None:
        """Ack a submitted send once it is stored (or say why it was not)."""
        try:
            message, _ = await stored
            conn.push(_ack(frame.client_id, message))
        except Exception as exc:
            self._send_failed(conn, frame, exc)
        finally:
            in_flight.release()

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
        for room_id, cursor in sorted(frame.cursors.items()):
            if room_id not in conn.rooms:
                continue
            conn.hold(room_id)
            # Frames in [since, sent] already went out live on this connection.
            sent = conn.delivered.get(room_id, 0)
            since = conn.since.get(room_id, sent + 1)
            position = cursor
            try:
                while not conn.closing:
                    if position >= since - 1:
                        position = max(position, sent)
                    await conn.drained()  # paced by the client's reading, not the bound
                    page = await self.ctx.store.messages.page(
                        room_id, before_seq=None, after_seq=position, limit=RESUME_PAGE
                    )
                    for message in page:
                        if not since <= message.seq <= sent:
                            conn.push(messaging.encode_message_frame(message))
                        position = message.seq
                    if len(page) < RESUME_PAGE:
                        break
            finally:
                # Not hub.caught_up: one connection's read of the database may include
                # messages committed but not yet published, and starting the process's
                # stream past them would drop them for every other connection.
                conn.release(room_id, position)
                if not conn.closing:
                    conn.since[room_id] = min(since, cursor + 1)
        conn.push('{"type":"resumed"}')

    # -- shutdown ------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Refuse new connections and close every open one with 1001 (going away)."""
        self.accepting = False
        await self.hub.close()
        conns = list(self._connections)
        for conn in conns:
            conn.close(CLOSE_GOING_AWAY, "server shutting down")
        if conns:
            await asyncio.wait(
                [asyncio.create_task(c.closed.wait()) for c in conns],
                timeout=SHUTDOWN_CLOSE_WAIT_S,
            )


def _ack(client_id: str, message: Message) -> str:
    return orjson.dumps({"type": "ack", "client_id": client_id, "message": message}).decode()


def _token_from(scope: Scope, headers: dict[str, str]) -> str:
    auth = headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return query["token"][0]
    return parse_cookie_header(headers.get("cookie", "")).get(SESSION_COOKIE, "")


def _same_origin(headers: dict[str, str]) -> bool:
    """A browser's Origin must name this server; clients without Origin are not browsers."""
    origin = headers.get("origin")
    if origin is None:
        return True
    host = headers.get("host", "")
    try:
        return bool(host) and urlsplit(origin).netloc.lower() == host.lower()
    except ValueError:
        return False


async def _refuse(scope: Scope, send: SendFn, status: int, code: str, message: str) -> None:
    """Answer the upgrade with an HTTP error (or close 4401/4403 if the server can't)."""
    body = orjson.dumps({"error": {"code": code, "message": message}})
    if "websocket.http.response" in scope.get("extensions", {}):
        await send(
            {
                "type": "websocket.http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.close", "code": 4000 + status, "reason": message})
