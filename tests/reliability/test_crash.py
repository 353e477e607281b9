"""kill -9 at random moments while twenty clients send: nothing acked is lost, nothing
is stored twice, seq has no gap, and every client ends with the same complete history."""

from __future__ import annotations

import asyncio
import random
import time
from typing import Any

import pytest

from tests.reliability.clients import ResilientClient, assert_exactly_once, people_in_rooms
from tests.support import ServerProcess

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(600)]

CLIENTS = 20
MESSAGES_EACH = 40
ROUNDS = 3
SOAK_MESSAGES_EACH = 200
SOAK_ROUNDS = 10
DEADLINE_S = 180.0


async def _restart(launch: Any, server: ServerProcess) -> ServerProcess:
    return await asyncio.to_thread(launch, data_dir=server.data_dir, port=server.port)


async def test_kill_9_in_the_middle_of_sending_loses_and_doubles_nothing(
    launch: Any, soak: bool
) -> None:
    started = time.monotonic()
    server = launch()
    people, rooms = await people_in_rooms(server.url, CLIENTS, 2)
    print(f"\nset up at {time.monotonic() - started:.1f}s")
    total_each = SOAK_MESSAGES_EACH if soak else MESSAGES_EACH
    clients = [ResilientClient(p, rooms, rooms[i % 2], total_each) for i, p in enumerate(people)]
    stop = asyncio.Event()
    runs = [asyncio.create_task(c.run(stop)) for c in clients]
    kills: list[int] = []  # messages acked when each kill happened
    try:
        for _ in range(SOAK_ROUNDS if soak else ROUNDS):
            await asyncio.sleep(random.uniform(0.2, 1.0))
            kills.append(sum(len(c.record.acked) for c in clients))
            server.kill()
            server = await _restart(launch, server)
            print(f"restarted at {time.monotonic() - started:.1f}s")
        print(f"\nkills done at {time.monotonic() - started:.1f}s")
        stop.set()
        await asyncio.wait_for(asyncio.gather(*runs), DEADLINE_S)
        print(f"sending done at {time.monotonic() - started:.1f}s")
        for client in clients:
            await client.catch_up()

        stored = await assert_exactly_once(clients, people[0], rooms, CLIENTS * total_each)
        sessions = sum(c.record.sessions for c in clients)
        print(
            f"\n{len(kills)} kill -9 rounds (acked at each kill: {kills}); "
            f"{stored} messages stored once each, {sessions} WebSocket sessions, "
            f"every client holds all {stored}"
        )
    finally:
        stop.set()
        for run in runs:
            run.cancel()
        await asyncio.gather(*runs, return_exceptions=True)
        for person in people:
            await person.http.aclose()
