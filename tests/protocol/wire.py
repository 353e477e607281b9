"""A raw WebSocket client for conformance tests: hand-built frames on a plain socket.

Every byte the server sees is written here, so a test can send what no well-behaved
client library would (unmasked frames, reserved bits, a frame before the 101, a head
that never ends). Blocking sockets with timeouts: every read is bounded.
"""

from __future__ import annotations

import base64
import os
import socket
import struct
import time
from dataclasses import dataclass

import orjson

TIMEOUT_S = 5.0
TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0


def frame(
    payload: bytes,
    opcode: int = TEXT,
    *,
    fin: bool = True,
    rsv: int = 0,
    masked: bool = True,
    declared: int | None = None,
) -> bytes:
    """One client frame; ``declared`` overrides the length field (for lies about size)."""
    first = (0x80 if fin else 0) | (rsv << 4) | opcode
    length = len(payload) if declared is None else declared
    mask_bit = 0x80 if masked else 0
    if length < 126:
        header = struct.pack("!BB", first, mask_bit | length)
    elif length < 2**16:
        header = struct.pack("!BBH", first, mask_bit | 126, length)
    else:
        header = struct.pack("!BBQ", first, mask_bit | 127, length)
    if not masked:
        return header + payload
    mask = os.urandom(4)
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


PING_JSON = b'{"type":"ping"}'


def upgrade_request(
    port: int,
    token: str | None,
    *,
    version: str = "13",
    http: str = "HTTP/1.1",
    host: str | None = "default",
    extra: str = "",
    path: str = "/ws",
) -> bytes:
    lines = [f"GET {path} {http}"]
    if host == "default":
        lines.append(f"Host: 127.0.0.1:{port}")
    elif host is not None:
        lines.append(f"Host: {host}")
    lines += [
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {base64.b64encode(os.urandom(16)).decode()}",
    ]
    if version:
        lines.append(f"Sec-WebSocket-Version: {version}")
    if token:
        lines.append(f"Authorization: Bearer {token}")
    return ("\r\n".join(lines) + "\r\n" + extra + "\r\n").encode()


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes


class Wire:
    """One TCP connection to the server, read and written by hand."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT_S)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def __enter__(self) -> Wire:
        return self

    def __exit__(self, *_: object) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self) -> bool:
        chunk = self.sock.recv(1 << 16)
        if not chunk:
            return False
        self.buf += chunk
        return True

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            if not self._fill():
                raise ConnectionError("closed by the server")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def reply(self) -> Reply:
        """An HTTP response head (and its body, by Content-Length)."""
        while b"\r\n\r\n" not in self.buf:
            if not self._fill():
                raise ConnectionError(f"closed before a response: {self.buf!r}")
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        status_line, *lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = self._exact(int(headers.get("content-length", "0")))
        return Reply(int(status_line.split()[1]), headers, body)

    def open(self, token: str, **options: object) -> dict[str, object]:
        """Complete the handshake; returns the ``ready`` frame.

        Then one ping/pong round trip: the server has finished opening the connection
        (it answers frames that come while it does only once it has).
        """
        self.send(upgrade_request(self.port, token, **options))  # type: ignore[arg-type]
        reply = self.reply()
        assert reply.status == 101, reply
        ready = self.expect("ready")
        self.alive()
        return ready

    def read_frame(self) -> tuple[bool, int, bytes]:
        """(fin, opcode, payload) of the next server frame (servers never mask)."""
        first, second = self._exact(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack("!H", self._exact(2))[0]
        elif length == 127:
            length = struct.unpack("!Q", self._exact(8))[0]
        return bool(first & 0x80), first & 0x0F, self._exact(length)

    def next_json(self) -> dict[str, object]:
        """The next text frame as JSON (pongs to our pings are skipped)."""
        while True:
            _, opcode, payload = self.read_frame()
            if opcode == TEXT:
                return dict(orjson.loads(payload))
            assert opcode == PONG, (opcode, payload)

    def expect(self, kind: str) -> dict[str, object]:
        """The next JSON frame of ``kind``; presence frames and the like are skipped."""
        deadline = time.monotonic() + TIMEOUT_S
        while time.monotonic() < deadline:
            got = self.next_json()
            if got.get("type") == kind:
                return got
            assert got.get("type") != "error" or kind == "error", got
        raise TimeoutError(kind)

    def alive(self) -> None:
        """A ping/pong round trip: the connection is open and everything before it read."""
        self.send(frame(PING_JSON))
        self.expect("pong")

    def close_code(self) -> int | None:
        """Read until the server's close frame: its code (1005 if empty); None if the
        socket ended without one."""
        try:
            while True:
                _, opcode, payload = self.read_frame()
                if opcode == CLOSE:
                    return struct.unpack("!H", payload[:2])[0] if payload else 1005
        except (ConnectionError, OSError):
            return None

    def ended(self) -> bool:
        """True once the server has closed the TCP connection (EOF or reset)."""
        try:
            while self._fill():
                pass
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False
        return True
