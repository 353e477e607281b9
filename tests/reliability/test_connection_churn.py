"""Thousands of WebSocket connections open and close (gracefully and abruptly) while
messages flow: every message still arrives in order, and afterwards the server holds no
more sockets, tasks or memory than before (read from /proc and /metrics)."""

from __future__ import annotations

import asyncio
import contextlib
import resource
import time
import uuid
from typing import Any

import httpx
import orjson
import pytest
import websockets

from tests.reliability.probes import established_to, metric, open_fds, rss_kib
from tests.support import Person, ServerProcess, sign_up

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

USERS = 20
TOTAL = 1_000
SOAK_TOTAL = 20_000
PEAK = 500  # open at the same time
BATCH = 100  # handshakes in flight at once
SEND_EVERY_S = 0.02
SETTLE_S = 30.0


async def _open(person: Person) -> Any:
    ws = await websockets.connect(
        person.ws_url,
        additional_headers={"Authorization": f"Bearer {person.token}"},
        ping_interval=None,
        open_timeout=60,
    )
    while orjson.loads(await asyncio.wait_for(ws.recv(), 60))["type"] != "ready":
        pass
    return ws


async def _close(ws: Any, abruptly: bool) -> None:
    if abruptly:
        ws.transport.abort()  # no closing handshake: like a phone losing its network
    with contextlib.suppress(Exception):
        await asyncio.wait_for(ws.close(), 10)


async def _flow(
    sender: Person,
    receiver: Person,
    room_id: int,
    stop: asyncio.Event,
    acked: list[int],
    received: list[int],
) -> None:
    caught_up = asyncio.Event()

    def check() -> None:
        if stop.is_set() and received[-1:] == acked[-1:]:
            caught_up.set()

    async with sender.socket() as s, receiver.socket() as r:

        async def read() -> None:
            while True:
                frame = await r.next(timeout=120)
                if frame["type"] == "message":
                    received.append(frame["message"]["seq"])
                    check()

        reader = asyncio.create_task(read())
        try:
            while not stop.is_set():
                ack = await s.send_message(room_id, "flowing", uuid.uuid4().hex)
                acked.append(ack["message"]["seq"])
                await asyncio.sleep(SEND_EVERY_S)
            check()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(caught_up.wait(), 30)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await reader


async def _settled(
    http: httpx.AsyncClient, server: ServerProcess, connections: int, tasks: float
) -> tuple[float, float]:
    """Wait until the server is back to ``connections``; returns (connections, tasks)."""
    deadline = time.monotonic() + SETTLE_S
    while True:
        now_conns = await metric(http, "parley_connections")
        now_tasks = await metric(http, "parley_tasks")
        if (now_conns <= connections and now_tasks <= tasks) or time.monotonic() > deadline:
            return now_conns, now_tasks
        await asyncio.sleep(0.2)


async def test_thousands_of_connections_churning_leak_no_socket_task_or_memory(
    launch: Any, soak: bool
) -> None:
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # the server inherits it
    server = launch(env={"PARLEY_SEND_RATE": "0"})
    assert server.proc is not None
    pid = server.proc.pid
    people = list(await asyncio.gather(*(sign_up(server.url) for _ in range(USERS))))
    http = httpx.AsyncClient(base_url=server.url, timeout=30)
    try:
        room = await people[0].create_room("churn")
        for person in people[1:]:
            assert (await person.http.post(f"/api/rooms/{room['id']}/join")).status_code == 200
        stop = asyncio.Event()
        acked: list[int] = []
        received: list[int] = []
        flow = asyncio.create_task(_flow(people[0], people[1], room["id"], stop, acked, received))
        await asyncio.sleep(0.5)
        base_conns = await metric(http, "parley_connections")
        base_tasks = await metric(http, "parley_tasks")
        base_fds, base_rss = open_fds(pid), rss_kib(pid)
        base_tcp = established_to(server.port)

        total = SOAK_TOTAL if soak else TOTAL
        churners = people[2:]
        opened, peak_fds, peak_conns = 0, 0, 0.0
        started = time.monotonic()
        while opened < total:
            sockets: list[Any] = []
            while len(sockets) < PEAK and opened < total:
                batch = [churners[(opened + i) % len(churners)] for i in range(BATCH)]
                sockets += await asyncio.gather(*(_open(p) for p in batch))
                opened += len(batch)
            peak_fds = max(peak_fds, open_fds(pid))
            peak_conns = max(peak_conns, await metric(http, "parley_connections"))
            await asyncio.gather(*(_close(ws, i % 2 == 0) for i, ws in enumerate(sockets)))
        churn_s = time.monotonic() - started
        stop.set()
        await flow

        # The flow's two connections are closed too now: nothing should be left.
        conns, tasks = await _settled(http, server, 0, base_tasks)
        fds, rss, tcp = open_fds(pid), rss_kib(pid), established_to(server.port)
        print(
            f"\n{opened} connections ({PEAK} at once, half closed abruptly) in {churn_s:.1f}s "
            f"while {len(acked)} messages flowed; server fds {base_fds} -> peak {peak_fds} "
            f"-> {fds}; connections {base_conns:g} -> peak {peak_conns:g} -> {conns:g}; "
            f"tasks {base_tasks:g} -> {tasks:g}; RSS {base_rss} -> {rss} KiB"
        )
        assert received == acked, "a message was lost, repeated or reordered"
        assert peak_conns >= PEAK
        assert conns == 0
        assert tasks <= base_tasks
        assert tcp <= base_tcp
        # A few fds come and go with the database pool; a leak would be hundreds.
        assert fds <= base_fds + 10
        assert rss - base_rss < 64 * 1024
    finally:
        await http.aclose()
        for person in people:
            await person.http.aclose()
