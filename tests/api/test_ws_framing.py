"""Frames cut anywhere by TCP are each read once, whole and in order.

The server cuts the common frame (a whole masked text frame under 64 KiB) out of the
received bytes itself and hands every other frame to websockets' parser. These tests
send one stream of mixed frames (text of every length class, WebSocket pings, a
fragmented message) cut at random places, so that every hand-over between the two
happens somewhere: mid-header, mid-payload, between frames.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import struct
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from tests.reliability.probes import masked_frame, open_raw_ws
from tests.support import Person

ROUNDS = 6
SENDS_PER_ROUND = 16
READ_TIMEOUT_S = 20.0
PING, PONG = 0x9, 0xA
# What a frame over the contract's 64 KiB gets instead of an ack: an error without a
# ref, which does not wait for the acks of the sends before it.
TOO_LARGE = "frame_too_large"


def _send_frame(room_id: int, cid: str, body: str, **extra: Any) -> bytes:
    frame = {"type": "send", "room_id": room_id, "body": body, "client_id": cid, **extra}
    return masked_frame(json.dumps(frame).encode())


def _stream(rng: random.Random, room_id: int) -> tuple[bytes, list[str], int, list[bytes]]:
    """Mixed client frames; the sends' client ids in order, JSON pings, WebSocket pings."""
    parts: list[bytes] = []
    cids: list[str] = []
    json_pings = 0
    ws_pings: list[bytes] = []
    for i in range(SENDS_PER_ROUND):
        cid = uuid.uuid4().hex
        cids.append(cid)
        kind = i % 4
        if kind == 0:
            parts.append(_send_frame(room_id, cid, f"short {i}"))
        elif kind == 1:  # a 16-bit length
            parts.append(_send_frame(room_id, cid, f"medium {i} " + "m" * rng.randint(120, 900)))
        elif kind == 2:  # a 64-bit length, websockets' to parse; over the 64 KiB limit
            cids[-1] = TOO_LARGE
            parts.append(_send_frame(room_id, cid, f"long {i}", pad="p" * 70_000))
        else:
            parts.append(_send_frame(room_id, cid, f"unicode {i} é ✓ 🎉"))
        if rng.random() < 0.4:
            payload = f"ws-{i}".encode()
            ws_pings.append(payload)
            parts.append(masked_frame(payload, opcode=PING))
        if rng.random() < 0.3:
            json_pings += 1
            parts.append(masked_frame(b'{"type":', fin=False))
            parts.append(masked_frame(b' "ping"}', opcode=0x0))
    return b"".join(parts), cids, json_pings, ws_pings


def _cut(rng: random.Random, data: bytes) -> list[bytes]:
    chunks = []
    pos = 0
    while pos < len(data):
        size = rng.choice([1, 2, 3, 7, rng.randint(1, 200), rng.randint(1, 5000)])
        chunks.append(data[pos : pos + size])
        pos += size
    return chunks


def _read_frame(sock: socket.socket, buffer: bytearray) -> tuple[int, bytes]:
    """One server frame (unmasked) as (opcode, payload)."""

    def need(count: int) -> None:
        while len(buffer) < count:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            buffer.extend(chunk)

    need(2)
    opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
    start = 2
    if length == 126:
        need(4)
        length, start = struct.unpack("!H", buffer[2:4])[0], 4
    elif length == 127:
        need(10)
        length, start = struct.unpack("!Q", buffer[2:10])[0], 10
    need(start + length)
    payload = bytes(buffer[start : start + length])
    del buffer[: start + length]
    return opcode, payload


def _exchange(port: int, token: str, rng: random.Random, room_id: int) -> dict[str, Any]:
    data, cids, json_pings, ws_pings = _stream(rng, room_id)
    sock = open_raw_ws(port, token, rcvbuf=1 << 20)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for chunk in _cut(rng, data):
            sock.sendall(chunk)
            if rng.random() < 0.5:
                time.sleep(0.002)  # apart, so that the server reads them apart
        answered: list[str] = []
        pongs = 0
        ws_pongs: list[bytes] = []
        buffer = bytearray()
        sock.settimeout(READ_TIMEOUT_S)
        while len(answered) < len(cids) or pongs < json_pings or len(ws_pongs) < len(ws_pings):
            opcode, payload = _read_frame(sock, buffer)
            if opcode == PONG:
                ws_pongs.append(payload)
                continue
            if opcode != 0x1:
                continue  # the server's own keepalive pings
            frame = json.loads(payload)
            if frame["type"] == "ack":
                answered.append(frame["client_id"])
            elif frame["type"] == "pong":
                pongs += 1
            elif frame["type"] == "error":
                assert frame["code"] == TOO_LARGE, frame
                answered.append(TOO_LARGE)
        return {
            "cids": cids,
            "answered": answered,
            "ws_pings": ws_pings,
            "ws_pongs": ws_pongs,
            "pongs": pongs,
            "json_pings": json_pings,
        }
    finally:
        sock.close()


async def test_frames_cut_anywhere_are_each_read_once_whole_and_in_order(
    person_factory: Callable[[], Awaitable[Person]],
) -> None:
    for seed in range(ROUNDS):
        person = await person_factory()
        room = await person.create_room(f"framing {seed}")
        port = int(person.http.base_url.port or 0)
        seen = await asyncio.to_thread(
            _exchange, port, person.token, random.Random(seed), room["id"]
        )
        acks = [c for c in seen["answered"] if c != TOO_LARGE]
        assert acks == [c for c in seen["cids"] if c != TOO_LARGE], f"seed {seed}"
        assert seen["answered"].count(TOO_LARGE) == seen["cids"].count(TOO_LARGE)
        assert seen["ws_pongs"] == seen["ws_pings"], f"seed {seed}"
        assert seen["pongs"] == seen["json_pings"], f"seed {seed}"
        history = await person.history(room["id"], limit=SENDS_PER_ROUND)
        assert [m["client_id"] for m in history] == [c for c in seen["cids"] if c != TOO_LARGE]
        assert history[2]["body"] == "unicode 3 é ✓ 🎉"
