"""uvicorn's WebSocket protocol, with the two things Parley's writer needs from it.

1. ``send_batch``: every frame waiting for one connection goes out in one transport write
   (one wait for ``writable``, one syscall) instead of one ASGI ``send`` per frame.
2. ``abort``: a peer that stops reading fills the transport buffer; asyncio's ``close()``
   then waits for that buffer to drain, which never happens, so the socket, its buffers
   and the connection's tasks would live forever. Parley aborts instead (RST) when it has
   given up on a peer: when the queue bound closes it, when a keepalive ping goes
   unanswered, and when the peer does not answer our close frame in time.

Both reach the gateway as the ASGI scope extension ``parley.socket``; the gateway falls
back to plain ASGI sends when it is missing (another server).
"""

from __future__ import annotations

from typing import Any

from uvicorn.protocols.utils import ClientDisconnected
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import State

SOCKET_EXTENSION = "parley.socket"


def text_frame_header(length: int) -> bytes:
    """The header of an unmasked, final WebSocket text frame (RFC 6455 section 5.2)."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return b"\x81\x7e" + length.to_bytes(2, "big")
    return b"\x81\x7f" + length.to_bytes(8, "big")


class ParleyWebSocketProtocol(WebSocketsSansIOProtocol):
    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        if scope is not None and not self.close_sent:
            # The ASGI task is created but has not run yet: it sees this extension.
            scope["extensions"][SOCKET_EXTENSION] = {
                "send_batch": self.send_batch,
                "abort": self.abort,
            }

    async def send_batch(self, frames: list[bytes]) -> None:
        """Send text frames (UTF-8 bytes) in one write; raises ClientDisconnected."""
        await self.writable.wait()
        if self.disconnected or self.close_sent or not self.handshake_complete:
            raise ClientDisconnected()
        if self.conn.state is not State.OPEN:
            raise ClientDisconnected()
        # Framed here rather than by websockets' send_text: a server frame is a 2-10 byte
        # header plus the payload (no mask, no extension negotiated), and building it
        # directly costs 0.5 us a frame against 3.5 us (bench: 300-byte frames).
        parts: list[bytes] = []
        for frame in frames:
            parts.append(text_frame_header(len(frame)))
            parts.append(frame)
        self.transport.write(b"".join(parts))

    def abort(self) -> None:
        """Drop the connection now, buffered data and all (the peer gets a reset)."""
        if self.transport is not None and not self.disconnected:
            self.transport.abort()

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
