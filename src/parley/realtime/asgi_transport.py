"""``/ws`` over plain ASGI: the fallback when uvicorn's internals are not what we expect.

uvicorn's stock WebSocket protocol parses the upgrade and the frames, answers pings and
runs the closing handshake, and talks to Parley through ASGI ``websocket.*`` messages
only. ``AsgiSocket`` turns those messages into the ParleySocket the gateway expects, so
the gateway (authentication, origin check, frames, acks, close codes) is the same code
on both transports. parley.realtime.ws_seam decides which one runs.

What it costs against the fast transport (parley.realtime.fast_transport): a task per
connection that reads, one that writes, every frame's text decoded and encoded again by
uvicorn, and uvicorn's pause of reading after every message. What it cannot do: ASGI has
no way to abort a socket, so a peer that reads nothing and does not answer our close
holds its buffer until uvicorn's close timeout and TCP give up.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from uvicorn.config import WS_PROTOCOLS
from uvicorn.importer import import_from_string
from websockets.datastructures import Headers
from websockets.http11 import Request

from parley.asgi import Receive, Scope, SendFn
from parley.realtime.transport import OpenSocket, SocketHandler, refusal_headers
from parley.realtime.wire import payloads

log = logging.getLogger(__name__)

# Bytes waiting for uvicorn to take them past which the socket counts as paused for
# writing (as the fast transport's asyncio buffer does at its high-water mark), and
# below which it takes more again.
HIGH_WATER_BYTES = 64 * 1024
LOW_WATER_BYTES = 16 * 1024
INTERNAL_ERROR = b'{"error":{"code":"internal_error","message":"Try again."}}'

Message = dict[str, Any]


class AsgiSocket:
    """One ``/ws`` upgrade request, and once accepted its socket, over ASGI messages."""

    def __init__(self, scope: Scope, receive: Receive, send: SendFn) -> None:
        query = scope.get("query_string", b"")
        path = scope["path"] + ("?" + query.decode("latin-1") if query else "")
        self.request = Request(
            path,
            Headers(
                (name.decode("latin-1"), value.decode("latin-1"))
                for name, value in scope["headers"]
            ),
        )
        self.write_paused = False
        self.handler: SocketHandler | None = None
        self._receive = receive
        self._send = send
        self._http_response = "websocket.http.response" in scope.get("extensions", {})
        # Messages for uvicorn, in order, each with its frame's size; and their total.
        self._out: deque[tuple[Message, int]] = deque()
        self._out_bytes = 0
        self._out_ready = asyncio.Event()
        # Answered (accepted or refused): nothing else may be said about the upgrade.
        self._answered = False
        # Our close (or refusal) is queued: nothing more is written.
        self._closing = False
        self._lost = False
        self._reading = asyncio.Event()
        self._reading.set()

    async def run(self, open_socket: OpenSocket) -> None:
        """The ASGI application's part for this request, from connect to disconnect."""
        if (await self._receive())["type"] != "websocket.connect":
            return
        sender = asyncio.get_running_loop().create_task(self._send_all())
        try:
            try:
                await open_socket(self)
            except Exception:
                log.exception("opening a WebSocket failed")
                self.refuse(500, INTERNAL_ERROR)
            if self.handler is not None:
                await self._read_all(self.handler)
            elif not self._answered:
                self.refuse(500, INTERNAL_ERROR)
        finally:
            self._closing = True
            self._out_ready.set()
            await sender

    # -- the socket, as the gateway sees it (parley.realtime.transport.ParleySocket) ---

    def accept(self, handler: SocketHandler) -> bool:
        if self._answered or self._lost:
            return False
        self._answered = True
        self.handler = handler
        self._queue({"type": "websocket.accept"})
        return True

    def refuse(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        if self._answered:
            return
        self._answered = True
        if not self._http_response:
            # A server without the HTTP-response extension can only say 403.
            self._queue({"type": "websocket.close", "code": 1008})
        else:
            fields = [
                (name.lower().encode("latin-1"), value.encode("latin-1"))
                for name, value in refusal_headers(body, headers)
            ]
            self._queue(
                {"type": "websocket.http.response.start", "status": status, "headers": fields}
            )
            self._queue({"type": "websocket.http.response.body", "body": body})
        self._closing = True

    def write(self, data: bytes) -> None:
        if self._closing or self._lost:
            return
        for payload in payloads(data):
            self._queue({"type": "websocket.send", "text": payload.decode()}, len(payload))
        if self._out_bytes > HIGH_WATER_BYTES:
            self.write_paused = True

    def close(self, code: int, reason: str) -> None:
        if self._closing or self._lost:
            return
        self._queue({"type": "websocket.close", "code": code, "reason": reason})
        self._closing = True
        self._reading.set()  # reads go on until the peer answers the close

    def pause_reading(self) -> None:
        self._reading.clear()

    def resume_reading(self) -> None:
        self._reading.set()

    # -- the two loops -------------------------------------------------------------------

    def _queue(self, message: Message, size: int = 0) -> None:
        self._out.append((message, size))
        self._out_bytes += size
        self._out_ready.set()

    async def _send_all(self) -> None:
        """Hand the queued messages to uvicorn in order until the socket is done."""
        out = self._out
        while True:
            if not out:
                if self._closing or self._lost:
                    return
                self._out_ready.clear()
                await self._out_ready.wait()
                continue
            message, size = out.popleft()
            self._out_bytes -= size
            try:
                await self._send(message)
            except OSError:  # ASGI: the client is gone (uvicorn's ClientDisconnected)
                out.clear()
                return
            if self.write_paused and self._out_bytes <= LOW_WATER_BYTES:
                self.write_paused = False
                if self.handler is not None and not self._closing:
                    self.handler.on_writable()

    async def _read_all(self, handler: SocketHandler) -> None:
        try:
            while True:
                await self._reading.wait()
                message = await self._receive()
                kind = message["type"]
                if kind == "websocket.disconnect":
                    break
                if kind != "websocket.receive" or self._closing:
                    continue  # after our close, only the peer's answer matters
                if message.get("text") is not None:
                    handler.on_text(message["text"])
                else:
                    handler.on_binary()
        finally:
            self._lost = True
            self._out.clear()
            self._out_ready.set()
            handler.on_lost()


async def serve_socket(
    scope: Scope, receive: Receive, send: SendFn, open_socket: OpenSocket
) -> None:
    """The ASGI app for a ``/ws`` WebSocket scope."""
    await AsgiSocket(scope, receive, send).run(open_socket)


def asgi_protocol_class() -> type[asyncio.Protocol]:
    """uvicorn's stock WebSocket protocol, giving back the edge's connection slot.

    The HTTP protocol (parley.web.http_protocol) hands the connection's per-address slot
    to the WebSocket protocol it upgrades to, as ``on_closed``; only ``connection_lost``
    (asyncio's, not uvicorn's) is overridden to call it.
    """
    stock: Any = import_from_string(WS_PROTOCOLS["auto"] or "")

    class AsgiWebSocketProtocol(stock):  # type: ignore[misc]
        on_closed: Callable[[], None] | None = None

        def connection_lost(self, exc: Exception | None) -> None:
            try:
                super().connection_lost(exc)
            finally:
                on_closed, self.on_closed = self.on_closed, None
                if on_closed is not None:
                    on_closed()

    protocol: type[asyncio.Protocol] = AsgiWebSocketProtocol
    return protocol
