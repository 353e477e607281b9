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
- the frames that nearly every client sends (a whole masked text frame under 64 KiB, no
  extension bits) are cut out of the received bytes here; every other frame, and the
  rest of the bytes from it on, go to websockets' parser, which answers pings, closes
  and protocol errors as before. websockets' generator-based parser was a sixth of the
  server's CPU when ingesting messages;
- a peer that stops reading fills the transport buffer, and asyncio's ``close()`` would
  wait for that buffer to drain forever, so a close that the peer does not answer in
  time, and an unanswered keepalive ping, abort the socket (RST) instead.

Other WebSocket paths keep uvicorn's ASGI behaviour.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from http import HTTPStatus
from typing import Any, Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.datastructures import Headers
from websockets.http11 import Request, Response
from websockets.protocol import State

from parley.realtime.connection import CLOSE_GRACE_S, Socket
from parley.web.headers import SECURITY_HEADERS

try:
    from websockets.speedups import apply_mask
except ImportError:  # websockets built without its C extension
    from websockets.utils import apply_mask

log = logging.getLogger(__name__)

WS_PATH = "/ws"
# FIN and the text opcode, no extension bits; and the mask bit every client frame has.
_FIN_TEXT = 0x81
_MASKED = 0x80


class SocketHandler(Protocol):
    """The gateway's side of one accepted socket."""

    def on_text(self, text: str) -> None: ...

    def on_binary(self) -> None: ...

    def on_writable(self) -> None: ...

    def on_lost(self) -> None: ...


# Called with the socket once the upgrade request is parsed; answers it with
# ``accept`` or ``refuse``.
OpenSocket = Callable[["ParleySocket"], Awaitable[None]]


