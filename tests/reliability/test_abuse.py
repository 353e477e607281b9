"""Floods and bad input: each gets a clear answer (error frame or close code), the
connection stays usable where the contract says so, and nobody else is slowed."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
import websockets

from tests.reliability.probes import masked_frame, open_raw_ws, percentile
from tests.support import ServerProcess, Socket, sign_up

pytestmark = pytest.mark.reliability

FLOOD = 600
HUMAN_MESSAGES = 40
HUMAN_PAUSE_S = 0.05
RESUME_ROOMS = 5_000


@pytest.fixture(scope="module")
def abuse_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for this module, at the contract's default limits."""
    proc = ServerProcess(tmp_path_factory.mktemp("abuse") / "data").start()
    yield proc
    proc.stop()


@pytest.fixture
async def pair(abuse_server: ServerProcess) -> Any:
    """Two new members of one new room."""
    server = abuse_server
    ana, ben = await sign_up(server.url), await sign_up(server.url)
    room = await ana.create_room("abuse")
    r = await ben.http.post(f"/api/rooms/{room['id']}/join")
    assert r.status_code == 200
    yield server, ana, ben, room
    for person in (ana, ben):
        await person.http.aclose()


async def _human_latencies(sock: Socket, room_id: int) -> list[float]:
    latencies = []
    for i in range(HUMAN_MESSAGES):
        start = time.perf_counter()
        await sock.send_message(room_id, f"human {i}")
        latencies.append(time.perf_counter() - start)
        await asyncio.sleep(HUMAN_PAUSE_S)
    return latencies


async def _flood(sock: Socket, room_id: int) -> tuple[set[str], dict[str, Any], list[str]]:
    """Send FLOOD messages without waiting; return acked ids, refusals by ref, and sent ids."""
    sent = [uuid.uuid4().hex for _ in range(FLOOD)]
    for cid in sent:
        await sock.send({"type": "send", "room_id": room_id, "body": "flood", "client_id": cid})
    acked: set[str] = set()
    refused: dict[str, Any] = {}
    while len(acked) + len(refused) < FLOOD:
        frame = await sock.next(timeout=30)
        if frame["type"] == "ack":
            acked.add(frame["client_id"])
        elif frame["type"] == "error":
            refused[frame["ref"]] = frame
    return acked, refused, sent


async def test_a_flooding_client_is_rate_limited_with_refs_and_does_not_starve_others(
    pair: Any,
) -> None:
    _, ana, ben, room = pair
    async with ana.socket() as flooder, ben.socket() as human:
        alone = await _human_latencies(human, room["id"])
        started = time.monotonic()
        flood = asyncio.create_task(_flood(flooder, room["id"]))
        during = await _human_latencies(human, room["id"])
        acked, refused, sent = await flood
        elapsed = time.monotonic() - started
        assert acked | set(refused) == set(sent)
        assert {f["code"] for f in refused.values()} == {"rate_limited"}
        assert all(f["retry_after"] >= 1 for f in refused.values())
        # Burst of 100, then 20 a second: what got through fits the contract's bucket.
        assert 100 <= len(acked) <= 100 + 20 * elapsed + 5
        # The flooder's connection stays open and answers.
        await flooder.send({"type": "ping"})
        await flooder.expect("pong")
    stored = await ana.history(room["id"], limit=200)
    assert len({m["client_id"] for m in stored} & set(refused)) == 0  # refused: not stored
    a50, a90, a99 = (percentile(alone, p) for p in (50, 90, 99))
    d50, d90, d99 = (percentile(during, p) for p in (50, 90, 99))
    print(
        f"\nflood of {FLOOD}: {len(acked)} acked, {len(refused)} rate_limited in "
        f"{elapsed:.1f}s; other member's ack latency p50/p90/p99 alone "
        f"{a50 * 1000:.1f}/{a90 * 1000:.1f}/{a99 * 1000:.1f} ms, during the flood "
        f"{d50 * 1000:.1f}/{d90 * 1000:.1f}/{d99 * 1000:.1f} ms"
    )
    # A shared 2-core machine is noisy (p99 of 40 sends is nearly their maximum): the
    # typical send must stay as fast, and none may stall.
    assert d50 < max(3 * a50, a50 + 0.05)
    assert d90 < max(5 * a90, 0.5)
    assert d99 < 3.0


async def test_bad_frames_each_get_a_clear_error_and_the_connection_stays_open(
    pair: Any,
) -> None:
    _, ana, _, room = pair
    deep = "[" * 30_000 + "]" * 30_000
    deep_field = orjson.dumps(
        {
            "type": "send",
            "room_id": room["id"],
            "client_id": "deep",
            "body": "x",
            "attachments": orjson.loads("[" * 200 + "]" * 200),
        }
    ).decode()
    many_rooms = {str(100_000 + i): 0 for i in range(RESUME_ROOMS)}
    too_many = {str(100_000 + i): 0 for i in range(RESUME_ROOMS + 1)}
    cases: list[tuple[Any, str]] = [
        ("x" * (64 * 1024 + 1), "frame_too_large"),
        (
            orjson.dumps(
                {"type": "send", "room_id": room["id"], "client_id": "big", "body": "y" * 70_000}
            ).decode(),
            "frame_too_large",
        ),
        (deep, "invalid_json"),
        (deep_field, "invalid_attachments"),
        (b"\x00\x01binary", "binary_not_supported"),
        ('{"type": "send"', "invalid_json"),
        ({"type": "resume", "cursors": too_many}, "too_many_rooms"),
        ({"type": "resume", "cursors": many_rooms}, "room_not_found"),
    ]
    async with ana.socket() as sock:
        for frame, code in cases:
            if isinstance(frame, bytes):
                await sock.ws.send(frame)
            else:
                await sock.send(frame)
            error = await sock.expect("error", timeout=30)
            assert error["code"] == code, (code, error)
        # A resume naming thousands of unknown rooms is one error frame, not thousands.
        await sock.expect("resumed", timeout=30)
        assert not [f for f in await sock.settle() if f["type"] == "error"]
        ack = await sock.send_message(room["id"], "still here")
        assert ack["message"]["body"] == "still here"


async def test_a_frame_over_one_mebibyte_closes_with_1009_and_the_server_carries_on(
    pair: Any,
) -> None:
    _, ana, _, room = pair
    async with ana.socket() as sock:
        await sock.send("z" * (1024 * 1024 + 1))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await sock.next(timeout=30)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
    async with ana.socket() as sock:
        await sock.send_message(room["id"], "after the big one")


async def test_invalid_utf8_in_a_text_frame_closes_with_1007_and_the_server_carries_on(
    pair: Any,
) -> None:
    server, ana, _, room = pair
    raw = open_raw_ws(server.port, ana.token, rcvbuf=1 << 20)
    try:
        raw.sendall(masked_frame(b'{"type": "ping", "x": "\xff\xfe"}'))
        raw.settimeout(30)
        data = b""
        while True:  # read until the server's close frame (opcode 8) and EOF
            chunk = raw.recv(65536)
            if not chunk:
                break
            data += chunk
        close_at = data.rfind(b"\x88")
        assert close_at >= 0, data[-200:]
        assert int.from_bytes(data[close_at + 2 : close_at + 4], "big") == 1007
    finally:
        raw.close()
    async with httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/healthz")).status_code == 200
    async with ana.socket() as sock:
        await sock.send_message(room["id"], "after bad utf-8")
