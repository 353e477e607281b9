"""One accepted socket's frames: in, in order, through the domain; acks and errors out.

Frames are handled as they are parsed, without a task, when they need no waiting
(a ping, a bad frame, a send the group committer takes at once). Anything else goes
through a queue that one short-lived task works through in order while it is not
empty, so one connection's sends are stored in the order it sent them. Reading pauses
while the queue or the sends waiting for their commit pass their bounds, and resumes
below half. Typing, read markers and resume are domain actions (or the resume
module's); this module only turns their outcome or their error into frames.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from functools import partial
from typing import TYPE_CHECKING, cast

from parley.domain import frames, messaging, rooms, typing_notices
from parley.domain.models import NewMessage
from parley.errors import ParleyError, RateLimited, Unavailable
from parley.realtime import codec, resume
from parley.realtime.connection import Connection
from parley.realtime.transport import ParleySocket
from parley.store.refusals import refused_value

if TYPE_CHECKING:
    from parley.realtime.gateway import Gateway  # which makes the sessions

log = logging.getLogger(__name__)

# Frames from one connection waiting to be handled plus its sends waiting for their
# commit; past it, reading from that socket pauses.
MAX_FRAMES_WAITING = 256
CLOSE_INTERNAL_ERROR = 1011
BINARY_REFUSED = codec.FrameError("binary_not_supported", "Frames are JSON text, not binary.")


class Session:
    """The gateway's side of one accepted socket (the transport's SocketHandler)."""

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
        # Room id -> when this connection's last typing notice went out.
        self._typing: dict[int, float] | None = None
        self._opening = True
        self._reading = True

    def opened(self) -> None:
        """``ready`` is queued: work through what arrived meanwhile."""
        self._opening = False
        if self.conn.lost:
            self.gateway.spawn(self.gateway.forget(self.conn))
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
            self.conn.push(frames.error(frame.code, frame.message, frame.ref))
        elif isinstance(frame, codec.Ping):
            self.conn.push(frames.PONG)
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
            self.gateway.spawn(self.gateway.forget(self.conn))

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
            conn.push(frames.error(frame.code, frame.message, frame.ref))
        elif isinstance(frame, codec.Send):
            try:
                stored = await messaging.admit(self.gateway.ctx, self._prepare(frame), conn.id)
            except Exception as exc:
                send_failed(conn, frame, exc)
                return
            self._sending(frame, stored)
        elif isinstance(frame, codec.Ping):
            conn.push(frames.PONG)
        else:
            await self._act(frame)

    async def _act(self, frame: codec.ClientFrame) -> None:
        """Resume, typing or a read marker; a refusal is one error frame."""
        ctx = self.gateway.ctx
        conn = self.conn
        try:
            if isinstance(frame, codec.Resume):
                await resume.resume(ctx, self.gateway.hub, conn, frame)
            elif isinstance(frame, codec.Typing):
                if self._typing is None:
                    self._typing = {}
                await typing_notices.typing(
                    ctx, conn.user, frame.room_id, member_of=conn.rooms, last_sent=self._typing
                )
            elif isinstance(frame, codec.Read):
                # The marker reaches this and every other connection of the user as a
                # ``read`` frame, as one set over HTTP does.
                await rooms.mark_read(ctx, conn.user, frame.room_id, frame.seq)
            elif isinstance(frame, codec.Visibility):
                await ctx.attention.visibility(conn.user.id, conn.id, frame.visible)
        except ParleyError as exc:
            conn.push(frames.error(exc.code, exc.message))
        except Exception as exc:
            refused = refused_value(exc)  # a value the database would not take
            if refused is None:
                raise
            conn.push(frames.error(refused.code, refused.message))

    def _send_now(self, frame: codec.Send) -> bool:
        """Store a send without a task when nothing needs waiting; False if it does."""
        try:
            item = self._prepare(frame)
        except ParleyError as exc:
            send_failed(self.conn, frame, exc)
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
            thread_root_id=frame.thread_root_id,
            also_to_room=frame.also_to_room,
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
            send_failed(self.conn, frame, Unavailable("The server is stopping."))
            return
        error = stored.exception()
        if error is not None:
            send_failed(self.conn, frame, cast(Exception, error))
        else:
            self.conn.push(frames.ack(frame.client_id, stored.result().frame))

    def _pace(self) -> None:
        """Pause reading past the bounds, resume below half of them."""
        busy = len(self._inbound or ()) + self._in_flight
        if self._reading and busy >= MAX_FRAMES_WAITING:
            self._reading = False
            self.socket.pause_reading()
        elif not self._reading and busy <= MAX_FRAMES_WAITING // 2:
            self._reading = True
            self.socket.resume_reading()


def send_failed(conn: Connection, frame: codec.Send, exc: Exception) -> None:
    """Answer a send that was not stored with an error frame naming its client_id."""
    if isinstance(exc, RateLimited):
        conn.push(frames.error(exc.code, exc.message, frame.client_id, retry_after=exc.retry_after))
    elif isinstance(exc, ParleyError):
        conn.push(frames.error(exc.code, exc.message, frame.client_id))
    elif (refused := refused_value(exc)) is not None:
        conn.push(frames.error(refused.code, refused.message, frame.client_id))
    else:
        log.error("send from %s failed", conn.id, exc_info=exc)
        conn.push(frames.error("internal_error", "The message was not stored.", frame.client_id))