class ParleySocket(Socket, Protocol):
    """One upgrade request on ``/ws`` and, once accepted, its socket."""

    request: Request

    def accept(self, handler: SocketHandler) -> bool: ...

    def refuse(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None: ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


class ParleyWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.handler: SocketHandler | None = None
        self.write_paused = False
        # True while the bytes received so far end at a frame boundary that websockets'
        # parser is not waiting past: simple text frames are then cut out here.
        self._fast = False
        # The start of a simple frame whose end has not arrived yet (fast path), and how
        # long it must grow before it is worth parsing again: a frame that arrives a
        # byte at a time is then copied once, not once per byte.
        self._partial: bytearray | None = None
        self._partial_need = 0
        # Where websockets' parser is in the frame stream, while it has it.
        self._boundary: FrameBoundary | None = None
        # Bytes that came after the upgrade request, before it was answered: frames the
        # client sent without waiting for the 101, parsed once the socket is accepted
        # (None when no upgrade is waiting for its answer).
        self._early: bytearray | None = None
        # Set by the HTTP protocol that upgraded: gives the connection's slot back.
        self.on_closed: Callable[[], None] | None = None

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
        # Bytes that came with the upgrade are websockets' to parse; from the next
        # boundary on (there is none to find without them), frames are cut out here.
        self._fast = not self.conn.reader.buffer
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
        fields = Headers(
            [
                ("Content-Type", "application/json"),
                ("Content-Length", str(len(body))),
                ("Connection", "close"),
                *headers,
                *SECURITY_HEADERS.items(),
            ]
        )
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
        if self._early is not None:
            # Before the upgrade is answered: websockets would parse these as frames
            # (and could answer a ping ahead of the 101). Kept, and no more is read
            # until then: at most one read's worth is held.
            self._early += data
            self.pause_reading()
            return
        if not self._fast:
            self._to_websockets(data)
            return
        if self._partial is not None:
            self._partial += data
            if len(self._partial) < self._partial_need:
                return
            data = bytes(self._partial)
            self._partial = None
        handler = self.handler
        max_size = self.conn.max_message_size
        end = len(data)
        pos = 0
        while handler is not None and not self.close_sent:
            if end - pos < 2:
                self._keep_partial(data, pos, 2)
                return
            length = data[pos + 1] ^ _MASKED  # the mask bit set: the payload length
            if data[pos] != _FIN_TEXT or length > 126:
                break  # anything else: a control frame, a fragment, an unmasked frame...
            start = pos + 6
            if length == 126:
                if end - pos < 4:
                    self._keep_partial(data, pos, 4)
                    return
                length = int.from_bytes(data[pos + 2 : pos + 4])
                start = pos + 8
            if max_size is not None and length > max_size:
                break  # websockets closes with 1009
            stop = start + length
            if stop > end:
                self._keep_partial(data, pos, stop - pos)  # the rest is on its way
                return
            pos = stop
            if not self._hand_text(handler, apply_mask(data[start:stop], data[start - 4 : start])):
                return
            handler = self.handler
        if pos < end:
            # websockets takes over from this frame's first byte: a boundary.
            self._fast = False
            self._boundary = FrameBoundary()
            self._to_websockets(data[pos:] if pos else data)

    def _hand_text(self, handler: SocketHandler, payload: bytes) -> bool:
        """Give a text frame's payload to the handler; False if it was not UTF-8 (1007)."""
        try:
            text = payload.decode()
        except UnicodeDecodeError:
            self.conn.send_close(1007, "invalid UTF-8")
            self.handle_parser_exception()
            return False
        handler.on_text(text)
        return True

    def _keep_partial(self, data: bytes, pos: int, need: int) -> None:
        self._partial = bytearray(memoryview(data)[pos:])
        self._partial_need = need

    def _to_websockets(self, data: bytes) -> None:
        super().data_received(data)
        boundary = self._boundary
        if boundary is not None and boundary.feed(data) and self._websockets_idle():
            self._boundary = None
            self._fast = True

    def _websockets_idle(self) -> bool:
        """Whether websockets' parser holds nothing: it may skip the next frames."""
        conn = self.conn
        return (
            self.handler is not None
            and not self.close_sent
            and conn.state is State.OPEN
            and conn.parser_exc is None
            # The receiving side's state: set while a fragmented message is open.
            # (``expect_continuation_frame`` is the sending side's.)
            and conn.current_size is None
            and not conn.reader.buffer
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
        self._hand_text(handler, data)

    def handle_parser_exception(self) -> None:
        # A protocol error closes the socket; the answers to the frames before the bad
        # one are still queued for the end of this step, and must go out ahead of
        # the close frame (nothing may follow it).
        handler = self.handler
        if handler is not None and not self.close_sent and not self.write_paused:
            handler.on_writable()
        super().handle_parser_exception()

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

    def keepalive_timeout(self) -> None:
        # The peer did not answer a ping: it is dead or stuck, so do not wait for it
        # to take the buffered data (and our close frame) either.
        super().keepalive_timeout()
        self.abort()


class FrameBoundary:
    """Follows the frame boundaries in a stream of received bytes.

    It reads only the frame headers: ``feed`` says whether the bytes so far end where a
    frame ends, which is when websockets' parser has nothing half-read.
    """

    __slots__ = ("_head", "_left")

    def __init__(self) -> None:
        self._left = 0  # bytes of the current frame still to come
        self._head = b""  # the start of a header cut off at the end of the last chunk

    def feed(self, data: bytes) -> bool:
        pos = 0
        end = len(data)
        while True:
            if self._left:
                step = min(self._left, end - pos)
                self._left -= step
                pos += step
                if self._left:
                    return False
            if pos == end and not self._head:
                return True
            head = self._head + data[pos : pos + _MAX_HEADER]
            size = _frame_size(head)
            if size is None:
                self._head = head  # the chunk ended inside this header
                return False
            self._left = size - len(self._head)
            self._head = b""


_MAX_HEADER = 14


def _frame_size(head: bytes) -> int | None:
    """Header and payload length of the frame that starts ``head``; None if too short."""
    if len(head) < 2:
        return None
    length = head[1] & 0x7F
    size = 2 + (4 if head[1] & _MASKED else 0)
    if length == 126:
        if len(head) < 4:
            return None
        return size + 2 + int.from_bytes(head[2:4])
    if length == 127:
        if len(head) < 10:
            return None
        return size + 8 + int.from_bytes(head[2:10])
    return size + length


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
