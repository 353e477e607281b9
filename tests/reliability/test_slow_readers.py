"""A client that stops reading is cut off (bounded memory), the others do not notice,
and it resumes later with nothing missed."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from tests.reliability.probes import (
    established_to,
    is_reset,
    metric,
    open_raw_ws,
    percentile,
    rss_kib,
)
from tests.support import Person, ServerProcess, Socket, sign_up

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

BODY = "x" * 9000  # large frames fill the stuck peer's buffers quickly
BASELINE_MESSAGES = 100
# Sending goes on until the stuck reader's offline arrives, which is only after its
# socket is aborted (CLOSE_GRACE_S = 5 s after the 4008 close): bounded by time, since
# how many sends fit in that time depends on how fast the server stores them.
STUCK_DEADLINE_S = 30.0
NO_LOAD = {"PARLEY_SEND_RATE": "0"}


async def _timed_send(a: Socket, b: Socket, room_id: int, body: str) -> float:
    """Seconds from a send until another member has the message."""
    cid = uuid.uuid4().hex
    start = time.perf_counter()
    await a.send({"type": "send", "room_id": room_id, "body": body, "client_id": cid})
    await b.expect("message", timeout=20)
    elapsed = time.perf_counter() - start
    await a.expect("ack", client_id=cid, timeout=20)
    return elapsed


async def _history_seqs(person: Person, room_id: int, since: int = 0) -> list[int]:
    seqs: list[int] = []
    async with person.socket() as sock:
        await sock.send({"type": "resume", "cursors": {str(room_id): since}})
        while True:
            frame = await sock.next(timeout=20)
            if frame["type"] == "resumed":
                return seqs
            if frame["type"] == "message":
                seqs.append(frame["message"]["seq"])


async def _three_in_a_room(server: ServerProcess) -> tuple[Person, Person, Person, dict[str, Any]]:
    ana, ben, stuck = [await sign_up(server.url) for _ in range(3)]
    room = await ana.create_room("busy")
    for person in (ben, stuck):
        r = await person.http.post(f"/api/rooms/{room['id']}/join")
        assert r.status_code == 200, r.text
    return ana, ben, stuck, room


async def test_a_client_that_never_reads_is_disconnected_and_the_others_keep_their_latency(
    launch: Any,
) -> None:
    server = launch(env=NO_LOAD)
    assert server.proc is not None
    pid = server.proc.pid
    ana, ben, stuck, room = await _three_in_a_room(server)
    closers: list[Any] = []
    try:
        await _stuck_reader_scenario(server, pid, ana, ben, stuck, room, closers)
    finally:
        for close in closers:
            close()
        for person in (ana, ben, stuck):
            await person.http.aclose()


async def _stuck_reader_scenario(
    server: ServerProcess,
    pid: int,
    ana: Person,
    ben: Person,
    stuck: Person,
    room: dict[str, Any],
    closers: list[Any],
) -> None:
    async with ana.socket() as a, ben.socket() as b:
        baseline = [await _timed_send(a, b, room["id"], BODY) for _ in range(BASELINE_MESSAGES)]
        sockets_before = established_to(server.port)
        rss_before = rss_kib(pid)
        async with httpx.AsyncClient(base_url=server.url) as http:
            conns_before = await metric(http, "parley_connections")
            tasks_before = await metric(http, "parley_tasks")

        raw = open_raw_ws(server.port, stuck.token)
        closers.append(raw.close)
        await b.expect("presence", user_id=stuck.id, status="online", timeout=20)
        loaded: list[float] = []
        offline_after = None
        deadline = time.monotonic() + STUCK_DEADLINE_S
        while time.monotonic() < deadline:
            loaded.append(await _timed_send(a, b, room["id"], BODY))
            if any(f.get("type") == "presence" and f.get("status") == "offline" for f in b.backlog):
                offline_after = len(loaded)
                break
        assert offline_after is not None, "the stuck reader was never disconnected"
        rss_peak = rss_kib(pid)
        # Its socket is really gone on the server side, not just forgotten by the app.
        assert is_reset(raw)
        raw.close()
        assert established_to(server.port) <= sockets_before
        # Keep sending a little: the others are still served normally.
        after = [await _timed_send(a, b, room["id"], BODY) for _ in range(50)]
        # Its writer and reader tasks are gone too, not parked on a dead socket.
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert await metric(http, "parley_connections") == conns_before
            tasks_after = await metric(http, "parley_tasks")
        assert tasks_after <= tasks_before

    p50, p99 = percentile(baseline, 50), percentile(baseline, 99)
    l50, l99 = percentile(loaded + after, 50), percentile(loaded + after, 99)
    print(
        f"\nstuck reader cut off after {offline_after} messages of 9 KB; "
        f"latency without: p50 {p50 * 1000:.1f} ms p99 {p99 * 1000:.1f} ms; "
        f"with: p50 {l50 * 1000:.1f} ms p99 {l99 * 1000:.1f} ms; "
        f"server RSS {rss_before} -> {rss_peak} KiB; tasks {tasks_before:g} -> {tasks_after:g}"
    )
    # A shared 2-core machine is noisy: allow slack, but a stall behind the stuck peer
    # would last seconds (its 5 s close grace).
    assert l50 < max(3 * p50, p50 + 0.02)
    assert l99 < max(5 * p99, p99 + 0.5)
    assert rss_peak - rss_before < 64 * 1024

    # Later, the same person resumes from nothing and gets the whole room, in order.
    seqs = await _history_seqs(stuck, room["id"])
    total = BASELINE_MESSAGES + len(loaded) + len(after)
    assert seqs == list(range(1, total + 1))
