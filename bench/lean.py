"""A lean WebSocket client for the load generator.

It speaks just enough RFC 6455 to be cheap: a raw asyncio Protocol, no per-frame objects,
client frames masked with a zero key (a valid mask that makes masking a no-op), and text
frames scanned with ``bytes.find`` for the timestamp marker instead of being parsed as JSON.

Every benchmark message body is ``@@T<19-digit monotonic ns>:<5-digit sender id>``; the
timestamp is the *scheduled* send time (open loop), so latency includes any time the
generator itself fell behind and is never flattered by coordinated omission.
"""

from __future__ import annotations

import asyncio
import base64
import os
import socket
import time
from array import array
from collections.abc import Callable

MARK = b"@@T"
TS_LEN = 19
SID_LEN = 5
ZERO_MASK = b"\x00\x00\x00\x00"

mono_ns = time.monotonic_ns


def body_for(ts_ns: int, sid: int) -> str:
    return f"@@T{ts_ns:019d}:{sid:05d}"


def frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + ZERO_MASK + payload


class Stats:
    """Counters one worker process keeps for all of its connections."""

    def __init__(self) -> None:
        self.reset(0, 0)

    def reset(self, w_start: int, w_end: int) -> None:
        self.w_start = w_start  # measurement window, monotonic ns
        self.w_end = w_end
        self.frames = 0  # marked frames received at any time
        self.arrived_in_window = 0  # marked frames that arrived inside the window
        self.lat_us = array("q")  # latency of deliveries whose send was scheduled in window
        self.acks = 0
        self.acks_in_window = 0
        self.ack_lat_us = array("q")
        self.errors = 0
        self.closed = 0
        self.sent = 0
        self.sent_in_window = 0
        self.per_msg: dict[bytes, int] | None = None  # message key -> max latency (step test)


class LeanWS(asyncio.Protocol):
    """One client connection. ``kind`` is "parley" or "sio" (Socket.IO over Engine.IO v4)."""

    def __init__(
        self,
        kind: str,
        host: str,
        port: int,
        path: str,
        stats: Stats,
        sid: int,
        sio_auth: bytes | None = None,
    ) -> None:
        self.kind = kind
        self.host = host
        self.port = port
        self.path = path
        self.stats = stats
        self.sid_tag = f"{sid:05d}".encode()
        self.sid = sid
        self.sio_auth = sio_auth
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.handshaken = False
        self.ready = asyncio.get_running_loop().create_future()
        # A connection that fails after its opener gave up must not log "never retrieved".
        self.ready.add_done_callback(lambda f: f.cancelled() or f.exception())
        self.closed = asyncio.get_running_loop().create_future()
        self.n_sent = 0
        self.ack_id = 0

    # -- connection -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16)).decode()
        req = (
            f"GET {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )
        transport.write(req.encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.stats.closed += 1
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"closed before ready: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)

    def _fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        if self.transport:
            self.transport.close()

    # -- receiving --------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        pos = 0
        if not self.handshaken:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            status = buf[: buf.find(b"\r\n")]
            if b" 101 " not in status:
                self._fail(status.decode(errors="replace"))
                return
            self.handshaken = True
            pos = end + 4
        n = len(buf)
        while n - pos >= 2:
            b1 = buf[pos + 1] & 0x7F
            if b1 < 126:
                hl = 2
            elif b1 == 126:
                if n - pos < 4:
                    break
                b1 = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                hl = 4
            else:
                if n - pos < 10:
                    break
                b1 = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                hl = 10
            end = pos + hl + b1
            if end > n:
                break
            op = buf[pos] & 0x0F
            if op <= 2:
                self.on_text(buf, pos + hl, end)
            elif op == 9:  # ping -> pong
                self.transport.write(frame(buf[pos + hl : end], 0xA))  # type: ignore[union-attr]
            elif op == 8:
                self.transport.close()  # type: ignore[union-attr]
            pos = end
        self.buf = buf[pos:] if pos < n else b""

    def on_text(self, buf: bytes, s: int, e: int) -> None:
        i = buf.find(MARK, s, e)
        if i < 0:
            self.on_other(buf, s, e)
            return
        now = mono_ns()
        st = self.stats
        sid_tag = self.sid_tag
        while i >= 0:
            j = i + 3 + TS_LEN
            ts = int(buf[i + 3 : j])
            lat = (now - ts) // 1000
            if buf[j + 1 : j + 1 + SID_LEN] == sid_tag:
                st.acks += 1
                if st.w_start <= ts < st.w_end:
                    st.ack_lat_us.append(lat)
                if st.w_start <= now < st.w_end:
                    st.acks_in_window += 1
            else:
                st.frames += 1
                if st.w_start <= ts < st.w_end:
                    st.lat_us.append(lat)
                    pm = st.per_msg
                    if pm is not None:
                        key = buf[i + 3 : j + 1 + SID_LEN]
                        if pm.get(key, -1) < lat:
                            pm[key] = lat
                if st.w_start <= now < st.w_end:
                    st.arrived_in_window += 1
            i = buf.find(MARK, j, e)

    def on_other(self, buf: bytes, s: int, e: int) -> None:
        head = buf[s : min(e, s + 40)]
        if self.kind == "sio":
            if head == b"2":  # Engine.IO ping -> pong
                self.transport.write(frame(b"3"))  # type: ignore[union-attr]
            elif head[:1] == b"0" and not self.ready.done():  # Engine.IO open
                self.transport.write(frame(b"40" + (self.sio_auth or b"")))  # type: ignore[union-attr]
            elif head[:2] == b"40" and not self.ready.done():
                self.ready.set_result(None)
            elif head[:2] == b"44":
                self._fail("socket.io connect refused")
            elif b'"error"' in head:
                self.stats.errors += 1
        else:
            if not self.ready.done() and b'"ready"' in head:
                self.ready.set_result(None)
            elif b'"error"' in head:
                self.stats.errors += 1

    # -- sending ----------------------------------------------------------------------
    def send_raw(self, payload: bytes) -> None:
        self.transport.write(frame(payload))  # type: ignore[union-attr]


async def open_ws(
    kind: str,
    host: str,
    port: int,
    path: str,
    stats: Stats,
    sid: int,
    src_ip: str | None,
    sio_auth: bytes | None = None,
    connect_timeout: float = 30.0,
) -> LeanWS:
    loop = asyncio.get_running_loop()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if src_ip:
        sock.bind((src_ip, 0))
    sock.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, (host, port)), connect_timeout)
        _, proto = await loop.create_connection(
            lambda: LeanWS(kind, host, port, path, stats, sid, sio_auth), sock=sock
        )
    except BaseException:
        sock.close()
        raise
    try:
        await asyncio.wait_for(asyncio.shield(proto.ready), connect_timeout)
    except BaseException:
        if proto.transport:
            proto.transport.close()
        raise
    return proto


SendFn = Callable[[LeanWS, int, object], None]
