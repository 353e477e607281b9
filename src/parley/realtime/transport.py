"""What the gateway sees of a ``/ws`` socket, whichever transport carries it.

Two transports implement it (parley.realtime.ws_seam picks one at start):

- the fast one (parley.realtime.fast_transport), a subclass of uvicorn's
  websockets-sansio protocol that hands frames to the gateway as they are parsed and
  writes pre-framed bytes, without ASGI and without a task per connection;
- the ASGI one (parley.realtime.asgi_transport), which speaks uvicorn's stock WebSocket
  protocol through ``websocket.*`` messages: slower, but it uses only the ASGI
  interface, so it keeps working on a uvicorn whose internals changed.

Nothing here imports uvicorn: the gateway works the same over either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import Protocol

from websockets.http11 import Request

from parley.realtime.connection import Socket
from parley.security_headers import SECURITY_HEADERS

WS_PATH = "/ws"


class SocketHandler(Protocol):
    """The gateway's side of one accepted socket."""

    def on_text(self, text: str) -> None: ...

    def on_binary(self) -> None: ...

    def on_writable(self) -> None: ...

    def on_lost(self) -> None: ...


class ParleySocket(Socket, Protocol):
    """One upgrade request on ``/ws`` and, once accepted, its socket."""

    # The upgrade request: its path (with the query string) and headers.
    request: Request

    def accept(self, handler: SocketHandler) -> bool:
        """Complete the upgrade; False if the request was not a valid one (answered)."""
        ...

    def refuse(self, status: int, body: bytes, headers: Sequence[tuple[str, str]] = ()) -> None:
        """Answer the upgrade with an HTTP error (a JSON body) and close."""
        ...

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


# Called with the socket once the upgrade request is parsed; answers it with
# ``accept`` or ``refuse``.
OpenSocket = Callable[[ParleySocket], Awaitable[None]]


def refusal_headers(body: bytes, extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
    """The headers of a refused upgrade's answer, on either transport."""
    return [
        ("Content-Type", "application/json"),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        *extra,
        *SECURITY_HEADERS.items(),
    ]
