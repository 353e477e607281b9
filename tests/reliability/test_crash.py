"""kill -9 at random moments while twenty clients send: nothing acked is lost, nothing
is stored twice, seq has no gap, and every client ends with the same complete history."""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from typing import Any

import pytest

from tests.reliability.clients import ResilientClient, stored_history
from tests.support import Person, ServerProcess, sign_up

pytestmark = pytest.mark.reliability

CLIENTS = 20
MESSAGES_EACH = 40
ROUNDS = 3
SOAK_MESSAGES_EACH = 200
SOAK_ROUNDS = 10
DEADLINE_S = 180.0


async def _restart(launch: Any, server: ServerProcess) -> ServerProcess:
    return await asyncio.to_thread(launch, data_dir=server.data_dir, port=server.port)


async def _people_in_two_rooms(server: ServerProcess) -> tuple[list[Person], list[int]]:
    people = list(await asyncio.gather(*(sign_up(server.url) for _ in range(CLIENTS))))
    rooms = [(await people[0].create_room(f"crash-{i}"))["id"] for i in range(2)]
    for person in people[1:]:
        for room_id in rooms:
            r = await person.http.post(f"/api/rooms/{room_id}/join")
            assert r.status_code == 200, r.text
    return people, rooms


async def test_kill_9_in_the_middle_of_sending_loses_and_doubles_nothing(
    launch: Any, soak: bool
) -> None:
    started = time.monotonic()
    server = launch()
    people, rooms = await _people_in_two_rooms(server)
    print(f"\nset up at {time.monotonic() - started:.1f}s")
    total_each = SOAK_MESSAGES_EACH if soak else MESSAGES_EACH
    clients = [ResilientClient(p, rooms, rooms[i % 2], total_each) for i, p in enumerate(people)]
    stop = asyncio.Event()
    runs = [asyncio.create_task(c.run(stop)) for c in clients]
    kills: list[int] = []  # messages acked when each kill happened
    try:
        for _ in range(SOAK_ROUNDS if soak else ROUNDS):
            await asyncio.sleep(random.uniform(0.3, 1.5))
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

        histories = {room_id: await stored_history(people[0], room_id) for room_id in rooms}
        acked = {cid: where for c in clients for cid, where in c.record.acked.items()}
        assert len(acked) == CLIENTS * total_each
        for room_id, history in histories.items():
            seqs = [m["seq"] for m in history]
            assert seqs == list(range(1, len(history) + 1)), "seq has a gap or a repeat"
            cids = Counter(m["client_id"] for m in history)
            assert all(n == 1 for n in cids.values()), "a client_id was stored twice"
            for message in history:
                # Stored means acked (clients re-send until acked) with the acked seq.
                assert acked[message["client_id"]] == (room_id, message["seq"])
        stored = sum(len(h) for h in histories.values())
        assert stored == len(acked)

        for client in clients:
            record = client.record
            assert not record.repeated, f"{client.person.username} got a message twice"
            assert not record.out_of_order
            for room_id, history in histories.items():
                expected = {m["seq"]: m["client_id"] for m in history}
                assert record.seen[room_id] == expected
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
