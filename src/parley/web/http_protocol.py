"""uvicorn's httptools protocol with the bounds a server facing the network needs.

httptools (llhttp) has no limit of its own on a request head, and uvicorn sets no
deadline for one, so one client could make the server buffer a head of any size, hold a
socket open with a head it never finishes, or open sockets until the process runs out
of descriptors. This subclass adds, per connection:

- a bound on the request head (request line and headers): past MAX_HEAD_BYTES the
  request is answered 431 and the socket closed, at most one read past the bound is
  ever buffered;
- a deadline for the head: a request whose head is not complete HEADER_TIMEOUT after
  its first byte (or after the connection opened) gets 408 and is closed;
- a cap on concurrent connections per client address (loopback exempt, as for the rate
  limits): the connection over it is answered 429 and closed at once;
- the checks RFC 6455 asks for before a WebSocket upgrade that websockets leaves to the
  server (HTTP/1.1, one Host header) and the 426 answer naming the version it speaks;
- bytes that came in the same read as an upgrade request (frames a client sent without
  waiting for the 101) are handed to the WebSocket protocol instead of being dropped.

The connection's slot moves with the socket to the WebSocket protocol on an upgrade and
is given back when the socket closes, whichever protocol has it then.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from functools import partial
from http import HTTPStatus
from typing import Any

import httptools
import orjson
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from parley.domain.addresses import DEFAULT_IPV6_PREFIX, is_loopback, limit_key
from parley.security_headers import SECURITY_HEADER_PAIRS

# Parley's own clients send heads under 2 KiB (a session cookie or a bearer token, an
# Origin, a User-Agent). 16 KiB is eight times that, what uvicorn's h11 protocol and
# Node.js allow by default, and more than nginx passes on by default per header line
# (8 KiB): nothing a proxy in front forwards is refused here.
MAX_HEAD_BYTES = 16 * 1024
RETRY_AFTER_S = 10


@dataclass
class EdgeLimits:
    """The connection bounds of one server process, shared by its protocols."""

    # Seconds a request head may take from its first byte (or from the connection).
    header_timeout_s: float
    # Concurrent connections per client address; 0: no cap.
    per_address: int
    # An IPv6 client is counted by its network of this size, as the rate limits do.
    ipv6_prefix: int = DEFAULT_IPV6_PREFIX
    open_by_address: dict[str, int] = field(default_factory=dict)

    def counts(self, address: str) -> bool:
        """Whether connections from ``address`` are counted against the cap."""
        return bool(self.per_address) and not is_loopback(address)

    def acquire(self, address: str) -> bool:
        """Count a new connection from ``address``; False if it is over the cap."""
        if not self.counts(address):
            return True
        key = limit_key(address, self.ipv6_prefix)
        count = self.open_by_address.get(key, 0)
        if count >= self.per_address:
            return False
        self.open_by_address[key] = count + 1
        return True

    def release(self, address: str) -> None:
        if not self.counts(address):
            return
        key = limit_key(address, self.ipv6_prefix)
        count = self.open_by_address.get(key, 0) - 1
        if count > 0:
            self.open_by_address[key] = count
        else:
            self.open_by_address.pop(key, None)


class ParleyHttpProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits: EdgeLimits | None = getattr(self.app, "edge_limits", None)
        # True from the connection's start, and after each request, until a head is
        # complete: the bytes read meanwhile are head bytes.
        self._in_head = True
        self._head_bytes = 0
        # Requests completed so far: a read in which one completes is not all head.
        self._completed = 0
        self._head_timer: asyncio.TimerHandle | None = None
        # The address whose slot this connection holds (released when it closes).
        self._slot: str | None = None
        # Answered by this class (and closing): the parser's later callbacks are moot.
        self._answered = False

    # -- the connection ----------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)  # type: ignore[arg-type]
        limits = self.limits
        if limits is None:
            return
        address = self.client[0] if self.client else None
        if address is not None:
            if not limits.acquire(address):
                self._answer(
                    HTTPStatus.TOO_MANY_REQUESTS,
                    "too_many_connections",
                    "Too many connections from this address.",
                    [(b"retry-after", str(RETRY_AFTER_S).encode())],
                )
                return
            if limits.counts(address):
                # Only a counted slot is held (and, on an upgrade, handed on): a socket
                # from an exempt address keeps no closure to call when it closes.
                self._slot = address
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._release_slot()
        super().connection_lost(exc)

    def _release_slot(self) -> None:
        address, self._slot = self._slot, None
        if address is not None and self.limits is not None:
            self.limits.release(address)

    # -- reading -----------------------------------------------------------------------

    def data_received(self, data: bytes) -> None:
        # uvicorn's, plus the head bound and the bytes after an upgrade request.
        if self._answered:
            return
        self._unset_keepalive_if_required()
        started_in_head = self._in_head
        completed = self._completed
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            if self._answered:
                return
            if self._should_upgrade():
                self._upgrade(data[upgrade.args[0] :] if upgrade.args else b"")
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            if self._answered:
                return  # a callback refused the request and answered it
            msg = "Invalid HTTP request received."
            self.logger.warning(msg)
            self.send_400_response(msg)
            return
        if started_in_head and self._in_head and completed == self._completed:
            # The whole read was head and the head is still not complete.
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                self._head_too_large()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._arm_head_timer()

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._cancel_head_timer()
        if self._answered:
            return
        size = len(self.url) + sum(len(name) + len(value) + 4 for name, value in self.headers)
        if size > MAX_HEAD_BYTES:
            self._head_too_large()
            raise _Answered
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self._answered:
            return
        self._in_head = True
        self._head_bytes = 0
        self._completed += 1
        super().on_message_complete()

    def on_body(self, body: bytes) -> None:
        if not self._answered:
            super().on_body(body)

    def _head_too_large(self) -> None:
        self._answer(
            HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            f"The request's headers are over {MAX_HEAD_BYTES // 1024} KiB.",
        )

    # -- the head's deadline -----------------------------------------------------------

    def _arm_head_timer(self) -> None:
        limits = self.limits
        if self._head_timer is None and limits is not None and limits.header_timeout_s > 0:
            self._head_timer = self.loop.call_later(limits.header_timeout_s, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self._in_head and not self._answered and not self.transport.is_closing():
            self._answer(
                HTTPStatus.REQUEST_TIMEOUT,
                "request_timeout",
                "The request's headers did not arrive in time.",
            )

    # -- upgrades ----------------------------------------------------------------------

    def _upgrade(self, rest: bytes) -> None:
        """Check what RFC 6455 section 4.2.1 asks of the request, then hand it over."""
        headers = self.scope["headers"]
        hosts = sum(1 for name, _ in headers if name == b"host")
        versions = [value for name, value in headers if name == b"sec-websocket-version"]
        if self.parser.get_http_version() != "1.1" or hosts != 1:
            self._answer(
                HTTPStatus.BAD_REQUEST,
                "bad_upgrade",
                "A WebSocket upgrade needs HTTP/1.1 and one Host header.",
            )
            return
        if versions and versions != [b"13"]:
            # Section 4.2.2: answer with the version(s) this server speaks.
            self._answer(
                HTTPStatus.UPGRADE_REQUIRED,
                "unsupported_websocket_version",
                "This server speaks WebSocket version 13.",
                [(b"sec-websocket-version", b"13")],
            )
            return
        slot, self._slot = self._slot, None
        self.handle_websocket_upgrade()
        protocol = self.transport.get_protocol()
        if slot is not None and self.limits is not None:
            # The WebSocket protocol gives the slot back when the socket closes.
            protocol.on_closed = partial(self.limits.release, slot)  # type: ignore[attr-defined]
        if rest and not self.transport.is_closing():
            protocol.data_received(rest)  # type: ignore[attr-defined]
        # This protocol and its parser refer to each other; uvicorn breaks that cycle in
        # connection_lost, which an upgraded connection never calls here. Left to the
        # cyclic collector (rarely run: see parley.app), each upgrade's request state
        # piles up with the others' during a burst of connections.
        self.parser = None  # type: ignore[assignment]

    # -- answers -----------------------------------------------------------------------

    def _answer(
        self,
        status: HTTPStatus,
        code: str,
        message: str,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        """Answer with the contract's JSON error and close; nothing more is read."""
        self._answered = True
        self._cancel_head_timer()
        body = orjson.dumps({"error": {"code": code, "message": message}})
        lines = [f"HTTP/1.1 {status.value} {status.phrase}".encode()]
        lines += [name + b": " + value for name, value in self.server_state.default_headers]
        lines += [
            b"content-type: application/json",
            b"content-length: " + str(len(body)).encode(),
            b"connection: close",
        ]
        lines += [name + b": " + value for name, value in SECURITY_HEADER_PAIRS]
        lines += [name + b": " + value for name, value in headers or ()]
        self.transport.write(b"\r\n".join(lines) + b"\r\n\r\n" + body)
        self.transport.close()


class _Answered(Exception):
    """Raised from a parser callback to stop parsing a request already answered."""
