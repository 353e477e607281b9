"""``/ws`` straight from uvicorn's WebSocket protocol to the gateway, without ASGI.

uvicorn's websockets-sansio protocol parses the upgrade and the frames, answers pings and
runs the closing handshake; this subclass keeps all of that and replaces the ASGI part
for ``/ws`` only:

- no task per connection: the handshake runs in a short task (it reads the session from
  the database), then received text frames are handed to the gateway's handler as they
  are parsed, and the gateway's writes go to the transport directly (already framed,
  several frames per write; see parley.realtime.connection);
- reading is not paused after every frame (uvicorn does that for its ASGI queue): the
  gateway pauses it only when a connection has too many sends waiting for their commit;
- the frames that nearly every client sends are cut out of the received bytes by
  parley.realtime.wire (pure, no I/O); every other frame, and the rest of the bytes
  from it on, go to websockets' parser, which answers pings, closes and protocol errors
  as before;
- a peer that stops reading fills the transport buffer, and asyncio's ``close()`` would
  wait for that buffer to drain forever, so a close that the peer does not answer in
  time, and an unanswered keepalive ping, abort the socket (RST) instead.

Other WebSocket paths keep uvicorn's ASGI behaviour. This subclass relies on uvicorn's
internals (the attributes and hooks listed in parley.realtime.ws_seam, which checks them
at start and falls back to parley.realtime.asgi_transport when one is missing): import
this module only through the seam.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from http import HTTPStatus
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.protocol import State

from parley.realtime.connection import CLOSE_GRACE_S
from parley.realtime.keepalive import wheel_for
from parley.realtime.transport import WS_PATH, OpenSocket, SocketHandler, refusal_headers
from parley.realtime.wire import FrameReader, ProtocolError

log = logging.getLogger(__name__)

UVICORN_ATTRIBUTES = (
    "app",
    "app_state",
    "asgi_version",
    "client",
    "close_sent",
    "close_timeout",
    "close_timer",
    "config",
    "conn",
    "connections",
    "curr_msg_data_type",
    "default_headers",
    "disconnected",
    "frames",
    "handshake_complete",
    "handshake_initiated",
    "initial_response",
    "last_ping_rtt",
    "logger",
    "loop",
    "pending_ping_payload",
    "ping_interval",
    "ping_sent_at",
    "ping_timeout",
    "ping_timer",
    "pong_timer",
    "queue",
    "read_paused",
    "request",
    "response",
    "root_path",
    "scheme",
    "scope",
    "server",
    "tasks",
    "transport",
    "writable",
)


class ParleyWebSocketProtocol(WebSocketsSansIOProtocol):
    # uvicorn's attributes (every one its protocol sets, as of 0.55) and ours, as slots:
    # with over 30 attributes an instance's __dict__ stops sharing its keys with the
    # class's other instances, a 1.6 KB dict per idle connection, against 8 bytes a
    # slot. A slot shadows nothing uvicorn reads (it sets these on the instance); an
    # attribute a later uvicorn adds goes to __dict__ as before.
    __slots__ = (
        *UVICORN_ATTRIBUTES,
        "_dropping",
        "_early",
        "_ping_slot",
        "_reader",
        "handler",
        "on_closed",
        "write_paused",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handler: SocketHandler | None = None
        self.write_paused = False
        # After a protocol error: what the peer still sends is read and dropped.
        self._dropping = False
        # Cuts simple text frames out of what is read, once the socket is accepted;
        # until then (and on other paths) every byte is websockets'.
        self._reader: FrameReader | None = None
        # Bytes that came after the upgrade request, before it was answered: frames the
        # client sent without waiting for the 101, parsed once the socket is accepted
        # (None when no upgrade is waiting for its answer).
        self._early: bytearray | None = None
        # Set by the HTTP protocol that upgraded: gives the connection's slot back.
        self.on_closed: Callable[[], None] | None = None
        # The keepalive wheel's slot this connection's next ping waits in, if any.
        self._ping_slot: int | None = None

    # -- the direct path -------------------------------------------------------------

    def handle_connect(self, event: Request) -> None:
        open_socket: OpenSocket | None = getattr(self.app, "open_socket", None)
        if open_socket is None or event.path.partition("?")[0] != WS_PATH:
            super().handle_connect(event)
            return
        self.request = event
        self.handshake_initiated = True
        self._early = bytearray()
        task = self.loop.create_task(self._open(open_socket))
        task.add_done_callback(self.on_task_complete)
        self.tasks.add(task)

    async def _open(self, open_socket: OpenSocket) -> None:
        try:
            await open_socket(self)
        except Exception:
            log.exception("opening a WebSocket failed")
            self.refuse(500, b'{"error":{"code":"internal_error","message":"Try again."}}')

    def accept(self, handler: SocketHandler) -> bool:
        """Complete the upgrade; False if the request was not a valid one (answered)."""
        if self.handshake_complete or self.transport.is_closing():
            return False
        response = self.conn.accept(self.request)
        self.handshake_complete = True
        if response.status_code != 101:
            self._early = None
            self.close_sent = True
            self._respond(response)
            return False
        del response.headers["Date"]
        self.conn.send_response(response)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.handler = handler
        # websockets' parser has had the request only: frames are cut out from here on.
        self._reader = FrameReader(self.config.ws_max_size)
        self._drop_asgi_state()
        self.start_keepalive()
        # Frames sent before the 101 are read once the caller has set the connection up
        # (it is still opening it), in the order they came, before anything newer.
        self.loop.call_soon(self._read_early)
        return True

    def _read_early(self) -> None:
        early, self._early = self._early, None
        if self.disconnected:
            return
        self.resume_reading()
        if early:
            self.data_received(bytes(early))

    def _drop_asgi_state(self) -> None:
        """Free what only the ASGI path uses: a third of an idle connection's memory.

        uvicorn makes an ``asyncio.Queue`` (with its Event) and a ``writable`` Event for
        every WebSocket before the path is known, and websockets' parser generator keeps
        the upgrade request in a local variable for the connection's life; at tens of
        thousands of idle connections that is several KiB each.
        """
        self.queue = _NOWHERE  # type: ignore[assignment]
        self.writable = _NOWHERE  # type: ignore[assignment]
        self.request.headers.clear()
        self.request = None  # type: ignore[assignment]
        # Addresses kept for uvicorn's access log, which the direct path does not write.
        self.server = self.client = None

    def refuse(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        """Answer the upgrade with an HTTP error (JSON body) and close."""
        self._early = None
        if self.handshake_complete or self.transport.is_closing():
            return
        self.handshake_complete = True
        self.close_sent = True
        fields = Headers(refusal_headers(body, headers))
        self._respond(Response(status, _reason(status), fields, body))

    def _respond(self, response: Response) -> None:
        self.conn.send_response(response)
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.transport.close()

    # The socket, as a connection sees it (parley.realtime.connection.Socket).

    def write(self, data: bytes) -> None:
        # Not ``self.conn.state``: a Python property, on the path of every delivery.
        if not self.close_sent and not self.transport.is_closing():
            self.transport.write(data)

    def close(self, code: int, reason: str) -> None:
        if self.close_sent or self.disconnected or self.transport.is_closing():
            return
        self.close_sent = True
        self.conn.send_close(code, reason)
        self.transport.write(b"".join(self.conn.data_to_send()))
        if self.read_paused:
            self.resume_reading()
        # A peer that does not answer our close frame may be one that reads nothing.
        self.close_timer = self.loop.call_later(CLOSE_GRACE_S, self.abort)

    def abort(self) -> None:
        """Drop the connection now, buffered data and all (the peer gets a reset)."""
        if self.transport is not None and not self.disconnected:
            self.transport.abort()

    def pause_reading(self) -> None:
        if not self.read_paused and not self.disconnected:
            self.read_paused = True
            self.transport.pause_reading()

    def resume_reading(self) -> None:
        if self.read_paused and not self.disconnected:
            self.read_paused = False
            self.transport.resume_reading()

    # -- receiving -------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        if self._dropping:
            return
        if self._early is not None:
            # Before the upgrade is answered: websockets would parse these as frames
            # (and could answer a ping ahead of the 101). Kept, and no more is read
            # until then: at most one read's worth is held.
            self._early += data
            self.pause_reading()
            return
        reader = self._reader
        if reader is None:
            super().data_received(data)
            return
        try:
            rest = reader.feed(data, self._on_text, cut=not self.close_sent)
        except ProtocolError as exc:
            self.conn.send_close(exc.code, exc.reason)
            self.handle_parser_exception()
            return
        if rest:
            super().data_received(rest)
            if not reader.cutting and self._websockets_idle():
                reader.resume()

    def _on_text(self, text: str) -> bool:
        """A frame the reader cut: to the handler; False once the socket is closing."""
        handler = self.handler
        if handler is None:
            return False
        handler.on_text(text)
        return self.handler is not None and not self.close_sent

    def _websockets_idle(self) -> bool:
        """Whether websockets' parser may skip the next frames (the reader knows where
        the stream is; websockets knows whether it is still open)."""
        conn = self.conn
        return (
            self.handler is not None
            and not self.close_sent
            and conn.state is State.OPEN
            and conn.parser_exc is None
        )

    # -- uvicorn's hooks ---------------------------------------------------------------

    def send_receive_event_to_app(self) -> None:
        handler = self.handler
        if handler is None:
            super().send_receive_event_to_app()
            return
        data = self.frames[0] if len(self.frames) == 1 else b"".join(self.frames)
        self.frames = []
        if self.close_sent:
            return  # reads stay on until the peer answers our close frame
        if self.curr_msg_data_type != "text":
            handler.on_binary()
            return
        try:
            text = data.decode()
        except UnicodeDecodeError:
            self.conn.send_close(1007, "invalid UTF-8")
            self.handle_parser_exception()
            return
        handler.on_text(text)

    def handle_parser_exception(self) -> None:
        # A protocol error closes the socket; the answers to the frames before the bad
        # one are still queued for the end of this step, and must go out ahead of
        # the close frame (nothing may follow it).
        handler = self.handler
        if handler is None:
            super().handle_parser_exception()
            return
        if not self.close_sent and not self.write_paused:
            handler.on_writable()
        # uvicorn closes the socket here. With the rest of a too-big frame still unread,
        # the kernel answers the peer with a reset, and a client still writing that
        # frame gets a broken pipe instead of our close frame. So: the close frame, our
        # half of the TCP connection closed, and whatever the peer still sends read and
        # dropped until it closes its half (at most CLOSE_GRACE_S).
        self.transport.write(b"".join(self.conn.data_to_send()))
        self.close_sent = True
        self._dropping = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.resume_reading()
        self.close_timer = self.loop.call_later(CLOSE_GRACE_S, self.abort)

    def pause_writing(self) -> None:
        self.write_paused = True
        super().pause_writing()

    def resume_writing(self) -> None:
        self.write_paused = False
        super().resume_writing()
        if self.handler is not None:
            self.handler.on_writable()

    def connection_lost(self, exc: Exception | None) -> None:
        super().connection_lost(exc)
        self._early = None
        on_closed, self.on_closed = self.on_closed, None
        if on_closed is not None:
            on_closed()
        handler, self.handler = self.handler, None
        if handler is not None:
            handler.on_lost()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message.get("type") == "websocket.close" and self.close_timer is not None:
            # uvicorn would close() after the close timeout: abort, since a peer that
            # did not answer our close frame may be one that reads nothing at all.
            self.close_timer.cancel()
            self.close_timer = self.loop.call_later(self.close_timeout, self.abort)

    # The wait between pings is an entry on the loop's keepalive wheel, not a timer per
    # connection (parley.realtime.keepalive); the rest (the ping, its payload, the
    # timer for the pong, the timeout) is uvicorn's.

    def schedule_ping(self) -> None:
        assert self.ping_interval is not None
        self._cancel_ping()
        delay = max(0.0, self.ping_interval - self.last_ping_rtt)
        self._ping_slot = wheel_for(self.loop, self.ping_interval).add(self, delay)

    def keepalive_due(self) -> None:
        self._ping_slot = None
        self.send_keepalive_ping()

    def stop_keepalive(self) -> None:
        self._cancel_ping()
        super().stop_keepalive()

    def _cancel_ping(self) -> None:
        slot, self._ping_slot = self._ping_slot, None
        if slot is not None and self.ping_interval:
            wheel_for(self.loop, self.ping_interval).discard(self, slot)

    def keepalive_timeout(self) -> None:
        # The peer did not answer a ping: it is dead or stuck, so do not wait for it
        # to take the buffered data (and our close frame) either.
        super().keepalive_timeout()
        self.abort()


class _Nowhere:
    """Stands in for the ASGI queue and the ``writable`` Event once a socket is direct."""

    __slots__ = ()

    def put_nowait(self, _: object) -> None:
        pass

    def set(self) -> None:
        pass

    def clear(self) -> None:
        pass


_NOWHERE = _Nowhere()


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""
